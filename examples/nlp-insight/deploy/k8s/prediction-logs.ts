/**
 * The prediction log's way from the inference pods to the drift job.
 *
 * The server appends one JSON line per prediction to `PREDICTION_LOG_PATH` on the pod's `/tmp`
 * emptyDir. A sidecar (Vector) tails that file, read-only, and uploads it in batches to the
 * environment's `predictionLogUri` (deploy/plan.ts), one `dt=YYYY-MM-DD/` folder per UTC day, with
 * the pod's workload identity: the cloud stack lets that identity create objects under the prefix
 * and nothing else there (no read, no list, no delete). The drift job, under an identity of its own
 * that may read and list that prefix and nothing else, concatenates yesterday's folder and compares
 * it with the model's drift baseline, which this app ships in a ConfigMap: it never reads the model.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtime } from '../plan.js';
import { type K8sEnvironment, driftBaselineFile, metricsFile } from './config.js';

/** Where the server writes its prediction log (`PREDICTION_LOG_PATH`), on the pod's /tmp. */
export const predictionLogPath = '/tmp/predictions.jsonl';
/** And the ground truth POST /feedback accepted (`FEEDBACK_LOG_PATH`), beside it. */
export const feedbackLogPath = '/tmp/feedback.jsonl';
/** The feedback's folder inside the prediction log folder (the same create-only grant covers it). */
export const feedbackFolder = 'feedback/';
/** The challenger's outputs in shadow (`CHALLENGER_LOG_PATH`), beside them too, when it runs one. */
export const challengerLogPath = '/tmp/challenger.jsonl';
export const challengerFolder = 'challenger/';

/** Where the shipper sees the pod's /tmp: read-only. */
export const shipperSourceMount = '/var/run/predictions';
/** The shipper's own writable directory: its checkpoints (how far each file was shipped). */
export const shipperDataMount = '/tmp';
/** Its configuration, from the ConfigMap. */
export const shipperConfigMount = '/etc/vector';
export const shipperConfigKey = 'vector.json';

/** Where the drift job finds the baseline (the ConfigMap) and the log (fetched by its init container). */
export const baselineMount = '/baseline';

/** A `gs://bucket/prefix/` or `s3://bucket/prefix/` folder, parsed. */
export interface ObjectFolder {
  readonly scheme: 'gs' | 's3';
  readonly bucket: string;
  /** Ends with `/`, e.g. `prediction-logs/`. */
  readonly prefix: string;
}

export function objectFolder(uri: string): ObjectFolder {
  const m = /^(gs|s3):\/\/([^/]+)\/((?:[^/]+\/)+)$/.exec(uri);
  if (!m) throw new Error(`"${uri}" is not a gs:// or s3:// folder (bucket/prefix/)`);
  return { scheme: m[1] as 'gs' | 's3', bucket: m[2]!, prefix: m[3]! };
}

/** Object key prefix of one day's partition: Vector fills `%F` from the event time (UTC). */
export const dayPartition = 'dt=%F/';

/** Every file the shipper tails of a log: the log and, should the server rotate it, its renamed parts. */
export function shippedFiles(path: string = predictionLogPath): string[] {
  if (posix.dirname(path) !== '/tmp') {
    throw new Error(`the log ${path} must be on the pod's /tmp`);
  }
  return [`${shipperSourceMount}/${posix.basename(path)}*`];
}

/**
 * Vector's configuration (JSON): a `file` source on each log (predictions, feedback, the
 * challenger's outputs), a `gcp_cloud_storage` or `aws_s3` sink each to the environment's
 * prediction log folder (feedback in its `feedback/` folder, the challenger in `challenger/`). Lines go out as written (text codec, newline
 * framing, no compression), so the drift job reads the objects back as JSONL. Acknowledgements: a
 * line counts as shipped, and its checkpoint moves, only once its batch is in the bucket. The
 * sinks' health checks are off: they read bucket metadata, which the create-only identity may not.
 */
export function vectorConfig(env: K8sEnvironment): Record<string, unknown> {
  const folder = objectFolder(env.plan.predictionLogUri);
  const common = {
    bucket: folder.bucket,
    filename_extension: 'jsonl',
    filename_append_uuid: true,
    compression: 'none',
    encoding: { codec: 'text' },
    framing: { method: 'newline_delimited' },
    batch: { timeout_secs: env.logShipper.batchSeconds },
    acknowledgements: { enabled: true },
    healthcheck: { enabled: false },
  };
  const sink = (input: string, prefix: string) => ({
    ...(folder.scheme === 'gs'
      ? { type: 'gcp_cloud_storage' }
      : { type: 'aws_s3', region: env.region }),
    inputs: [input],
    ...common,
    key_prefix: `${prefix}${dayPartition}`,
  });
  const source = (path: string) => ({
    type: 'file',
    include: shippedFiles(path),
    read_from: 'beginning',
    // The server takes request bodies up to 1 MiB; a line holds one row of one.
    max_line_bytes: 2 * 1024 * 1024,
  });
  return {
    data_dir: shipperDataMount,
    // `%F` in the key prefix is the UTC day, the day the drift job computes with `date -u`.
    timezone: 'UTC',
    sources: {
      prediction_log: source(predictionLogPath),
      feedback_log: source(feedbackLogPath),
      challenger_log: source(challengerLogPath),
    },
    sinks: {
      prediction_log_bucket: sink('prediction_log', folder.prefix),
      // Ground truth in its own folder, which the drift job (dt=.../ folders) never reads.
      feedback_log_bucket: sink('feedback_log', `${folder.prefix}${feedbackFolder}`),
      // The challenger's outputs under the champion's predictionId (a file only with a challenger).
      challenger_log_bucket: sink('challenger_log', `${folder.prefix}${challengerFolder}`),
    },
  };
}

/** The project's `model/` folder (deploy/plan.ts `runtime.modelDir`), found from this file, source or compiled. */
export function projectModelDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'deploy', 'plan.ts'))) return join(dir, runtime.modelDir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error('deploy/plan.ts not found above deploy/k8s');
    dir = parent;
  }
}

/** ConfigMaps hold 1 MiB; leave room for the object's metadata. */
const configMapLimit = 1024 * 1024 - 16 * 1024;

/** The model's metrics.json, whose headline metrics set the floors of the job's quality check. */
export function qualityFloors(): { readonly file: string; readonly text: string } {
  return configMapFile(metricsFile, "model's metrics (model.artifacts.metrics)");
}

/**
 * The drift baseline as the project has it beside the model (the same file the deploy uploads next
 * to model.onnx): the drift job reads it from a ConfigMap, so its identity needs no access to the
 * model's folder. The metrics above travel the same way.
 */
export function driftBaseline(): { readonly file: string; readonly text: string } {
  return configMapFile(driftBaselineFile, 'drift baseline (model.artifacts.driftBaseline)');
}

/** A JSON file of the model's folder, checked to fit in a ConfigMap. */
function configMapFile(
  file: string | undefined,
  what: string,
): { readonly file: string; readonly text: string } {
  if (!file) throw new Error(`the model ships no ${what}`);
  const path = join(projectModelDir(), file);
  if (!existsSync(path)) throw new Error(`the ${what} ${path} is missing`);
  const text = readFileSync(path, 'utf8');
  JSON.parse(text);
  if (Buffer.byteLength(text) > configMapLimit) {
    throw new Error(`the ${what} ${path} is larger than a ConfigMap holds (1 MiB)`);
  }
  return { file: posix.basename(file), text };
}
