/**
 * The prediction log's way from the server to the drift job, as the manifests describe it: the
 * sidecar tails exactly the file the server writes and ships it to exactly the environment's
 * `predictionLogUri`, one `dt=` folder per day; the drift job fetches that day's folder under its
 * own identity and runs the drift CLI on it with the baseline from its ConfigMap (run here, with
 * the CronJob's own arguments, against the CLI the image runs).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { afterAll, describe, expect, it } from 'vitest';
import { builtDriftCli } from '../../../test/helpers/build.js';
import { model, runtime, service } from '../../plan.js';
import { imageReference, pinnedReference, vectorImage } from '../images.js';
import { k8sNames } from '../names.js';
import {
  dayPartition,
  objectFolder,
  projectModelDir,
  shipperConfigKey,
} from '../prediction-logs.js';
import { configMaps, logShipperContainerName, terminationGraceSeconds } from '../workload.js';
import { all, find, one, workload } from './support.js';

const envs = all.map((s) => [s.env.id, s] as const);

const envOf = (c: IContainer): Record<string, string> =>
  Object.fromEntries((c.env ?? []).map((e) => [e.name, String(e.value)]));

/** The path a container sees for `path` of a volume mounted elsewhere in another container. */
function throughMount(
  path: string,
  from: IContainer,
  to: IContainer,
): { volume: string; path: string; readOnly: boolean } | undefined {
  const source = (from.volumeMounts ?? []).find((m) => path.startsWith(`${m.mountPath}/`));
  if (!source) return undefined;
  const target = (to.volumeMounts ?? []).find((m) => m.name === source.name);
  if (!target) return undefined;
  return {
    volume: source.name,
    path: posix.join(target.mountPath, path.slice(source.mountPath.length + 1)),
    readOnly: target.readOnly === true,
  };
}

/** A shell-style glob (`*` only) as a regular expression. */
const glob = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*')}$`,
  );

