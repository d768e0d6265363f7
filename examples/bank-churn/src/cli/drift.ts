/**
 * Batch drift check over a prediction log: `npm run drift -- --log predictions.jsonl`.
 *
 * Reads the JSONL log the service writes (one prediction per line, `inputs` holding the record),
 * computes PSI per feature against the model's training baseline and prints a report.
 * Exit 0: no alert (ok, warn or too little data); 1: at least one feature alerts (PSI >= 0.25);
 * 2: usage error or unreadable input; 3: an alert whose retraining request failed. With
 * RETRAIN_DISPATCH_REPOSITORY set, an alert sends `repository_dispatch` (`model-drift`) to the
 * training repository (src/monitoring/retrain-dispatch.ts).
 *
 * Options: --log <file> (required), --model <model.onnx> (default MODEL_PATH or model/model.onnx),
 * --baseline <drift_baseline.json> (the baseline alone, instead of the model's folder: what the drift
 * CronJob has, whose identity may not read the model), --json (machine-readable report),
 * --min-samples <n> (default 100).
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import {
  type DriftBaseline,
  ModelLoadError,
  checkDriftBaseline,
  driftBaselineSchema,
  loadModel,
} from '../model/artifacts.js';
import { contract } from '../model/contract.js';
import { DriftMonitor, type DriftReport } from '../monitoring/drift.js';
import {
  DispatchError,
  dispatchOnAlert,
  dispatchTargetFromEnv,
} from '../monitoring/retrain-dispatch.js';

const usage =
  'usage: npm run drift -- --log <predictions.jsonl> [--model model/model.onnx | --baseline drift_baseline.json] [--json] [--min-samples 100]';

function exit(code: number, message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/** The drift baseline read on its own (`--baseline`), checked as loading it beside the model would. */
async function readBaseline(path: string): Promise<DriftBaseline> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    exit(2, `cannot read the drift baseline ${path}: ${(error as Error).message}`);
  }
  const parsed = driftBaselineSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.map(String).join('.')}: ${i.message}`);
    exit(2, `the drift baseline ${path} is malformed: ${issues.join('; ')}`);
  }
  try {
    checkDriftBaseline(contract, parsed.data, path);
  } catch (error) {
    exit(2, (error as Error).message);
  }
  return parsed.data;
}

export function formatReport(report: DriftReport): string {
  const lines = [
    `drift: ${report.status} (${report.sampleSize} predictions; PSI warn >= ${report.thresholds.warn}, alert >= ${report.thresholds.alert})`,
  ];
  const width = Math.max(7, ...report.features.map((f) => f.name.length));
  lines.push(`${'feature'.padEnd(width)}  ${'psi'.padStart(8)}  status`);
  for (const f of report.features) {
    lines.push(
      `${f.name.padEnd(width)}  ${(f.psi === null ? '-' : f.psi.toFixed(4)).padStart(8)}  ${f.status}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = parseArguments();
  let dispatchTarget;
  try {
    dispatchTarget = dispatchTargetFromEnv();
  } catch (error) {
    exit(2, (error as DispatchError).message);
  }
  const monitor = new DriftMonitor(contract, await baselineOf(args), null, args.minSamples);
  const { lines, skipped } = await observeLog(args.log, monitor);
  const report = monitor.report();
  if (args.json)
    process.stdout.write(`${JSON.stringify({ ...report, lines, skipped }, null, 2)}\n`);
  else {
    process.stdout.write(`${formatReport(report)}\n`);
    if (skipped > 0)
      process.stdout.write(`(${skipped} of ${lines} lines had no inputs and were skipped)\n`);
  }
  const alert = report.status === 'alert';
  const payload = {
    model: contract.name,
    version: contract.version,
    sampleSize: report.sampleSize,
    alerting: report.features.filter((f) => f.status === 'alert').map((f) => f.name),
  };
  process.exit(await dispatchOnAlert(alert, 'model-drift', payload, alert ? 1 : 0, dispatchTarget));
}

interface Arguments {
  readonly log: string;
  readonly model: string | undefined;
  readonly baseline: string | undefined;
  readonly json: boolean;
  readonly minSamples: number;
}

/** The command line, checked: a usage error exits 2 with the usage. */
function parseArguments(): Arguments {
  let args;
  try {
    args = parseArgs({
      options: {
        log: { type: 'string' },
        model: { type: 'string' },
        baseline: { type: 'string' },
        json: { type: 'boolean', default: false },
        'min-samples': { type: 'string', default: '100' },
      },
      strict: true,
    }).values;
  } catch (error) {
    exit(2, `${(error as Error).message}\n${usage}`);
  }
  if (!args.log) exit(2, `--log is required\n${usage}`);
  const minSamples = Number(args['min-samples']);
  if (!Number.isInteger(minSamples) || minSamples < 1)
    exit(2, `--min-samples must be a whole number >= 1\n${usage}`);
  if (args.baseline && args.model) exit(2, `--baseline and --model exclude each other\n${usage}`);
  return {
    log: args.log,
    model: args.model,
    baseline: args.baseline,
    json: !!args.json,
    minSamples,
  };
}

/** The training distribution to compare with: --baseline, else the model's own drift baseline. */
async function baselineOf(args: Arguments): Promise<DriftBaseline> {
  if (args.baseline) return readBaseline(resolve(args.baseline));
  const modelPath = resolve(args.model ?? process.env.MODEL_PATH ?? 'model/model.onnx');
  let model;
  try {
    model = await loadModel(contract, modelPath);
  } catch (error) {
    exit(2, error instanceof ModelLoadError ? error.message : String(error));
  }
  if (!model.driftBaseline)
    exit(
      2,
      `the model ships no drift baseline (expected ${contract.artifacts.driftBaseline ?? 'drift_baseline.json'} beside ${modelPath})`,
    );
  return model.driftBaseline;
}

/** Every logged prediction's inputs into the monitor; lines without inputs are counted, not fatal. */
async function observeLog(
  path: string,
  monitor: DriftMonitor,
): Promise<{ lines: number; skipped: number }> {
  const stream = createReadStream(resolve(path));
  const opened = new Promise<void>((ok, fail) => {
    stream.once('open', () => ok());
    stream.once('error', fail);
  });
  try {
    await opened;
  } catch (error) {
    exit(2, `cannot read ${path}: ${(error as Error).message}`);
  }
  let lines = 0;
  let skipped = 0;
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    lines += 1;
    if (line.trim() === '') continue;
    try {
      const entry = JSON.parse(line) as { inputs?: unknown };
      if (entry.inputs && typeof entry.inputs === 'object')
        monitor.observe(entry.inputs as Record<string, unknown>);
      else skipped += 1;
    } catch {
      skipped += 1;
    }
  }
  return { lines, skipped };
}

try {
  await main();
} catch (error) {
  // Exit 1 means "drift alert": anything unexpected is a usage/input error instead.
  exit(2, `drift check failed: ${(error as Error).message ?? String(error)}`);
}
