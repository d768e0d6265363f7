/**
 * The process's lifecycle as a real child process: every start-up failure is exit 1 with one line
 * naming the model file and the cause, whatever WORKERS is; SIGTERM during the warm-up exits
 * cleanly; SHUTDOWN_TIMEOUT_MS is a deadline no client can stretch.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exampleBody, loadModel } from '../src/model/artifacts.js';
import { contract } from '../src/model/contract.js';
import { builtServer, projectRoot } from './helpers/build.js';
import { mismatchedModel, truncatedModel, widenedModel } from './helpers/broken-models.js';
import { runToExit, startServer } from './helpers/child.js';

const dir = mkdtempSync(join(tmpdir(), 'mlservice-lifecycle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** onnxruntime's native abort when a worker is torn down while it loads a model. */
const nativeAbort = /terminate called|Napi::Error/;

describe('a model the workers cannot load: exit 1 naming the file and the cause', () => {
  const truncated = truncatedModel(join(dir, 'truncated'));
  const mismatched = mismatchedModel(join(dir, 'mismatched'));
  it.each([
    ['truncated', '1', truncated, /cannot load the model .*truncated.*model\.onnx: .+/],
    ['truncated', '3', truncated, /cannot load the model .*truncated.*model\.onnx: .+/],
    ['mismatched', '2', mismatched, /the model .*mismatched.*model\.onnx does not match .*: input/],
    ['mismatched', '3', mismatched, /the model .*mismatched.*model\.onnx does not match .*: input/],
  ])('%s model, WORKERS=%s', async (_kind, workers, modelPath, message) => {
    const { code, output } = await runToExit(builtServer, {
      MODEL_PATH: modelPath,
      WORKERS: workers,
      PREDICTION_LOG_PATH: '',
    });
    expect(output).not.toMatch(nativeAbort);
    expect(code).toBe(1);
    const line = output.split('\n').find((l) => l.startsWith('mlservice: '));
    expect(line).toMatch(message);
    expect(output).not.toMatch(/\n\s+at /);
  });

  it('the same input and output names with one input a column wider', async () => {
    const { path, widened } = widenedModel(join(dir, 'widened'));
    const { code, output } = await runToExit(builtServer, {
      MODEL_PATH: path,
      WORKERS: '1',
      PREDICTION_LOG_PATH: '',
    });
    expect(code).toBe(1);
    const line = output.split('\n').find((l) => l.startsWith('mlservice: '));
    const expected = contract.inputs[0]!.shape.join(', ');
    expect(line).toContain(
      `does not match the service's contract: input "${widened.name}" has shape`,
    );
    expect(line).toContain(`expected [${expected}]`);
    expect(line).not.toMatch(/is missing|unexpected input/);
  });
});

describe('SIGTERM during the warm-up', () => {
  it('waits for the workers to finish loading, then exits 0 without a native abort', async () => {
    const server = await startServer(
      { WORKERS: '3', PREDICTION_LOG_PATH: '' },
      30_000,
      'listening',
    );
    server.process.kill('SIGTERM');
    const exit = await server.exited;
    expect(server.output()).not.toMatch(nativeAbort);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(server.output()).toMatch(/drained; exiting/);
  });
});

describe('SHUTDOWN_TIMEOUT_MS is a deadline', () => {
  it('destroys a connection still sending its body, flushes the log and exits 1', async () => {
    const logPath = join(dir, 'deadline.jsonl');
    const server = await startServer({
      WORKERS: '1',
      SHUTDOWN_TIMEOUT_MS: '1000',
      PREDICTION_LOG_PATH: logPath,
    });
    const body = JSON.stringify(
      exampleBody(contract, await loadModel(contract, join(projectRoot, 'model', 'model.onnx'))),
    );
    const predicted = await fetch(new URL('/predict', server.address), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(predicted.status).toBe(200);

    // A client that sends its headers and one byte of a long body, then nothing.
    const { port } = new URL(server.address);
    const socket = connect(Number(port), '127.0.0.1');
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(
      `POST /predict HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${body.length + 1000}\r\n\r\n{`,
    );
    // The server counts the request once its headers are in: wait for /metrics to show it.
    for (;;) {
      const metrics = await (await fetch(new URL('/metrics', server.address))).text();
      if (/^mlservice_inflight_requests 1$/m.test(metrics)) break;
    }
    server.process.kill('SIGTERM');
    const exit = await server.exited;
    await socketClosed;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(server.output()).toMatch(/SHUTDOWN_TIMEOUT_MS passed with requests still open/);
    expect(readFileSync(logPath, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});