describe.each(envs)('%s', (_id, s) => {
  const deployment = workload(s) as any;
  const pod = deployment.spec.template.spec;
  const server: IContainer = pod.containers[0];
  const sidecars: IContainer[] = (pod.initContainers ?? []).filter(
    (c: IContainer) => c.restartPolicy === 'Always',
  );
  const shipper = sidecars[0]!;
  const configMap = one(s, 'ConfigMap', configMaps.logShipper) as any;
  const config = JSON.parse(configMap.data[shipperConfigKey]);

  it('runs one log shipper beside the server: a native sidecar, pinned by digest, small, read-only', () => {
    expect(sidecars.map((c) => c.name)).toEqual([logShipperContainerName]);
    expect(shipper.image).toBe(imageReference(vectorImage));
    expect(shipper.image).toMatch(pinnedReference);
    expect(shipper.resources?.requests).toEqual(shipper.resources?.limits);
    expect(parseInt(String(shipper.resources?.limits?.cpu), 10)).toBeLessThanOrEqual(250);
    expect(shipper.securityContext).toEqual(server.securityContext);
    expect(shipper.ports ?? []).toEqual([]);
    // It starts after the model is fetched and stops after the server (sidecar ordering).
    expect(pod.initContainers.map((c: IContainer) => c.name)).toEqual([
      'fetch-model',
      logShipperContainerName,
    ]);
  });

  it('tails exactly the file the server writes, on the shared /tmp, without write access to it', () => {
    const logPath = envOf(server).PREDICTION_LOG_PATH!;
    const seen = throughMount(logPath, server, shipper);
    expect(seen, 'the sidecar mounts the volume the server writes its log to').toBeDefined();
    expect(seen!.readOnly).toBe(true);
    expect(pod.volumes.find((v: any) => v.name === seen!.volume).emptyDir).toBeDefined();
    const include: string[] = config.sources.prediction_log.include;
    expect(include.some((pattern) => glob(pattern).test(seen!.path))).toBe(true);
    expect(config.sources.prediction_log).toMatchObject({ type: 'file', read_from: 'beginning' });
    // Its checkpoints go to a writable volume of its own.
    const data = (shipper.volumeMounts ?? []).find((m) => m.mountPath === config.data_dir);
    expect(data?.readOnly ?? false).toBe(false);
    expect(data?.name).not.toBe(seen!.volume);
  });

  it("ships to exactly the environment's predictionLogUri, one dt=YYYY-MM-DD folder per day, lines unchanged", () => {
    const folder = objectFolder(s.env.plan.predictionLogUri);
    expect(Object.keys(config.sinks)).toEqual([
      'prediction_log_bucket',
      'feedback_log_bucket',
      'challenger_log_bucket',
    ]);
    const sink = config.sinks.prediction_log_bucket as any;
    const feedback = config.sinks.feedback_log_bucket as any;
    const challenger = config.sinks.challenger_log_bucket as any;
    expect(sink.type).toBe(s.env.cloud === 'gcp' ? 'gcp_cloud_storage' : 'aws_s3');
    expect(sink.inputs).toEqual(['prediction_log']);
    expect(feedback.inputs).toEqual(['feedback_log']);
    expect(config.sources.prediction_log.include).toEqual([
      '/var/run/predictions/predictions.jsonl*',
    ]);
    expect(config.sources.feedback_log.include).toEqual(['/var/run/predictions/feedback.jsonl*']);
    expect(challenger.inputs).toEqual(['challenger_log']);
    expect(config.sources.challenger_log.include).toEqual([
      '/var/run/predictions/challenger.jsonl*',
    ]);
    // The server writes the challenger's log where the shipper reads it.
    expect(envOf(server).CHALLENGER_LOG_PATH).toBe('/tmp/challenger.jsonl');
    expect(sink.bucket).toBe(folder.bucket);
    expect(sink.bucket).toBe(s.env.modelBucket);
    expect(feedback.bucket).toBe(folder.bucket);
    expect(sink.key_prefix).toBe(`${folder.prefix}${dayPartition}`);
    expect(sink.key_prefix).toBe(`${folder.prefix}dt=%F/`);
    // Ground truth beside it, in a folder the drift job's dt=... listing never reads.
    expect(feedback.key_prefix).toBe(`${folder.prefix}feedback/dt=%F/`);
    expect(challenger.key_prefix).toBe(`${folder.prefix}challenger/dt=%F/`);
    for (const other of [feedback, challenger]) {
      expect({ ...other, inputs: undefined, key_prefix: undefined }).toEqual({
        ...sink,
        inputs: undefined,
        key_prefix: undefined,
      });
    }
    expect(sink).toMatchObject({
      compression: 'none',
      encoding: { codec: 'text' },
      framing: { method: 'newline_delimited' },
      acknowledgements: { enabled: true },
      // The identity may create objects, not read bucket metadata.
      healthcheck: { enabled: false },
    });
    if (s.env.cloud === 'aws') {
      expect(sink.region).toBe(s.env.region);
      expect(envOf(shipper)).toMatchObject({
        AWS_REGION: s.env.region,
        AWS_EC2_METADATA_DISABLED: 'true',
      });
    }
  });

  it('reads its configuration from the ConfigMap the chart writes, in the pod namespace', () => {
    expect(configMap.metadata.namespace).toBe(s.env.namespace);
    const mount = (shipper.volumeMounts ?? []).find(
      (m) =>
        pod.volumes.find((v: any) => v.name === m.name)?.configMap?.name === configMaps.logShipper,
    );
    expect(mount?.readOnly).toBe(true);
    expect(shipper.args).toContain(`${mount!.mountPath}/${shipperConfigKey}`);
  });

  it('gets time to upload what is left after the server stopped', () => {
    const limit = Number(
      shipper.args![shipper.args!.indexOf('--graceful-shutdown-limit-secs') + 1],
    );
    expect(limit).toBe(s.env.logShipper.flushSeconds);
    const grace = pod.terminationGracePeriodSeconds;
    expect(grace).toBe(terminationGraceSeconds(s.env));
    expect(grace).toBeGreaterThan(
      s.env.shutdown.preStopSeconds + s.env.shutdown.drainSeconds + limit,
    );
  });

  it.runIf(s.env.drift.enabled)(
    "fetches yesterday's folder of the same prefix in the drift job, under the drift service account",
    () => {
      const cron = one(s, 'CronJob') as any;
      const job = cron.spec.jobTemplate.spec.template.spec;
      expect(job.serviceAccountName).toBe(service.driftServiceAccount);
      const init: IContainer[] = job.initContainers;
      expect(init.map((c) => c.name)).toEqual(['fetch-log']);
      expect(envOf(init[0]!).PREDICTION_LOG_URI).toBe(s.env.plan.predictionLogUri);
      const script = init[0]!.command!.join('\n');
      // The day the shipper names `%F` (YYYY-MM-DD, UTC) is the day the job computes.
      expect(script).toContain('day="$(date -u -d yesterday +%F)"');
      expect(script).toContain('${PREDICTION_LOG_URI}dt=${day}/');
      expect(dayPartition).toBe('dt=%F/');
      const config = JSON.parse(
        (one(s, 'ConfigMap', configMaps.logShipper) as any).data[shipperConfigKey],
      );
      expect(config.timezone).toBe('UTC');
    },
  );
});

