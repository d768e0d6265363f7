/**
 * A challenger in shadow: a second model (CHALLENGER_DIR, default `model/challenger/`) that runs on
 * a sample of live traffic after the champion has answered, in its own low-priority worker, so it
 * never slows the champion. Its outputs are logged (CHALLENGER_LOG_PATH) under the champion's
 * `predictionId` and kept in memory paired with the champion's (CHALLENGER_WINDOW pairs, for
 * QUALITY_TTL_HOURS); ground truth from POST /feedback joins both, and GET /monitoring/challenger
 * reports their agreement and, with enough truth, a paired comparison (McNemar's test; a paired
 * bootstrap of ΔAUC or ΔMAE) and a verdict: promote, keep or insufficient-data.
 *
 * - Sampling is deterministic: a prediction is sampled iff the hash of its predictionId (FNV-1a,
 *   then MurmurHash3's finalizer), as a fraction of 2^32, is below CHALLENGER_SAMPLE_RATE.
 * - At most CHALLENGER_QUEUE rows wait for the challenger; a sample that does not fit, or that
 *   arrives while the challenger's worker is not warm, is skipped and counted, never waited for.
 * - At start the challenger's sidecar (when present) must declare the champion's features with
 *   the same types and the same labels (release/contract-diff.ts), and its graph the champion's
 *   inputs and outputs (checked by its worker): otherwise the service refuses to start.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { RunResult } from '../inference/batcher.js';
import { type Prediction, makeShaper } from '../inference/outputs.js';
import type { InferencePool } from '../inference/pool.js';
import { batchLayout, packBatch } from '../inference/tensors.js';
import type { Metrics } from '../metrics.js';
import { ModelLoadError } from '../model/artifacts.js';
import type { ModelContract } from '../model/contract-types.js';
import { externalWeightsProblem } from '../model/external-weights.js';
import { lfsPointerProblem } from '../model/lfs-pointer.js';
import type { Row } from '../model/schemas.js';
import { servingInputs } from '../model/serving.js';
import { contractDiff, sidecarSchema } from '../release/contract-diff.js';
import { compare } from './challenger-compare.js';
import { FifoMap } from './fifo-map.js';
import type { PredictionLog } from './prediction-log.js';
import type { QualitySettings } from './performance.js';

/** The challenger found in CHALLENGER_DIR, checked against the champion's contract. */
export interface ChallengerModel {
  readonly dir: string;
  readonly path: string;
  readonly sha256: string;
  /** The sidecar's version, else the first 12 hex digits of the file's sha256. */
  readonly version: string;
  /** The champion's contract with the challenger's version and decision threshold. */
  readonly contract: ModelContract;
}

/** Why no challenger runs (GET /monitoring/challenger says so). */
export interface NoChallenger {
  readonly enabled: false;
  readonly reason: string;
}

/** Whether `value` says why no challenger runs (rather than being one). */
export function isNoChallenger<T extends object>(value: T | NoChallenger): value is NoChallenger {
  return 'enabled' in value && value.enabled === false;
}

/** A line of the challenger log (with `time`: the champion's answer time). */
export interface ChallengerRecord {
  readonly predictionId: string;
  readonly modelVersion: string;
  readonly outputs: Record<string, unknown>;
}

/**
 * The challenger in CHALLENGER_DIR, or why there is none. Throws a ModelLoadError (the start
 * fails) when its sidecar does not fit the champion's feature contract or cannot be read.
 */
