import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { packageRoot } from '../version.js';

/**
 * The model used when none is given under `--yes`: the bank-churn example shipped in the package
 * (the small fixture model only while the example is absent from a checkout).
 */
export function defaultModelPath(): string {
  const candidates = [
    resolve(packageRoot, 'examples/models/bank-churn/artifacts/model.onnx'),
    resolve(packageRoot, 'generator/__fixtures__/models/tabular.onnx'),
  ];
  return candidates.find((c) => existsSync(c)) ?? candidates[0]!;
}