// Only a model with a drift baseline has a drift job (deploy/k8s/config.ts `drift.enabled`).
describe.runIf(all[0]!.env.drift.enabled)('the drift job', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drift-job-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(envs)('%s: ships the baseline beside the model in its ConfigMap', (_id, s) => {
    const cm = one(s, 'ConfigMap', configMaps.driftBaseline) as any;
    expect(cm.metadata.name).toBe(k8sNames.driftCronJob);
    const file = (model.artifacts as Record<string, string | undefined>).driftBaseline!;
    expect(Object.keys(cm.data)).toEqual([posix.basename(file)]);
    expect(cm.data[posix.basename(file)]).toBe(readFileSync(join(projectModelDir(), file), 'utf8'));
    expect(projectModelDir().endsWith(runtime.modelDir)).toBe(true);
  });

  it("runs the drift CLI the image ships with the CronJob's own arguments, the log and the ConfigMap's baseline", () => {
    const s = all[0]!;
    const job = (one(s, 'CronJob') as any).spec.jobTemplate.spec.template.spec;
    const command: string[] = job.containers[0].command;
    expect(command.slice(0, 2)).toEqual(['node', 'dist/src/cli/drift.js']);
    // Paths of the pod, mapped into a directory here: the log the init container writes, the
    // baseline the ConfigMap holds.
    const cm = one(s, 'ConfigMap', configMaps.driftBaseline) as any;
    const mounts: Record<string, string> = {};
    for (const m of job.containers[0].volumeMounts) mounts[m.mountPath] = join(dir, m.name);
    const local = (p: string): string => {
      const mount = Object.keys(mounts).find((m) => p.startsWith(`${m}/`));
      return mount ? join(mounts[mount]!, p.slice(mount.length + 1)) : p;
    };
    const args = command.slice(2).map(local);
    const baselineArg = command[command.indexOf('--baseline') + 1]!;
    for (const [key, content] of Object.entries(cm.data as Record<string, string>)) {
      const path = local(`${posix.dirname(baselineArg)}/${key}`);
      mkdirp(path);
      writeFileSync(path, content);
    }
    const log = args[args.indexOf('--log') + 1]!;
    mkdirp(log);
    // Too few predictions for a verdict: the run only has to accept its arguments and baseline.
    writeFileSync(log, `${JSON.stringify({ requestId: 'r', inputs: {} })}\n`);
    const run = spawnSync(process.execPath, [builtDriftCli, ...args, '--json'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'insufficient_data', lines: 1 });
  });

  it.each(envs)('%s: mounts that baseline read-only and runs without the model', (_id, s) => {
    const job = (one(s, 'CronJob') as any).spec.jobTemplate.spec.template.spec;
    const c = job.containers[0];
    const baselineArg = c.command[c.command.indexOf('--baseline') + 1];
    const mount = c.volumeMounts.find((m: any) => baselineArg.startsWith(`${m.mountPath}/`));
    expect(mount.readOnly).toBe(true);
    expect(job.volumes.find((v: any) => v.name === mount.name).configMap.name).toBe(
      configMaps.driftBaseline,
    );
    expect(find(s, 'ConfigMap', configMaps.driftBaseline)[0]!.metadata.namespace).toBe(
      s.env.namespace,
    );
    expect(c.command).not.toContain('--model');
  });
});

function mkdirp(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
}
