/**
 * Live quality, offline: `npm run monitor -- --predictions <dir|file> --feedback <dir|file>`.
 *
 * Reads the prediction log the service writes and the feedback log of POST /feedback (JSONL files,
 * or directories of them such as the shipped `dt=YYYY-MM-DD/` folders), joins them in time order
 * with the same window the service uses, and prints the same performance report as
 * GET /monitoring/performance: the task's metrics overall and per slice, with sample counts, and
 * the floors from the model's metrics.json. Exit 0: no floor breached (or too few samples to say);
 * 1: a floor is breached; 2: usage error or unreadable input; 3: a breach whose retraining request
 * failed. With RETRAIN_DISPATCH_REPOSITORY set, a breach sends `repository_dispatch`
 * (`model-quality`) to the training repository (src/monitoring/retrain-dispatch.ts).
 *
 * Options: --metrics <metrics.json> (default: beside MODEL_PATH or model/), --json,
 * --min-samples <n> (default: the sidecar's), --ttl-days <n> (how long a prediction waits for its
 * truth, default 30).
 */
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { contract } from '../model/contract.js';
import {
  type FeedbackRecord,
  type LoggedPrediction,
  parseFeedbackLine,
  parsePredictionLine,
  replay,
} from '../monitoring/join-window.js';
import {
  type PerformanceReport,
  performanceReport,
  settingsFor,
} from '../monitoring/performance.js';
import { dispatchOnAlert } from '../monitoring/retrain-dispatch.js';

const usage =
  'usage: npm run monitor -- --predictions <dir|file> --feedback <dir|file> [--metrics model/metrics.json] [--json] [--min-samples n] [--ttl-days 30]';

function exit(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** The JSONL files of a file or a directory (recursively), in name order. */
async function filesOf(path: string): Promise<string[]> {
  const info = await stat(path).catch((error: Error) =>
    exit(2, `cannot read ${path}: ${error.message}`),
  );
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith('.'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

async function* jsonLines(path: string): AsyncGenerator<Record<string, unknown>> {
  for (const file of await filesOf(path)) {
    for await (const line of createInterface({
      input: createReadStream(file),
      crlfDelay: Infinity,
    })) {
      if (line.trim() === '') continue;
      try {
        const value: unknown = JSON.parse(line);
        if (value && typeof value === 'object') yield value as Record<string, unknown>;
      } catch {
        // A torn last line of a rotated file: skipped.
      }
    }
  }
}

export function formatPerformance(report: PerformanceReport): string {
  const fmt = (m: PerformanceReport['overall']['metrics']) =>
    m === 'insufficient'
      ? `insufficient (< ${report.minSamples} samples)`
      : Object.entries(m)
          .map(([k, v]) => `${k} ${v.toFixed(4)}`)
          .join(', ');
  const lines = [`overall (${report.overall.samples}): ${fmt(report.overall.metrics)}`];
  for (const slice of report.slices) {
    lines.push(`by ${slice.feature}:`);
    for (const g of slice.groups) lines.push(`  ${g.value} (${g.samples}): ${fmt(g.metrics)}`);
  }
  for (const f of report.floors) {
    const state = f.breached === null ? 'not enough samples' : f.breached ? 'BREACHED' : 'ok';
    lines.push(
      `floor ${f.metric} ${f.floor.toFixed(4)}: ${state}${f.value === null ? '' : ` (${f.value.toFixed(4)})`}`,
    );
  }
  return lines.join('\n');
}

async function trainedMetrics(
  path: string | undefined,
): Promise<Record<string, unknown> | undefined> {
  const file = resolve(
    path ??
      join(
        dirname(process.env.MODEL_PATH ?? 'model/model.onnx'),
        contract.artifacts.metrics ?? 'metrics.json',
      ),
  );
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if (path) exit(2, `cannot read ${file}: ${(error as Error).message}`);
    return undefined; // no floors without the training metrics
  }
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        predictions: { type: 'string' },
        feedback: { type: 'string' },
        metrics: { type: 'string' },
        json: { type: 'boolean', default: false },
        'min-samples': { type: 'string' },
        'ttl-days': { type: 'string', default: '30' },
      },
      strict: true,
    }).values;
  } catch (error) {
    exit(2, `${(error as Error).message}\n${usage}`);
  }
  if (!args.predictions || !args.feedback)
    exit(2, `--predictions and --feedback are required\n${usage}`);
  const base = settingsFor(contract, await trainedMetrics(args.metrics));
  if (!base)
    exit(2, `the ${contract.name} model (${contract.task}) has no live quality to measure`);
  const minSamples =
    args['min-samples'] === undefined ? base.minSamples : Number(args['min-samples']);
  if (!Number.isInteger(minSamples) || minSamples < 1)
    exit(2, `--min-samples must be a whole number >= 1\n${usage}`);
  const ttlDays = Number(args['ttl-days']);
  if (!(ttlDays > 0)) exit(2, `--ttl-days must be a positive number\n${usage}`);

  const predictions: LoggedPrediction[] = [];
  for await (const line of jsonLines(resolve(args.predictions))) {
    const p = parsePredictionLine(line);
    if (p) predictions.push(p);
  }
  const feedback: Array<FeedbackRecord & { time: number }> = [];
  for await (const line of jsonLines(resolve(args.feedback))) {
    const f = parseFeedbackLine(line);
    if (f) feedback.push(f);
  }
  const replayed = replay(predictions, feedback, ttlDays * 86_400_000);
  const report = performanceReport(replayed.window.joined(), { ...base, minSamples });
  if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    process.stdout.write(`${formatPerformance(report)}\n`);
    process.stdout.write(
      `(${predictions.length} predictions, ${feedback.length} feedback, ${replayed.unmatched} unmatched)\n`,
    );
  }
  const breached = report.floors.filter((f) => f.breached === true);
  const payload = {
    model: contract.name,
    version: contract.version,
    breached: breached.map((f) => `${f.metric} ${f.value} vs floor ${f.floor}`),
  };
  const alert = breached.length > 0;
  process.exit(await dispatchOnAlert(alert, 'model-quality', payload, alert ? 1 : 0));
}

try {
  await main();
} catch (error) {
  // Exit 1 means "a floor is breached": anything unexpected is a usage/input error instead.
  exit(2, `monitor failed: ${(error as Error).message ?? String(error)}`);
}
