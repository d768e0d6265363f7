/**
 * The files a project gets from its model rather than from the templates: the ONNX model, its
 * sidecar and the artifacts the sidecar names (copied into `model/`), and the ModelContract type.
 * `create` copies them from the user's model; `upgrade` from the project's own `model/`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ModelContract } from '../model/contract.js';
import { type ReadModel, sidecarFileName } from '../model/introspect.js';
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

export interface ModelSources {
  /** The user's model file (its folder holds the sidecar, artifacts and tokenizer). */
  readonly modelPath: string;
  /** The graph to ship when the generator rewrote it (else the user's file is copied). */
  readonly servedPath?: string;
  readonly contract: Pick<ModelContract, 'artifacts' | 'described' | 'tokenizer'>;
}

export function modelFiles({ modelPath, servedPath, contract }: ModelSources): ModelFiles {
  const dir = dirname(modelPath);
  const copies: ExtraFile[] = [{ source: servedPath ?? modelPath, target: projectModelFile }];
  if (contract.described)
    copies.push({
      source: join(dir, sidecarFileName),
      target: `${projectModelDir}/${sidecarFileName}`,
    });
  const besides = [
    ...Object.values(contract.artifacts),
    contract.tokenizer?.file,
    contract.tokenizer?.configFile,
  ];
  for (const name of new Set(besides)) {
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

/**
 * The sources of a project's model files: when the generator rewrote the graph, the rewrite is
 * written to a temporary file to be copied like any other; `cleanup` removes it.
 */
export async function modelSources(
  modelPath: string,
  read: ReadModel,
): Promise<ModelSources & { cleanup: () => Promise<void> }> {
  if (!read.rewritten) {
    return { modelPath, contract: read.contract, cleanup: async () => undefined };
  }
  const dir = await mkdtemp(join(tmpdir(), 'create-mlops-service-model-'));
  const servedPath = join(dir, 'model.onnx');
  await writeFile(servedPath, read.served);
  return {
    modelPath,
    servedPath,
    contract: read.contract,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
