/**
 * Models a service must refuse at start: the real model cut short, and a valid ONNX graph that is
 * not the one the service was generated for (one float input `x` -> `y` through Identity).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './build.js';

const identityModel =
  'CAg6SAoQCgF4EgF5IghJZGVudGl0eRIIbWlzbWF0Y2haFAoBeBIPCg0IARIJCgMSAU4KAggBYhQKAXkSDwoNCAESCQoDEgFOCgIIAUIECgAQDQ==';

/** Writes `<dir>/model.onnx` (the real model truncated to its first half); returns its path. */
export function truncatedModel(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const bytes = readFileSync(join(projectRoot, 'model', 'model.onnx'));
  const path = join(dir, 'model.onnx');
  writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
  return path;
}

/** Writes `<dir>/model.onnx` (a valid graph with other inputs and outputs); returns its path. */
export function mismatchedModel(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'model.onnx');
  writeFileSync(path, Buffer.from(identityModel, 'base64'));
  return path;
}
