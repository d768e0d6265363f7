/**
 * The .onnx file a `--model` option names, for `create` and `upgrade` alike: the file itself, or
 * the model in a folder (an Optimum or MLflow export, a training run's artifacts directory):
 * `model.onnx`, else the folder's only .onnx file.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

const fix =
  'Pass the model file (--model ./export/model.onnx) or the folder that holds it (and its model.schema.json).';

export async function resolveModelOption(path: string): Promise<string> {
  const full = resolve(path);
  const info = await stat(full).catch(() => undefined);
  if (!info) throw new UsageError(`--model ${path}: no such file or folder.`, [fix]);
  if (info.isFile()) {
    if (!full.endsWith('.onnx')) throw new UsageError(`--model ${path}: not an .onnx file.`, [fix]);
    return full;
  }
  const models = (await readdir(full)).filter((n) => n.endsWith('.onnx')).sort();
  if (models.includes('model.onnx')) return join(full, 'model.onnx');
  if (models.length === 1) return join(full, models[0]!);
  throw new UsageError(
    `--model ${path}: ${models.length === 0 ? 'the folder holds no .onnx file' : `the folder holds several .onnx files (${models.join(', ')}): name one`}.`,
    [fix],
  );
}
