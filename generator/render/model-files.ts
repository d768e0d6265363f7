/**
 * The files a project gets from its model rather than from the templates: the ONNX model, its
 * sidecar and the artifacts the sidecar names (copied into `model/`), and the ModelContract type.
 * `create` copies them from the user's model; `upgrade` from the project's own `model/`.
 */
import { dirname, join, resolve } from 'node:path';
import { sidecarFileName } from '../model/introspect.js';
import { projectModelDir, projectModelFile } from '../plan/plan.js';
import { packageRoot } from '../version.js';
import type { ExtraFile } from './render.js';

/** The ModelContract type, shipped into every project (the generator's own source, or its build). */
const contractTypesSource = resolve(packageRoot, 'generator/model/contract.ts');

export interface ModelFiles {
  /** Everything to copy into the render. */
  readonly files: ExtraFile[];
  /** The project paths that are copies of the user's model (not the generator's to keep a base of). */
  readonly modelCopies: string[];
}

export function modelFiles(
  modelPath: string,
  artifacts: Record<string, string | undefined>,
  described: boolean,
): ModelFiles {
  const dir = dirname(modelPath);
  const copies: ExtraFile[] = [{ source: modelPath, target: projectModelFile }];
  if (described)
    copies.push({
      source: join(dir, sidecarFileName),
      target: `${projectModelDir}/${sidecarFileName}`,
    });
  for (const name of new Set(Object.values(artifacts))) {
    if (name) copies.push({ source: join(dir, name), target: `${projectModelDir}/${name}` });
  }
  return {
    files: [
      copies[0]!,
      { source: contractTypesSource, target: 'src/model/contract-types.ts' },
      ...copies.slice(1),
    ],
    modelCopies: copies.map((c) => c.target),
  };
}