export async function loadChallenger(
  contract: ModelContract,
  config: Pick<Config, 'challengerDir'>,
): Promise<ChallengerModel | NoChallenger> {
  const dir = config.challengerDir;
  if (dir === null) return { enabled: false, reason: 'CHALLENGER_DIR is empty: no challenger' };
  const path = join(dir, 'model.onnx');
  if (contract.kind === 'tensors' || contract.task === 'tensor') {
    if (existsSync(path))
      throw new ModelLoadError(
        `a challenger is in ${dir}, but a tensor model cannot have one (no labels or values to compare): remove ${dir} or set CHALLENGER_DIR empty`,
      );
    return { enabled: false, reason: 'tensor models have no challenger' };
  }
  if (!existsSync(path))
    return { enabled: false, reason: `no challenger: ${path} does not exist (CHALLENGER_DIR)` };
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new ModelLoadError(`cannot read the challenger ${path}: ${(error as Error).message}`);
  }
  const pointer = lfsPointerProblem(bytes, path);
  if (pointer) throw new ModelLoadError(pointer);
  const external = externalWeightsProblem(bytes, path);
  if (external) throw new ModelLoadError(external);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const sidecarPath = join(dir, 'model.schema.json');
  let version = sha256.slice(0, 12);
  let threshold = contract.threshold;
  if (existsSync(sidecarPath)) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(sidecarPath, 'utf8'));
    } catch (error) {
      throw new ModelLoadError(
        `the challenger's sidecar ${sidecarPath} cannot be read: ${(error as Error).message}`,
      );
    }
    const parsed = sidecarSchema.safeParse(json);
    if (!parsed.success)
      throw new ModelLoadError(
        `the challenger's sidecar ${sidecarPath} declares no features: fix it, or remove it to check the challenger's graph only`,
      );
    const diff = contractDiff(contract, parsed.data);
    if (!diff.compatible)
      throw new ModelLoadError(
        `the challenger in ${dir} does not take the champion's features: ${diff.differences.join('; ')}. ` +
          `A challenger must declare the same features, types and labels (${sidecarPath}); ` +
          `retrain it on the champion's features, or remove ${dir} (or set CHALLENGER_DIR empty) to serve without it`,
      );
    if (parsed.data.version) version = parsed.data.version;
    const t = (json as { threshold?: unknown }).threshold;
    if (typeof t === 'number' && t > 0 && t < 1) threshold = t;
  }
  return {
    dir,
    path,
    sha256,
    version,
    contract: {
      ...contract,
      version,
      sha256,
      bytes: bytes.byteLength,
      ...(threshold !== undefined ? { threshold } : {}),
    },
  };
}

/**
 * The predictionId's hash as a fraction of 2^32: the sample is taken below `rate`. FNV-1a alone
 * barely moves its top bits when only the last characters differ, and the rows of one batch
 * (`<requestId>:<row>`) differ only there: a whole batch would land on one side of the rate.
 * MurmurHash3's finalizer (fmix32) spreads every input bit over the result.
 */
