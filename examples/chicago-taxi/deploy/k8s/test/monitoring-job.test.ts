/**
 * The daily monitoring job end to end, without a cluster: its init container's script runs here
 * against a stand-in for the cloud CLI over a folder laid out like the bucket (the shipper's
 * `dt=YYYY-MM-DD/` partitions of predictions and of feedback), and the quality container's own
 * command then runs the image's monitor CLI over what the script fetched, with the floors of the
 * job's ConfigMap. Paths of the pod are mapped into a temporary directory.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtMonitorCli } from '../../../test/helpers/build.js';
import { contract } from '../../../src/model/contract.js';
import { synthesize } from '../app.js';
import { driftComponent } from '../names.js';
import { configMaps, qualityContainerName } from '../workload.js';
import { all, find, one } from './support.js';

const s = all[0]!;
const root = mkdtempSync(join(tmpdir(), 'monitoring-job-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const day = (daysAgo: number): string =>
  new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);

/** A stand-in for `gcloud storage cat <gs://...>*` and `aws s3 cp --recursive <s3://...> <dir>`. */
function standInCli(bucketDir: string): string {
  const bin = join(root, 'bin');
  mkdirSync(bin, { recursive: true });
  const local = `p="\${src#*://}"; p="${bucketDir}/\${p#*/}"`;
  writeFileSync(
    join(bin, 'gcloud'),
    [
      '#!/bin/sh',
      '[ "$1 $2" = "storage cat" ] || { echo "unexpected: $*" >&2; exit 2; }',
      'src="${3%\\*}"',
      local,
      'ls "$p"* >/dev/null 2>&1 || { echo "ERROR: $3 matched no objects" >&2; exit 1; }',
      'cat "$p"*',
    ].join('\n'),
  );
  writeFileSync(
    join(bin, 'aws'),
    [
      '#!/bin/sh',
      '[ "$1 $2 $3" = "s3 cp --recursive" ] || { echo "unexpected: $*" >&2; exit 2; }',
      'src="$5"; dest="$6"',
      local,
      '[ -d "$p" ] || { echo "no objects under $src" >&2; exit 1; }',
      'mkdir -p "$dest" && cp "$p"* "$dest"',
    ].join('\n'),
  );
  chmodSync(join(bin, 'gcloud'), 0o755);
  chmodSync(join(bin, 'aws'), 0o755);
  return bin;
}

function runFetch(bucketDir: string, pod: string): { status: number | null; stderr: string } {
  const job = (one(s, 'CronJob') as any).spec.jobTemplate.spec.template.spec;
  const init = job.initContainers[0];
  const env = Object.fromEntries(init.env.map((e: any) => [e.name, String(e.value ?? '')]));
  // The pod's /data and /tmp, mapped here.
  const script = (init.command.at(-1) as string).replace(
    /(?<![\w/.-])\/(data|tmp)\b/g,
    (_m, dir: string) => `${pod}/${dir}`,
  );
  mkdirSync(join(pod, 'data'), { recursive: true });
  mkdirSync(join(pod, 'tmp'), { recursive: true });
  const run = spawnSync('/bin/sh', ['-ec', script], {
    encoding: 'utf8',
    env: { ...env, PATH: `${standInCli(bucketDir)}:${process.env.PATH}`, HOME: join(pod, 'tmp') },
  });
  return { status: run.status, stderr: run.stderr };
}

