/**
 * A model whose weights live in another file (ONNX external data, which `torch.onnx.export` writes
 * by default since PyTorch 2.9) loads wherever that file lies beside it, and fails in the cluster,
 * where the deploy publishes model.onnx alone. The service refuses it at start, with the fix.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { externalWeightsOf } from '../src/model/external-weights.js';
import { externalWeightsModel } from './helpers/broken-models.js';
import { builtServer, projectRoot } from './helpers/build.js';
import { runToExit } from './helpers/child.js';

const dir = mkdtempSync(join(tmpdir(), 'external-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('weights outside model.onnx', () => {
  it("are not found in the project's own model", () => {
    expect(externalWeightsOf(readFileSync(join(projectRoot, 'model', 'model.onnx')))).toBe(
      undefined,
    );
    // Bytes that are not a model are left to onnxruntime to name.
    expect(externalWeightsOf(Buffer.from('not an ONNX model'))).toBe(undefined);
  });

  it('are found, and the server refuses to start with the fix instead of serving a model the deploy cannot publish', async (ctx) => {
    const { path, tensors } = externalWeightsModel(join(dir, 'split'));
    if (tensors === 0) return ctx.skip(); // the graph keeps its weights in node attributes only
    // A real external-data model: onnxruntime opens it by path, reading the weights beside it.
    const session = await ort.InferenceSession.create(path);
    await session.release();
    expect(externalWeightsOf(readFileSync(path))).toEqual({ files: ['model.onnx.data'], tensors });

    const { code, output } = await runToExit(builtServer, {
      MODEL_PATH: path,
      WORKERS: '1',
      PREDICTION_LOG_PATH: '',
    });
    expect(code).toBe(1);
    expect(output).toContain(`keeps the weights of ${tensors} tensor`);
    expect(output).toMatch(/in model\.onnx\.data \(ONNX external data\).*external_data=False/);
    expect(output).not.toMatch(/\n\s+at /);
  });
});
