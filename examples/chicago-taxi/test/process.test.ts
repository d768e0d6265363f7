/**
 * The server as a real process: a smoke run (start, predict, read /metrics, SIGTERM), start-up
 * failures exit 1 with a message that names the problem, and SIGTERM under load drains without
 * failing a single request.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exampleBody, loadModel } from '../src/model/artifacts.js';
import { contract } from '../src/model/contract.js';
import { builtServer, projectRoot } from './helpers/build.js';
import { runToExit, startServer } from './helpers/child.js';

const dir = mkdtempSync(join(tmpdir(), 'mlservice-process-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('smoke: the built server as `npm start` runs it', () => {
  it('gets ready, predicts, counts the prediction in /metrics, and exits 0 on SIGTERM', async () => {
    const server = await startServer({ WORKERS: '1', PREDICTION_LOG_PATH: '' });
    try {
      expect((await fetch(new URL('/readyz', server.address))).status).toBe(200);
      const record = exampleBody(
        contract,
        await loadModel(contract, join(projectRoot, 'model', 'model.onnx')),
      );
      const predicted = await fetch(new URL('/predict', server.address), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(record),
      });
      expect(predicted.status).toBe(200);
      expect(await predicted.json()).toMatchObject({
        model: contract.name,
        modelVersion: contract.version,
      });

      const metrics = await (await fetch(new URL('/metrics', server.address))).text();
      const counted =
        contract.task === 'regression'
          ? /^mlservice_prediction_value_count(\{[^}]*\})? 1$/m
          : contract.task === 'tensor'
            ? /^mlservice_requests_total\{[^}]*route="\/predict"[^}]*status="200"[^}]*\} 1$/m
            : /^mlservice_predictions_total\{[^}]*\} 1$/m;
      expect(metrics).toMatch(counted);
      expect(metrics).toContain(
        `mlservice_model_info{name="${contract.name}",version="${contract.version}",sha256="${contract.sha256}"} 1`,
      );
    } finally {
      server.process.kill('SIGTERM');
    }
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });
});

describe('start-up failures exit 1 with a clear message', () => {
  it.each([
    ['WORKERS', 'many'],
    ['PORT', '70000'],
    ['MAX_BATCH_SIZE', '0'],
    ['QUEUE_TIMEOUT_MS', '-5'],
    ['LOG_LEVEL', 'loud'],
  ])('%s=%s', async (variable, value) => {
    const { code, output } = await runToExit(builtServer, { [variable]: value });
    expect(code).toBe(1);
    expect(output).toContain(`invalid configuration: ${variable}:`);
    expect(output).not.toMatch(/\n\s+at /);
  });

  it('a missing model', async () => {
    const { code, output } = await runToExit(builtServer, {
      MODEL_PATH: join(dir, 'nowhere', 'model.onnx'),
    });
    expect(code).toBe(1);
    expect(output).toMatch(/model not found at .*nowhere.*MODEL_PATH/);
  });

  it('a corrupt model', async () => {
    const corrupt = join(dir, 'corrupt.onnx');
    writeFileSync(corrupt, 'this is not an ONNX model');
    const { code, output } = await runToExit(builtServer, {
      MODEL_PATH: corrupt,
      WORKERS: '1',
      PREDICTION_LOG_PATH: '',
    });
    expect(code).toBe(1);
    expect(output).toMatch(/cannot load the model .*corrupt\.onnx/);
  });

  it('a model newer than onnxruntime reads: its message, without the C++ source location', async () => {
    const newer = join(dir, 'newer.onnx');
    // A second ir_version field (1, varint) wins over the first: IR version 99.
    writeFileSync(
      newer,
      Buffer.concat([
        readFileSync(join(projectRoot, 'model', 'model.onnx')),
        Buffer.from([0x08, 99]),
      ]),
    );
    const { code, output } = await runToExit(builtServer, {
      MODEL_PATH: newer,
      WORKERS: '1',
      PREDICTION_LOG_PATH: '',
    });
    expect(code).toBe(1);
    expect(output).toMatch(/cannot load the model .*newer\.onnx: Unsupported model IR version: 99/);
    expect(output).not.toContain('onnxruntime_src');
  });

  it('a malformed artifact beside the model', async (ctx) => {
    const artifact = contract.artifacts.driftBaseline ?? contract.artifacts.background;
    if (!artifact) return ctx.skip();
    const modelDir = join(dir, 'broken-artifact');
    rmSync(modelDir, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(modelDir));
    copyFileSync(join(projectRoot, 'model', 'model.onnx'), join(modelDir, 'model.onnx'));
    writeFileSync(join(modelDir, artifact), '{"not": "what it should be"}');
    const { code, output } = await runToExit(builtServer, {
      MODEL_PATH: join(modelDir, 'model.onnx'),
      WORKERS: '1',
    });
    expect(code).toBe(1);
    expect(output).toContain(`${artifact} is malformed`);
  });
});

describe('SIGTERM under load', () => {
  it('stops accepting, finishes every in-flight request, flushes the log and exits 0', async () => {
    const logPath = join(dir, 'sigterm.jsonl');
    const server = await startServer({ WORKERS: '2', PREDICTION_LOG_PATH: logPath });
    const url = new URL('/predict', server.address);
    const body = JSON.stringify(
      exampleBody(contract, await loadModel(contract, join(projectRoot, 'model', 'model.onnx'))),
    );
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const statuses = new Map<number, number>();
    const errors: string[] = [];
    let ok = 0;
    let signalled = false;
    let resolveSignalPoint!: () => void;
    const signalPoint = new Promise<void>((r) => (resolveSignalPoint = r));

    const post = () =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          url,
          {
            method: 'POST',
            agent,
            headers: {
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    // 32 clients in closed loops; a refused connection means the server stopped accepting, which
    // a load balancer would route elsewhere: that client stops. Anything else is a failure.
    const client = async () => {
      for (;;) {
        let status: number;
        try {
          status = await post();
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ECONNREFUSED' && signalled) return;
          errors.push(code ?? String(error));
          return;
        }
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 200) ok += 1;
        if (ok >= 400) resolveSignalPoint();
      }
    };
    const clients = Array.from({ length: 32 }, client);
    await signalPoint;
    signalled = true;
    server.process.kill('SIGTERM');
    await Promise.all(clients);
    const { code } = await server.exited;
    agent.destroy();

    expect(errors).toEqual([]);
    expect([...statuses.keys()]).toEqual([200]);
    expect(code).toBe(0);
    expect(server.output()).toMatch(/drained; exiting/);
    // Every answered prediction is in the log: it was flushed before the exit.
    const lines = readFileSync(logPath, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(ok);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      model: contract.name,
      modelVersion: contract.version,
      endpoint: 'predict',
    });
  });
});
