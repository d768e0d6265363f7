/**
 * `npm run monitor`: the offline performance report over a prediction log and a feedback log, as
 * the service writes them, equals the report computed in-process from the same records (the live
 * monitor's path: the same window and the same metrics), and exits 1 when a floor is breached.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel } from '../src/model/artifacts.js';
import { contract } from '../src/model/contract.js';
import {
  parseFeedbackLine,
  parsePredictionLine,
  predictionIdOf,
  replay,
} from '../src/monitoring/join-window.js';
import { performanceReport, settingsFor } from '../src/monitoring/performance.js';
import { builtMonitorCli, projectRoot } from './helpers/build.js';
import { runToExit } from './helpers/child.js';

const dir = mkdtempSync(join(tmpdir(), 'monitor-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Prediction and feedback log lines from the golden cases; `wrong` flips every truth. */
async function logs(wrong: boolean) {
  const model = await loadModel(contract, join(projectRoot, 'model', 'model.onnx'));
  const cases = model.golden?.cases ?? [];
  const predictions = cases.map((c, i) => {
    const outputs =
      'prediction' in c
        ? { prediction: c.prediction }
        : {
            label: String(c.label),
            probabilities: Object.fromEntries(
              contract.labels.map((l, k) => [l, c.probabilities[k]!]),
            ),
          };
    return { time: 1_000 * i, requestId: `r${i}`, endpoint: '/predict', inputs: c.input, outputs };
  });
  const feedback = cases.map((c, i) => {
    const truth =
      'prediction' in c
        ? { value: wrong ? -c.prediction * 10 : c.prediction * 1.01 }
        : {
            label: wrong ? contract.labels.find((l) => l !== String(c.label))! : String(c.label),
          };
    return { time: 1_000 * i + 500, predictionId: predictionIdOf(`r${i}`), ...truth };
  });
  const write = (name: string, lines: object[]) => {
    const path = join(dir, `${name}-${wrong}.jsonl`);
    writeFileSync(path, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    return path;
  };
  return {
    model,
    predictions,
    feedback,
    files: {
      predictions: write('predictions', predictions),
      feedback: write('feedback', feedback),
    },
  };
}

describe('npm run monitor (the CLI)', () => {
  it('reports exactly what the in-process join computes, slices included', async (ctx) => {
    const { model, predictions, feedback, files } = await logs(false);
    const settings = settingsFor(contract, model.metrics ?? undefined);
    if (!settings || predictions.length === 0) return ctx.skip();
    const run = await runToExit(builtMonitorCli, {}, [
      '--predictions',
      files.predictions,
      '--feedback',
      files.feedback,
      '--json',
      '--min-samples',
      '1',
    ]);
    expect(run.code, run.output).toBe(0);
    const replayed = replay(
      predictions.map((p) => parsePredictionLine(p)!),
      feedback.map((f) => parseFeedbackLine(f)!),
      30 * 86_400_000,
    );
    expect(replayed.unmatched).toBe(0);
    const expected = performanceReport(replayed.window.joined(), { ...settings, minSamples: 1 });
    expect(JSON.parse(run.output)).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(expected.overall.samples).toBe(predictions.length);
    expect(expected.slices.map((s) => s.feature)).toEqual(
      (contract.monitoring?.slices ?? []).map((s) => s.feature),
    );
  });

  it('exits 1 when the model falls below a floor from metrics.json', async (ctx) => {
    const { model, files } = await logs(true);
    const settings = settingsFor(contract, model.metrics ?? undefined);
    if (!settings || Object.keys(settings.floors).length === 0) return ctx.skip();
    const run = await runToExit(builtMonitorCli, {}, [
      '--predictions',
      files.predictions,
      '--feedback',
      files.feedback,
      '--min-samples',
      '1',
    ]);
    expect(run.code, run.output).toBe(1);
    expect(run.output).toMatch(/floor \S+ [\d.]+: BREACHED/);
  });

  it('names what is missing (exit 2)', async () => {
    const run = await runToExit(builtMonitorCli, {}, ['--predictions', dir]);
    expect(run.code).toBe(2);
    expect(run.output).toContain('--predictions and --feedback are required');
  });
});