function writeDay(bucketDir: string, prefix: string, d: string, lines: object[]): void {
  const dir = join(bucketDir, prefix, `dt=${d}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'part-0.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

/** Predictions every one of which the truth contradicts: far below any floor. */
function wrongPredictions(count: number, d: string) {
  const t0 = Date.parse(`${d}T01:00:00Z`);
  const predictions: object[] = [];
  const feedback: object[] = [];
  for (let i = 0; i < count; i++) {
    const id = `req-${d}-${i}`;
    const regression = contract.task === 'regression';
    const [first, second] = [contract.labels[0]!, contract.labels[1] ?? contract.labels[0]!];
    predictions.push({
      time: new Date(t0 + i * 1000).toISOString(),
      requestId: id,
      predictionId: id,
      inputs: {},
      outputs: regression
        ? { prediction: 1000 + i }
        : { label: first, probabilities: { [first]: 0.99, [second]: 0.01 } },
    });
    feedback.push({
      time: new Date(t0 + i * 1000 + 500).toISOString(),
      predictionId: id,
      ...(regression ? { value: -i } : { label: second }),
    });
  }
  return { predictions, feedback };
}

describe.runIf(s.env.drift.enabled)('the monitoring job’s fetch (init container script)', () => {
  it("refuses to run without yesterday's prediction log, naming the folder", () => {
    const bucket = join(root, 'empty-bucket');
    mkdirSync(bucket, { recursive: true });
    const run = runFetch(bucket, join(root, 'pod-empty'));
    expect(run.status).toBe(3);
    expect(run.stderr).toContain(`no prediction log for ${day(1)}`);
  });
});

describe.runIf(s.env.quality.enabled)('the monitoring job’s quality check', () => {
  const bucket = join(root, 'bucket');
  const pod = join(root, 'pod');
  const prefix = new URL(s.env.plan.predictionLogUri).pathname.slice(1);

  it('fetches the last days of predictions and feedback, and only those', () => {
    const { predictions, feedback } = wrongPredictions(400, day(2));
    writeDay(bucket, prefix, day(1), predictions.slice(0, 10));
    writeDay(bucket, prefix, day(2), predictions);
    writeDay(bucket, `${prefix}feedback/`, day(2), feedback);
    // Outside the window: never fetched.
    writeDay(bucket, prefix, day(s.env.quality.lookbackDays + 2), predictions);
    const run = runFetch(bucket, pod);
    expect(run.status, run.stderr).toBe(0);
    expect(readdirSync(join(pod, 'data/logs/predictions')).sort()).toEqual(
      [`${day(2)}.jsonl`, `${day(1)}.jsonl`].sort(),
    );
    expect(readdirSync(join(pod, 'data/logs/feedback'))).toEqual([`${day(2)}.jsonl`]);
    // Yesterday's, for the drift check beside it.
    expect(existsSync(join(pod, 'data/predictions.jsonl'))).toBe(true);
  });

  it('runs the monitor CLI with its own arguments and the ConfigMap’s floors, failing on a breach', () => {
    const job = (one(s, 'CronJob') as any).spec.jobTemplate.spec.template.spec;
    const c = job.containers.find((x: any) => x.name === qualityContainerName);
    const floorsArg: string = c.command[c.command.indexOf('--metrics') + 1];
    const mount = c.volumeMounts.find((m: any) => floorsArg.startsWith(`${m.mountPath}/`));
    expect(mount.readOnly).toBe(true);
    expect(job.volumes.find((v: any) => v.name === mount.name).configMap.name).toBe(
      configMaps.qualityFloors,
    );
    const cm = one(s, 'ConfigMap', configMaps.qualityFloors) as any;
    const floors = join(pod, 'floors');
    mkdirSync(floors, { recursive: true });
    for (const [key, text] of Object.entries(cm.data as Record<string, string>))
      writeFileSync(join(floors, key), text);
    const args = (c.command as string[])
      .slice(2)
      .map((a) => a.replace(/^\/data\//, `${pod}/data/`).replace(mount.mountPath, floors));
    const run = spawnSync(process.execPath, [builtMonitorCli, ...args, '--json'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.stderr).toBe('');
    // 400 joined predictions, every one wrong: a breach, which the job's failure policy keeps.
    expect(run.status, run.stdout).toBe(1);
    const failJob = (one(s, 'CronJob') as any).spec.jobTemplate.spec.podFailurePolicy.rules.find(
      (r: any) => r.onExitCodes?.containerName === qualityContainerName,
    );
    expect(failJob).toMatchObject({ action: 'FailJob', onExitCodes: { values: [1] } });
  });
});

describe.runIf(s.env.drift.enabled)('the monitoring job’s retraining dispatch', () => {
  const repository = 'acme-ml/training';
  const githubApiEgress = [{ cidr: '140.82.112.0/20' }];

  it('is off by default: no token, no variable, no way to GitHub', () => {
    const job = (one(s, 'CronJob') as any).spec.jobTemplate.spec.template.spec;
    const names = job.containers.flatMap((c: any) => c.env.map((v: any) => v.name));
    expect(names).not.toContain('RETRAIN_DISPATCH_REPOSITORY');
    expect(job.volumes.map((v: any) => v.name)).not.toContain('retrain-token');
  });

  it('gives both checks the repository and the token Secret, and opens only the GitHub API', () => {
    const e = synthesize(s.env.id, { quality: { retrain: { repository, githubApiEgress } } });
    const job = (one(e, 'CronJob') as any).spec.jobTemplate.spec.template.spec;
    for (const c of job.containers) {
      const env = Object.fromEntries(c.env.map((v: any) => [v.name, v.value]));
      expect(env.RETRAIN_DISPATCH_REPOSITORY, c.name).toBe(repository);
      const tokenDir = String(env.RETRAIN_DISPATCH_TOKEN_FILE).replace(/\/token$/, '');
      const mount = c.volumeMounts.find((m: any) => m.mountPath === tokenDir);
      expect(mount?.readOnly, c.name).toBe(true);
      const volume = job.volumes.find((v: any) => v.name === mount.name);
      expect(volume.secret.secretName).toBe(e.env.quality.retrain.tokenSecret);
    }
    const egress = find(e, 'NetworkPolicy')
      .filter((p: any) => p.metadata.labels?.['app.kubernetes.io/component'] === driftComponent)
      .flatMap((p: any) => p.spec.egress);
    expect(egress).toContainEqual({
      to: [{ ipBlock: { cidr: '140.82.112.0/20' } }],
      ports: [{ protocol: 'TCP', port: 443 }],
    });
    // The service's own pods get no such way out.
    const service = find(e, 'NetworkPolicy')
      .filter((p: any) => p.metadata.labels?.['app.kubernetes.io/component'] !== driftComponent)
      .flatMap((p: any) => p.spec.egress ?? []);
    expect(JSON.stringify(service)).not.toContain('140.82.112.0/20');
  });

  it('refuses a repository without the GitHub API ranges, naming the setting', () => {
    expect(() => synthesize(s.env.id, { quality: { retrain: { repository } } })).toThrow(
      /quality.retrain.githubApiEgress is empty/,
    );
  });
});
