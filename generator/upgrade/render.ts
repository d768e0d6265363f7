/** Renders a set of answers into a directory the way `create` does, with the project's own model. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Answers } from '../answers/schema.js';
import type { ModelOrigin } from '../model/contract.js';
import { readModel } from '../model/introspect.js';
import { buildPlan, projectModelFile } from '../plan/plan.js';
import { writeRecord } from '../record/record.js';
import { modelFiles, modelSources } from '../render/model-files.js';
import { renderProject } from '../render/render.js';
import type { FileState } from './engine.js';
import { readTree } from './files.js';

/**
 * Renders `answers` with `templatesDir` and records it; the model comes from the project
 * (`answers.model` is relative to it), or from `modelPath` (`upgrade --model`). Returns the
 * rendered tree, records included.
 *
 * A model without a sidecar is named after its file, and `create` read it under the user's file
 * name (`churn.onnx`), not the project's copy (`model/model.onnx`): the recorded name is kept.
 */
export async function renderAnswers(
  root: string,
  answers: Answers,
  templatesDir: string,
  recordedModelName?: string,
  recordedOrigin?: ModelOrigin,
  modelPath: string = resolve(root, answers.model),
): Promise<Map<string, FileState>> {
  const read = await readModel(modelPath, {
    ...(answers.task ? { task: answers.task } : {}),
    ...(recordedModelName ? { name: recordedModelName } : {}),
    ...(recordedOrigin ? { origin: recordedOrigin } : {}),
  });
  const plan = buildPlan({ ...answers, model: projectModelFile }, read.contract);
  const sources = await modelSources(modelPath, read);
  const dest = await mkdtemp(join(tmpdir(), 'create-mlops-service-render-'));
  try {
    const fromModel = modelFiles(sources);
    await renderProject(plan, templatesDir, dest, fromModel.files);
    await writeRecord(dest, plan, { modelCopies: fromModel.modelCopies });
    return await readTree(dest);
  } finally {
    await rm(dest, { recursive: true, force: true });
    await sources.cleanup();
  }
}
