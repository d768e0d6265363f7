/**
 * The project's model files (`model/`: the ONNX graph, its sidecar and the artifacts it names)
 * are the user's data, not template output. A plain `upgrade` never writes or deletes them: it
 * reads the model that is there. `upgrade --model <path>` replaces them with a new model's, the
 * only way an upgrade removes an old model's artifacts.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { projectModelDir } from '../plan/plan.js';
import type { FileChange, FileState } from './engine.js';
import { type EolPolicy, eolOf, keepEol, withEol } from './eol.js';

export const isModelData = (path: string) => path.startsWith(`${projectModelDir}/`);

/** The .onnx file `--model` names: the file itself, or the one .onnx file in a folder. */
export async function resolveModelOption(path: string): Promise<string> {
  const full = resolve(path);
  const info = await stat(full).catch(() => undefined);
  const fix =
    'Pass the new model file (--model ./new/model.onnx) or the folder that holds it and its model.schema.json.';
  if (!info) throw new UsageError(`--model ${path}: no such file or folder.`, [fix]);
  if (info.isFile()) {
    if (!full.endsWith('.onnx')) throw new UsageError(`--model ${path}: not an .onnx file.`, [fix]);
    return full;
  }
  const models = (await readdir(full)).filter((n) => n.endsWith('.onnx')).sort();
  if (models.includes('model.onnx')) return join(full, 'model.onnx');
  if (models.length === 1) return join(full, models[0]!);
  throw new UsageError(
    `--model ${path}: ${models.length === 0 ? 'the folder holds no .onnx file' : `the folder holds several .onnx files (${models.join(', ')})`}.`,
    [fix],
  );
}

export interface ModelReplacement {
  readonly changes: FileChange[];
  readonly writes: Map<string, FileState>;
  readonly deletes: string[];
}

/**
 * `--model`: the new model's files replace the project's; the old model's files it does not have
 * (recorded as model copies by the last render) are deleted. Files in `model/` the generator
 * never wrote stay.
 */
export function replaceModel(
  recorded: Iterable<string>,
  next: ReadonlyMap<string, FileState>,
  working: ReadonlyMap<string, FileState>,
  eolFor: EolPolicy = keepEol,
): ModelReplacement {
  const changes: FileChange[] = [];
  const writes = new Map<string, FileState>();
  const deletes: string[] = [];
  const note = 'from --model';
  for (const [path, state] of next) {
    if (!isModelData(path)) continue;
    const w = working.get(path);
    const content = withEol(state.content, (w && eolOf(w.content)) ?? eolFor(path));
    if (w?.content.equals(content)) continue;
    writes.set(path, { ...state, content });
    changes.push({ path, action: w ? 'updated' : 'created', note });
  }
  for (const path of recorded) {
    if (!isModelData(path) || next.has(path) || !working.has(path)) continue;
    deletes.push(path);
    changes.push({ path, action: 'deleted', note: `${note}: the new model does not have it` });
  }
  return { changes, writes, deletes };
}