export function sampled(predictionId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  let h = 0x811c9dc5;
  for (let i = 0; i < predictionId.length; i++) {
    h ^= predictionId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296 < rate;
}

export type ChallengerVerdict = 'promote' | 'keep' | 'insufficient-data';

export interface ChallengerSettings {
  readonly sampleRate: number;
  readonly queue: number;
  readonly window: number;
  readonly ttlMs: number;
  readonly alpha: number;
  readonly resamples: number;
  readonly minSamples: number;
  /** Rows per challenger run. */
  readonly maxBatchSize: number;
}

/** A prediction both models made, and its truth once it came back. */
export interface Pair {
  readonly time: number;
  readonly champion: Prediction;
  readonly challenger: Prediction;
  actual?: string | number;
}

interface Waiting {
  readonly predictionId: string;
  readonly time: number;
  readonly row: Row;
  readonly champion: Prediction;
  actual?: string | number;
}

export interface ChallengerParts {
  readonly challenger: ChallengerModel;
  readonly quality: QualitySettings;
  readonly settings: ChallengerSettings;
  readonly metrics: Metrics;
  readonly logger: FastifyBaseLogger;
  readonly log: PredictionLog<ChallengerRecord>;
  /** The challenger's pool once started (undefined before, or when it failed). */
  readonly pool: () => InferencePool | undefined;
}

export class ChallengerMonitor {
  private readonly shape;
  private readonly layout;
  /** Pairs by predictionId, oldest first (FifoMap: a Map used as a queue walks its deleted slots). */
  private readonly pairs = new FifoMap<Pair>();
  /** Sampled rows not yet answered by the challenger, by predictionId. */
  private readonly inflight = new Map<string, Waiting>();
  private batch: Waiting[] = [];
  private scheduled = false;
  private samples = 0;
  private readonly skipped = { queue_full: 0, not_ready: 0, failed: 0 };
  private agreeing = 0;
  private absDelta = 0;
  private truths = 0;
  private cached: {
    truths: number;
    pairs: number;
    at: number;
    reuseMs: number;
    report: object;
  } | null = null;

  constructor(private readonly parts: ChallengerParts) {
    this.shape = makeShaper(parts.challenger.contract);
    this.layout = batchLayout(servingInputs(parts.challenger.contract));
  }

  /** Called for every answered prediction (after the answer is sent): takes it if sampled. */
  offer(predictionId: string, row: Row, champion: Prediction, time: number): void {
    const { settings, metrics } = this.parts;
    if (!sampled(predictionId, settings.sampleRate)) return;
    const pool = this.parts.pool();
    if (!pool || pool.warmWorkers === 0 || pool.health === 'closed')
      return this.skip('not_ready', 1);
    if (this.inflight.size >= settings.queue) return this.skip('queue_full', 1);
    const waiting: Waiting = { predictionId, time, row, champion };
    this.inflight.set(predictionId, waiting);
    this.batch.push(waiting);
    metrics.challengerQueue.set(this.inflight.size);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.dispatch());
    }
  }

  /** Truth for a prediction the champion's window joined (POST /feedback). */
  addTruth(predictionId: string, actual: string | number): void {
    const pair = this.pairs.get(predictionId);
    if (pair) {
      if (pair.actual === undefined) {
        pair.actual = actual;
        this.truths += 1;
      }
      return;
    }
    const waiting = this.inflight.get(predictionId);
    if (waiting) waiting.actual = actual;
  }

  private skip(reason: keyof ChallengerMonitor['skipped'], rows: number): void {
    this.skipped[reason] += rows;
    this.parts.metrics.challengerSkipped.inc({ reason }, rows);
  }

  private dispatch(): void {
    this.scheduled = false;
    const items = this.batch;
    this.batch = [];
    const pool = this.parts.pool();
    const size = this.parts.settings.maxBatchSize;
    for (let i = 0; i < items.length; i += size) {
      const chunk = items.slice(i, i + size);
      const done = (outcome: 'ok' | 'failed', error?: unknown) => {
        for (const w of chunk)
          if (this.inflight.get(w.predictionId) === w) this.inflight.delete(w.predictionId);
        this.parts.metrics.challengerQueue.set(this.inflight.size);
        if (outcome === 'failed') {
          this.skip('failed', chunk.length);
          this.parts.logger.warn(
            { err: error },
            'a challenger run failed (the champion is not affected)',
          );
        }
      };
      if (!pool) {
        done('failed', new Error('the challenger pool is not running'));
        continue;
      }
      const packed = packBatch(
        chunk.map((w) => w.row),
        this.layout,
        this.parts.challenger.contract.features,
      );
      pool
        .run<RunResult>({ op: 'run', batch: packed })
        .then((result) => {
          chunk.forEach((w, r) => this.complete(w, this.shape(result.outputs, r)));
          done('ok');
        })
        .catch((error: unknown) => done('failed', error));
    }
  }

  private complete(w: Waiting, challenger: Prediction): void {
    const { settings, metrics } = this.parts;
    this.expire(w.time);
    const pair: Pair = { time: w.time, champion: w.champion, challenger };
    if (w.actual !== undefined) {
      pair.actual = w.actual;
      this.truths += 1;
    }
    // A client that reuses its X-Request-Id reuses the predictionId: the latest pair wins.
    this.drop(w.predictionId);
    this.pairs.set(w.predictionId, pair);
    this.count(pair, 1);
    while (this.pairs.size > settings.window) this.drop(this.pairs.oldest()![0]);
    this.samples += 1;
    metrics.challengerSamples.inc();
    this.parts.log.write(
      {
        predictionId: w.predictionId,
        modelVersion: this.parts.challenger.version,
        outputs: challenger as unknown as Record<string, unknown>,
      },
      w.time,
    );
  }

  private count(pair: Pair, sign: 1 | -1): void {
    const a = pair.champion as { label?: string; prediction?: number };
    const b = pair.challenger as { label?: string; prediction?: number };
    if (a.label !== undefined) this.agreeing += sign * (a.label === b.label ? 1 : 0);
    else this.absDelta += sign * Math.abs(Number(a.prediction) - Number(b.prediction));
  }

  private drop(id: string): void {
    const pair = this.pairs.get(id);
    if (!pair) return;
    this.pairs.delete(id);
    this.count(pair, -1);
    if (pair.actual !== undefined) this.truths -= 1;
  }

  private expire(now: number): void {
    const horizon = now - this.parts.settings.ttlMs;
    for (let o = this.pairs.oldest(); o && o[1].time < horizon; o = this.pairs.oldest())
      this.drop(o[0]);
  }

  /** Warm workers of the challenger's pool (0 or 1). */
  warmWorkers(): number {
    return this.parts.pool()?.warmWorkers ?? 0;
  }

  /** Label agreement rate (classifiers) or mean |Δ| of the predicted values (regression). */
  agreement(): { pairs: number; rate?: number; meanAbsDelta?: number } {
    const n = this.pairs.size;
    if (this.parts.quality.task === 'regression')
      return n === 0 ? { pairs: 0 } : { pairs: n, meanAbsDelta: this.absDelta / n };
    return n === 0 ? { pairs: 0 } : { pairs: n, rate: this.agreeing / n };
  }

  /**
   * GET /monitoring/challenger. The bootstrap holds the event loop (about 0.1 s at 5000 pairs and
   * 1000 resamples, one run on 2 cores), so a report is reused for 50 times as long as it took to
   * compute (at most 5 s) whatever arrived meanwhile: at most 2% of the main thread. While nothing
   * changed it is reused for up to a minute.
   */
  report(now = Date.now()): object {
    this.expire(now);
    const c = this.cached;
    const unchanged = c && c.truths === this.truths && c.pairs === this.samples;
    if (c && (now - c.at < c.reuseMs || (unchanged && now - c.at < 60_000))) return c.report;
    const started = performance.now();
    const report = this.compute();
    const reuseMs = Math.min(5_000, 50 * (performance.now() - started));
    this.cached = { truths: this.truths, pairs: this.samples, at: now, reuseMs, report };
    return report;
  }

  private compute(): object {
    const { challenger, settings, quality } = this.parts;
    const joined = this.pairs.values().filter((p) => p.actual !== undefined);
    const comparison =
      joined.length < settings.minSamples ? null : compare(joined, quality, settings);
    const verdict: { verdict: ChallengerVerdict; reason: string } = comparison
      ? comparison.verdict
      : {
          verdict: 'insufficient-data',
          reason: `${joined.length} of the ${settings.minSamples} paired predictions with truth needed`,
        };
    return {
      enabled: true,
      model: { version: challenger.version, sha256: challenger.sha256, dir: challenger.dir },
      sampleRate: settings.sampleRate,
      samples: this.samples,
      skipped: { ...this.skipped },
      waiting: this.inflight.size,
      window: { pairs: this.pairs.size, withTruth: joined.length },
      agreement: this.agreement(),
      minSamples: settings.minSamples,
      alpha: settings.alpha,
      ...verdict,
      comparison: comparison ? comparison.tests : null,
    };
  }
}
