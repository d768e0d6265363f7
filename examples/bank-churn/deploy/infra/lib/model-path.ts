/**
 * Where the model and the prediction logs live, read from the environment's `modelUri` and
 * `predictionLogUri` (deploy/plan.ts): the bucket the init container reads, the object prefix the
 * service identity may read, the folder it may write its logs to. Parsed, not rebuilt, so the
 * stack grants exactly what the Kubernetes layer fetches and ships.
 */
import { model } from '../../plan.js';

export interface ModelLocation {
  readonly scheme: 'gs' | 's3';
  readonly bucket: string;
  /** `models/<model>/<version>/model.onnx` */
  readonly key: string;
  /** `models/<model>/`: every version of this model, and nothing else in the bucket. */
  readonly readPrefix: string;
}

export function modelLocation(modelUri: string): ModelLocation {
  const m = /^(gs|s3):\/\/([^/]+)\/(.+)$/.exec(modelUri);
  if (!m) throw new Error(`modelUri "${modelUri}" is not a gs:// or s3:// object URI`);
  const [, scheme, bucket, key] = m as unknown as [string, 'gs' | 's3', string, string];
  const versionSuffix = `/${model.version}/`;
  const at = key.lastIndexOf(versionSuffix);
  if (at <= 0 || key.slice(at + versionSuffix.length).includes('/')) {
    throw new Error(`model key "${key}" does not end with "${versionSuffix}<file>"`);
  }
  return { scheme, bucket, key, readPrefix: key.slice(0, at + 1) };
}

export interface FolderLocation {
  readonly scheme: 'gs' | 's3';
  readonly bucket: string;
  /** Ends with `/`, e.g. `prediction-logs/`. */
  readonly prefix: string;
}

/**
 * Where the prediction logs go, read from the environment's `predictionLogUri` (deploy/plan.ts):
 * the folder the pods' log shipper creates objects in and the drift job reads and lists.
 */
export function predictionLogLocation(predictionLogUri: string): FolderLocation {
  const m = /^(gs|s3):\/\/([^/]+)\/((?:[^/]+\/)+)$/.exec(predictionLogUri);
  if (!m) throw new Error(`predictionLogUri "${predictionLogUri}" is not a gs:// or s3:// folder`);
  const [, scheme, bucket, prefix] = m as unknown as [string, 'gs' | 's3', string, string];
  return { scheme, bucket, prefix };
}

/** Whether one prefix contains the other: a grant on one would reach into the other. */
export function overlap(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/**
 * An environment's model and prediction logs, checked to be in its model bucket and apart from
 * each other (a grant on the logs must not reach the model).
 */
export function modelBucketLocations(
  env: { readonly id: string; readonly modelUri: string; readonly predictionLogUri: string },
  scheme: 'gs' | 's3',
  modelBucket: string,
): { location: ModelLocation; logs: FolderLocation } {
  const location = modelLocation(env.modelUri);
  if (location.scheme !== scheme || location.bucket !== modelBucket) {
    throw new Error(
      `${env.id}: modelUri ${env.modelUri} is not in the model bucket ${modelBucket}`,
    );
  }
  const logs = predictionLogLocation(env.predictionLogUri);
  if (
    logs.scheme !== scheme ||
    logs.bucket !== modelBucket ||
    overlap(logs.prefix, location.readPrefix)
  ) {
    throw new Error(
      `${env.id}: predictionLogUri ${env.predictionLogUri} is not beside the model in ${modelBucket}`,
    );
  }
  return { location, logs };
}
