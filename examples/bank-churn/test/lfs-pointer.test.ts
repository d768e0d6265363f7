/**
 * A model kept in Git LFS is, in a clone without git-lfs or a CI checkout without `lfs: true`, a
 * small text pointer. onnxruntime would refuse it with a protobuf parse error; the service names
 * it and says how to fetch the model, at start and when it reads a challenger.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelLoadError, loadModel } from '../src/model/artifacts.js';
import { contract } from '../src/model/contract.js';
import { lfsPointerOf, lfsPointerProblem } from '../src/model/lfs-pointer.js';
import { loadChallenger } from '../src/monitoring/challenger.js';
import { builtServer, projectRoot } from './helpers/build.js';
import { runToExit } from './helpers/child.js';

const dir = mkdtempSync(join(tmpdir(), 'lfs-pointer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const oid = 'sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393';
const pointerText = (size: number, version = 'https://git-lfs.github.com/spec/v1') =>
  `version ${version}\noid ${oid}\nsize ${size}\n`;
const bytes = (text: string) => new TextEncoder().encode(text);

/** The message the service gives for the pointer at `path` (of a 417.7 MiB model). */
const refusal = (path: string) =>
  `the model ${path} is a Git LFS pointer (sha256 4d7a214614ab, 417.7 MiB), not the model: ` +
  'fetch it with `git lfs pull` (in GitHub Actions, actions/checkout with `lfs: true`)';

/** Writes a pointer to a 417.7 MiB model as `<dir>/model.onnx`; returns its path. */
function pointerModel(target: string): string {
  mkdirSync(target, { recursive: true });
  const path = join(target, 'model.onnx');
  writeFileSync(path, pointerText(438_000_000));
  return path;
}

async function loadErrorOf(p: Promise<unknown>): Promise<ModelLoadError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelLoadError);
  return error as ModelLoadError;
}

describe('a Git LFS pointer in place of the model', () => {
  it('is read as git-lfs writes it (and as older versions did): its oid and the size it stands for', () => {
    expect(lfsPointerOf(bytes(pointerText(12345)))).toEqual({ oid, size: 12345 });
    expect(lfsPointerOf(bytes(pointerText(7, 'https://hawser.github.com/spec/v1')))).toEqual({
      oid,
      size: 7,
    });
    expect(lfsPointerProblem(bytes(pointerText(12345)), 'm.onnx')).toContain(
      '(sha256 4d7a214614ab, 12345 bytes)',
    );
  });

  it("is not found in the project's own model, nor in text that only starts like a pointer", () => {
    const model = readFileSync(join(projectRoot, 'model', 'model.onnx'));
    expect(lfsPointerOf(model)).toBe(undefined);
    expect(lfsPointerProblem(model, 'model/model.onnx')).toBe(undefined);
    for (const text of [
      'not an ONNX model',
      'version https://git-lfs.github.com/spec/v1\nsize 12345\n',
      `${pointerText(1)}${'x '.repeat(600)}\n`, // 1024 bytes or more: no pointer
    ]) {
      expect(lfsPointerOf(bytes(text))).toBe(undefined);
    }
  });

  it('stops loadModel with the fix, not a protobuf parse error', async () => {
    const path = pointerModel(join(dir, 'champion'));
    const error = await loadErrorOf(loadModel(contract, path));
    expect(error.message).toBe(refusal(path));
  });

  it('stops the server at start with that one line, no stack trace', async () => {
    const path = pointerModel(join(dir, 'served'));
    const { code, output } = await runToExit(builtServer, {
      MODEL_PATH: path,
      WORKERS: '1',
      PREDICTION_LOG_PATH: '',
    });
    expect(code).toBe(1);
    expect(output).toContain(refusal(path));
    expect(output).not.toMatch(/\n\s+at /);
  });

  it('in place of a challenger stops the start with the fix', async (ctx) => {
    // A tensor model has no challenger: one in its folder is refused before it is read.
    if (contract.kind === 'tensors' || contract.task === 'tensor') return ctx.skip();
    const challengerDir = join(dir, 'with-challenger', 'challenger');
    const path = pointerModel(challengerDir);
    const error = await loadErrorOf(loadChallenger(contract, { challengerDir }));
    expect(error.message).toBe(refusal(path));
  });
});
