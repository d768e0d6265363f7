/**
 * The challenger model, when the project has one in `model/challenger/` (a model that passed
 * `npm run model:check -- model/challenger`, run in shadow by the service beside the champion).
 * Found when the app synthesizes, so the manifests follow the folder: its objects are
 * content-addressed beside the champion's versions (`models/<model>/challenger-<sha256 prefix>/`,
 * inside the prefix the service identity may read), the init container fetches and verifies it
 * into `/models/challenger/`, where the server looks for it, and `deploy.mjs publish-model`
 * uploads it to the same path. Without the folder nothing changes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectModelDir } from './prediction-logs.js';

export const challengerFolder = 'challenger';

/** Files the service reads beside a challenger's model.onnx (its contract, metrics, golden cases). */
const challengerArtifacts = ['model.schema.json', 'metrics.json', 'golden.json'] as const;

export interface ChallengerModel {
  readonly uri: string;
  readonly sha256: string;
  /** Files beside model.onnx, present in the project's challenger folder. */
  readonly artifacts: readonly string[];
}

/** The challenger under `modelDir`, published beside the champion's `modelUri`; undefined if none. */
export function challengerIn(modelDir: string, modelUri: string): ChallengerModel | undefined {
  const dir = join(modelDir, challengerFolder);
  const file = join(dir, 'model.onnx');
  if (!existsSync(file)) return undefined;
  const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  // .../models/<model>/<version>/model.onnx -> .../models/<model>/challenger-<sha>/model.onnx
  const versions = modelUri.slice(0, modelUri.lastIndexOf('/', modelUri.lastIndexOf('/') - 1));
  return {
    uri: `${versions}/${challengerFolder}-${sha256.slice(0, 16)}/model.onnx`,
    sha256,
    artifacts: challengerArtifacts.filter((f) => existsSync(join(dir, f))),
  };
}

/** The project's challenger for an environment's `modelUri`. */
export function challengerFor(modelUri: string): ChallengerModel | undefined {
  return challengerIn(projectModelDir(), modelUri);
}

/** Whether the project has a challenger (its server then runs one more worker thread). */
export function projectHasChallenger(): boolean {
  return existsSync(join(projectModelDir(), challengerFolder, 'model.onnx'));
}
