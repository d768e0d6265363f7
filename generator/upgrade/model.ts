/**
 * The project's model files (`model/`: the ONNX graph, its sidecar and the artifacts it names)
 * are the user's data, not template output. A plain `upgrade` never writes or deletes them: it
 * reads the model that is there. `upgrade --model <path>` replaces them with a new model's, the
 * only way an upgrade removes an old model's artifacts.
 */
import { projectModelDir } from '../plan/plan.js';
import type { FileChange, FileState } from './engine.js';
import { type EolPolicy, eolOf, keepEol, withEol } from './eol.js';

export const isModelData = (path: string) => path.startsWith(`${projectModelDir}/`);

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
