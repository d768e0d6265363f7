/**
 * May a new model version replace the served one? `npm run model:check -- <new model dir>`.
 *
 * The gates, in order (model-gates.json at the project root sets their thresholds):
 *   contract  the new sidecar declares the same features and types as src/model/contract.ts
 *             (else the diff, and `npx create-mlops-service upgrade --model <dir>` to change the API);
 *   metrics   its metrics.json holds the current model's metrics within a tolerance, and any floor;
 *   parity    served by this project's server, it reproduces its own golden.json;
 *   fairness  (when declared) the favorable outcome's rate is similar across a protected attribute;
 *   latency   its median /predict/batch latency over the current model's, same requests, one run.
 *
 * Both models are served by this project's own server (dist/src/server.js) on 127.0.0.1, so the
 * start-up checks of a deploy run too. Exit 0: every gate passes; 1: a gate fails; 2: usage error.
 * Options: --current <model.onnx> (default MODEL_PATH or model/model.onnx), --gates <file>,
 * --json <file> (the results, for CI).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type LoadedModel, ModelLoadError, exampleRecord, loadModel } from '../model/artifacts.js';
import { contract } from '../model/contract.js';
import {
  type GateResult,
  type Served,
  fairnessGate,
  latencyGate,
  metricsGate,
  parityGate,
} from '../release/checks.js';
import { contractDiff, sidecarSchema } from '../release/contract-diff.js';
import { type Gates, GatesError, readGates } from '../release/gates.js';
import { type ServedModel, ServerStartError, serveModel } from '../release/served-model.js';

const usage =
  'usage: npm run model:check -- <new model dir> [--current model/model.onnx] [--gates model-gates.json] [--json results.json]';

type Rows = Array<Record<string, unknown>>;

function exit(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    return exit(2, `cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Records of a fairness data file: JSONL of records, or `{"cases": [{"input": ...}]}`. */
async function dataRows(path: string): Promise<Rows> {
  if (path.endsWith('.jsonl')) {
    const text = await readFile(path, 'utf8').catch((e: Error) =>
      exit(2, `cannot read ${path}: ${e.message}`),
    );
    return text
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  const doc = (await readJson(path)) as { cases?: Array<{ input: Record<string, unknown> }> };
  if (!Array.isArray(doc.cases))
    exit(2, `${path}: expected {"cases": [{"input": {...}}]} or a .jsonl file`);
  return doc.cases.map((c) => c.input);
}

function contractGate(sidecar: unknown, path: string): GateResult {
  const parsed = sidecarSchema.safeParse(sidecar);
  if (!parsed.success)
    return {
      gate: 'contract',
      passed: false,
      summary: `${path} declares no features`,
      details: [],
    };
  const diff = contractDiff(contract, parsed.data);
  return {
    gate: 'contract',
    passed: diff.compatible,
    summary: diff.compatible
      ? `same ${contract.features.length} features and types`
      : 'the new model changes the API: take it in with `npx create-mlops-service upgrade --model <dir>`',
    details: [...diff.differences, ...diff.notes.map((n) => `note: ${n}`)],
  };
}

const task =
  contract.task === 'regression'
    ? 'regression'
    : contract.labels.length === 2
      ? 'binary'
      : 'multiclass';

/** Rows for the latency gate: the golden inputs, repeated to `n`. */
function latencyRows(rows: Rows, n: number): Rows {
  return Array.from({ length: n }, (_, i) => rows[i % rows.length]!);
}

async function servedGates(
  current: ServedModel,
  next: ServedModel,
  nextModel: LoadedModel,
  gates: Gates,
): Promise<GateResult[]> {
  const golden = nextModel.golden;
  // Golden inputs, else the service's own example record (for the latency gate).
  const inputs: Rows = golden
    ? golden.cases.map((c) => c.input)
    : [exampleRecord(contract, nextModel) as Record<string, unknown>];
  const results: GateResult[] = [
    parityGate(golden, golden ? await next.predict(inputs) : [], contract.labels, gates.parity),
  ];
  const fairRows = gates.fairness?.data
    ? await dataRows(resolve(gates.fairness.data))
    : golden
      ? inputs
      : [];
  const fairServed: Served[] = gates.fairness ? await next.predict(fairRows) : [];
  results.push(
    fairnessGate(
      gates.fairness,
      fairRows,
      fairServed,
      contract.positiveLabel ?? contract.labels[1],
    ),
  );
  if (inputs.length === 0) {
    results.push({
      gate: 'latency',
      passed: false,
      summary: 'no golden inputs to time',
      details: [],
    });
    return results;
  }
  const rows = latencyRows(inputs, gates.latency.rows);
  await current.time(rows); // warm both
  await next.time(rows);
  const currentMs: number[] = [];
  const nextMs: number[] = [];
  for (let i = 0; i < gates.latency.requests; i++) {
    currentMs.push(await current.time(rows));
    nextMs.push(await next.time(rows));
  }
  results.push(latencyGate(currentMs, nextMs, gates.latency));
  return results;
}

function print(results: readonly GateResult[]): void {
  for (const r of results) {
    const status = r.skipped ? 'SKIP' : r.passed ? 'PASS' : 'FAIL';
    process.stdout.write(`${status.padEnd(4)}  ${r.gate.padEnd(8)}  ${r.summary}\n`);
    for (const d of r.details) process.stdout.write(`                ${d}\n`);
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { current: { type: 'string' }, gates: { type: 'string' }, json: { type: 'string' } },
  });
  if (positionals.length !== 1) exit(2, usage);
  if (contract.kind === 'tensors')
    exit(
      2,
      'model:check compares record and text models through /predict/batch; a tensor model has none (its golden parity runs in npm test)',
    );
  const nextPath = join(resolve(positionals[0]!), 'model.onnx');
  const currentPath = resolve(values.current ?? process.env.MODEL_PATH ?? 'model/model.onnx');
  if (!existsSync(nextPath))
    exit(2, `${nextPath} does not exist: give the directory of the new model.onnx`);
  const gates = await readGates(resolve(values.gates ?? 'model-gates.json')).catch((e: Error) =>
    e instanceof GatesError ? exit(2, e.message) : Promise.reject(e),
  );
  const sidecarPath = join(resolve(positionals[0]!), 'model.schema.json');
  // Without a sidecar the contract is the graph's: the service's start-up check compares it.
  const results: GateResult[] = [
    existsSync(sidecarPath)
      ? contractGate(await readJson(sidecarPath), sidecarPath)
      : {
          gate: 'contract',
          passed: true,
          summary: 'no model.schema.json: the graph is checked by the service at start-up',
          details: [],
        },
  ];
  if (results[0]!.passed) results.push(...(await modelGates(currentPath, nextPath, gates)));
  print(results);
  if (values.json)
    await writeFile(values.json, `${JSON.stringify({ model: nextPath, results }, null, 2)}\n`);
  return results.every((r) => r.passed) ? 0 : 1;
}

/** The gates that need both models loaded and served. */
async function modelGates(
  currentPath: string,
  nextPath: string,
  gates: Gates,
): Promise<GateResult[]> {
  const currentModel = await loadModel(contract, currentPath);
  let nextModel: LoadedModel;
  try {
    nextModel = await loadModel(contract, nextPath);
  } catch (error) {
    if (!(error instanceof ModelLoadError)) throw error;
    return [
      {
        gate: 'contract',
        passed: false,
        summary: 'the service cannot load it as it is',
        details: [error.message],
      },
    ];
  }
  const results = [metricsGate(currentModel.metrics, nextModel.metrics, task, gates.metrics)];
  let current: ServedModel | undefined;
  let next: ServedModel | undefined;
  try {
    current = await serveModel(currentPath);
    next = await serveModel(nextPath);
    results.push(...(await servedGates(current, next, nextModel, gates)));
  } catch (error) {
    if (!(error instanceof ServerStartError)) throw error;
    results.push({
      gate: 'contract',
      passed: false,
      summary: 'the service cannot serve it',
      details: [error.message],
    });
  } finally {
    await Promise.all([current?.stop(), next?.stop()]);
  }
  return results;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => exit(2, error instanceof Error ? error.message : String(error)),
);
