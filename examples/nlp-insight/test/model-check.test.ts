/**
 * `npm run model:check -- <dir>`: a new model version is compared with the served one by this
 * project's own server. The same model passes every gate; a model that changes the API fails the
 * contract gate with the diff (and nothing is served); worse metrics and golden values that the
 * served model does not reproduce fail their gates; a declared fairness gate is measured.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contract } from '../src/model/contract.js';
import { lowerIsBetter } from '../src/monitoring/performance.js';
import { externalWeightsModel } from './helpers/broken-models.js';
import { builtModelCheckCli, projectRoot } from './helpers/build.js';
import { runToExit } from './helpers/child.js';

const work = mkdtempSync(join(tmpdir(), 'model-check-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A copy of model/ to change, and a gates file (latency generous: one noisy machine runs both). */
function candidate(name: string, gates: Record<string, unknown> = {}) {
  const dir = join(work, name);
  cpSync(join(projectRoot, 'model'), dir, { recursive: true });
  const gatesFile = join(work, `${name}-gates.json`);
  writeFileSync(
    gatesFile,
    JSON.stringify({ latency: { maxRatio: 5, requests: 10, rows: 20 }, ...gates }),
  );
  const edit = (file: string, change: (json: any) => void) => {
    const json = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    change(json);
    writeFileSync(join(dir, file), JSON.stringify(json));
  };
  const run = () =>
    runToExit(
      builtModelCheckCli,
      {},
      [dir, '--gates', gatesFile, '--json', join(work, `${name}.json`)],
      180_000,
    );
  const results = () =>
    (
      JSON.parse(readFileSync(join(work, `${name}.json`), 'utf8')) as {
        results: Array<{
          gate: string;
          passed: boolean;
          skipped?: string;
          summary: string;
          details: string[];
        }>;
      }
    ).results;
  return { dir, edit, run, results };
}

const gate = (results: ReturnType<ReturnType<typeof candidate>['results']>, name: string) =>
  results.find((r) => r.gate === name);

describe('model:check', () => {
  it('the served model, as a new version of itself, passes every gate', async () => {
    const fairness =
      contract.task === 'regression' || contract.features.every((f) => f.type !== 'category')
        ? null
        : {
            attribute: contract.features.find((f) => f.type === 'category')!.name,
            minRatio: 0.01,
            minGroupSize: 1,
            favorableLabel: contract.labels[0],
          };
    const c = candidate('same', { fairness });
    const { code, output } = await c.run();
    expect(code, output).toBe(
      contract.artifacts.metrics !== undefined && contract.artifacts.golden !== undefined ? 0 : 1,
    );
    const results = c.results();
    expect(results.map((r) => r.gate)).toEqual([
      'contract',
      'metrics',
      'parity',
      'fairness',
      'latency',
    ]);
    // A model without metrics.json or golden.json cannot pass the gates that need them.
    const needs: Record<string, boolean> = {
      metrics: contract.artifacts.metrics !== undefined,
      parity: contract.artifacts.golden !== undefined,
    };
    for (const r of results)
      expect(r.passed, `${r.gate}: ${r.summary}`).toBe(needs[r.gate] ?? true);
    if (needs.parity) expect(gate(results, 'parity')!.summary).toMatch(/golden cases reproduced/);
    else expect(gate(results, 'parity')!.summary).toMatch(/ships no golden\.json/);
    expect(gate(results, 'latency')!.summary).toMatch(/ratio [\d.]+ <= 5/);
    if (fairness) expect(gate(results, 'fairness')!.summary).toMatch(/disparate impact on /);
    expect(output).toMatch(/^PASS {2}contract/m);
  });

  it('a model that changes the API fails the contract gate with the diff, and is never served', async (ctx) => {
    if (!existsSync(join(projectRoot, 'model', 'model.schema.json'))) return ctx.skip();
    const c = candidate('api');
    const [first, second] = contract.features;
    c.edit('model.schema.json', (s) => {
      s.features = s.features.filter((f: { name: string }) => f.name !== first!.name);
      s.features.push({ name: 'brand_new', type: 'number' });
      if (second) {
        const f = s.features.find((x: { name: string }) => x.name === second.name);
        f.type = second.type === 'text' ? 'number' : 'text';
      }
    });
    const { code, output } = await c.run();
    expect(code, output).toBe(1);
    const results = c.results();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ gate: 'contract', passed: false });
    expect(results[0]!.summary).toMatch(/upgrade --model/);
    expect(results[0]!.details).toEqual(
      expect.arrayContaining([
        `feature ${first!.name} (${first!.type}) is gone`,
        'feature brand_new (number) is new',
      ]),
    );
  });

  it('a model with its weights in a separate file (a PyTorch export) fails with the fix, and is never served', async (ctx) => {
    const c = candidate('split');
    const { tensors } = externalWeightsModel(c.dir);
    if (tensors === 0) return ctx.skip(); // the graph keeps its weights in node attributes only
    const { code, output } = await c.run();
    expect(code, output).toBe(1);
    const failed = c.results().filter((r) => !r.passed);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ gate: 'contract', passed: false });
    expect(c.results().map((r) => r.gate)).not.toContain('parity');
    expect(failed[0]!.details[0]).toMatch(
      /keeps the weights of \d+ tensors? in model\.onnx\.data .*onnx\.save\(onnx\.load/,
    );
  });

  it('worse metrics and golden values the model does not reproduce fail their gates', async (ctx) => {
    if (!contract.artifacts.metrics || !contract.artifacts.golden) return ctx.skip();
    const c = candidate('worse');
    let changed = '';
    c.edit(contract.artifacts.metrics, (m) => {
      const name = Object.keys(m).find(
        (k) =>
          typeof m[k] === 'number' &&
          ['roc_auc', 'pr_auc', 'accuracy', 'macro_f1', 'r2', 'mae', 'rmse', 'brier'].includes(k),
      )!;
      changed = name;
      m[name] = lowerIsBetter.has(name) ? m[name] * 2 + 1 : m[name] * 0.5;
    });
    c.edit(contract.artifacts.golden, (g) => {
      const first = g.cases[0];
      if ('prediction' in first) first.prediction = first.prediction + 1000;
      else first.probabilities = first.probabilities.map((p: number) => 1 - p);
    });
    const { code, output } = await c.run();
    expect(code, output).toBe(1);
    const results = c.results();
    expect(gate(results, 'contract')!.passed).toBe(true);
    expect(gate(results, 'metrics')).toMatchObject({ passed: false });
    expect(gate(results, 'metrics')!.details.join('\n')).toMatch(
      new RegExp(`${changed}: .* breaches`),
    );
    expect(gate(results, 'parity')).toMatchObject({ passed: false });
    expect(gate(results, 'parity')!.details[0]).toMatch(/^case 0: /);
    expect(output).toMatch(/^FAIL {2}metrics/m);
  });

  it('refuses a directory without a model, naming it (exit 2)', async () => {
    const { code, output } = await runToExit(builtModelCheckCli, {}, [join(work, 'nothing')]);
    expect(code).toBe(2);
    expect(output).toMatch(/nothing\/model\.onnx does not exist/);
  });
});
