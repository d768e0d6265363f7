/**
 * Where the model lives, read from the environment's `modelUri` (deploy/plan.ts): the bucket the
 * init container reads and the object prefix the service identity may read. Parsed, not rebuilt,
 * so the stack grants exactly what the Kubernetes layer fetches.
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
