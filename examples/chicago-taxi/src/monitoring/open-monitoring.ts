/**
 * What the service keeps of its answers, opened at start: the prediction and feedback logs, drift,
 * live quality, the challenger in shadow (and its log), and the Recorder that feeds them all after
 * each answer.
 */
import { performance } from 'node:perf_hooks';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.js';
import type { FeedbackEntry } from '../context.js';
import type { Pools } from '../lifecycle/pools.js';
import type { Metrics } from '../metrics.js';
import type { LoadedModel } from '../model/artifacts.js';
import type { ModelContract } from '../model/contract-types.js';
import {
  ChallengerMonitor,
  type ChallengerModel,
  type ChallengerRecord,
  isNoChallenger,
  loadChallenger,
  type NoChallenger,
} from './challenger.js';
import { DriftMonitor } from './drift.js';
import { type PredictionLog, openPredictionLog } from './prediction-log.js';
import { QualityMonitor } from './quality-monitor.js';
import { Recorder } from './recorder.js';

export interface Monitoring {
  readonly drift: DriftMonitor | null;
  readonly quality: QualityMonitor | null;
  /** The challenger in shadow, or why there is none. */
  readonly challenger: ChallengerMonitor | NoChallenger;
  /** The challenger's model when one runs (its worker starts with the others). */
  readonly challengerModel: ChallengerModel | undefined;
  readonly recorder: Recorder;
  readonly feedbackLog: PredictionLog<FeedbackEntry>;
  /** Records what is pending and closes the logs (bounded by `ms`). */
  close(ms: number): Promise<void>;
}

export interface MonitoringOptions {
  readonly contract: ModelContract;
  readonly config: Config;
  readonly model: LoadedModel;
  readonly metrics: Metrics;
  readonly logger: FastifyBaseLogger;
  /** The pools once started: the challenger's runs in its own. */
  readonly pools: () => Pools | undefined;
}

export async function openMonitoring(options: MonitoringOptions): Promise<Monitoring> {
  const { contract, config, model, metrics, logger } = options;
  const drift = model.driftBaseline
    ? new DriftMonitor(contract, model.driftBaseline, config.driftWindow)
    : null;
  const open = openLogs(config, metrics, logger);
  const log = await open.predictions();
  const quality = QualityMonitor.of(contract, model.metrics, {
    maxPredictions: config.qualityWindow,
    ttlMs: config.qualityTtlHours * 3_600_000,
  });
  const feedbackLog = await open.feedback(quality !== null);
  // The challenger's sidecar is checked now (a misfit stops the start before listening); its
  // worker warms up with the others in start().
  const found = await loadChallenger(contract, config);
  const challengerLog = await open.challenger(!isNoChallenger(found));
  const challenger = isNoChallenger(found)
    ? found
    : quality
      ? shadow(options, found, quality, challengerLog)
      : ({ enabled: false, reason: 'no live quality for this model' } as const);
  const running = isNoChallenger(challenger) ? null : challenger;
  const recorder = new Recorder(contract, log, drift, metrics, quality, running);
  return {
    drift,
    quality,
    challenger,
    challengerModel: running && !isNoChallenger(found) ? found : undefined,
    recorder,
    feedbackLog,
    async close(ms) {
      recorder.flush();
      await Promise.all([log.close(ms), feedbackLog.close(ms), challengerLog.close(ms)]);
    },
  };
}

/** The challenger in shadow: paired with live quality's truth, run in the challenger's pool. */
function shadow(
  options: MonitoringOptions,
  model: ChallengerModel,
  quality: QualityMonitor,
  log: PredictionLog<ChallengerRecord>,
): ChallengerMonitor {
  const { config, metrics, logger, pools } = options;
  const challenger = new ChallengerMonitor({
    challenger: model,
    quality: quality.settings,
    settings: {
      sampleRate: config.challengerSampleRate,
      queue: config.challengerQueue,
      window: config.challengerWindow,
      ttlMs: config.qualityTtlHours * 3_600_000,
      alpha: config.challengerAlpha,
      resamples: config.challengerResamples,
      minSamples: config.challengerMinSamples ?? quality.settings.minSamples,
      maxBatchSize: config.maxBatchSize,
    },
    metrics,
    logger,
    log,
    pool: () => pools()?.challenger,
  });
  quality.onJoined = (id, actual) => challenger.addTruth(id, actual);
  logger.info(
    { dir: model.dir, version: model.version },
    `a challenger runs in shadow on ${Math.round(config.challengerSampleRate * 1000) / 10}% of predictions`,
  );
  return challenger;
}

/** The three JSONL logs: each rotates, buffers and counts lost lines alike, and says when it cannot be written. */
function openLogs(config: Config, metrics: Metrics, logger: FastifyBaseLogger) {
  const onLost = countLostLines(metrics, logger);
  const open = <R extends object>(
    path: string | null,
    unavailable: (path: string | null) => string,
  ): Promise<PredictionLog<R>> =>
    openPredictionLog<R>(path, {
      maxBytes: config.predictionLogMaxBytes,
      keep: config.predictionLogKeep,
      bufferBytes: config.predictionLogBufferBytes,
      onLost,
      onUnavailable: (error) => logger.warn({ err: error, path }, unavailable(path)),
    });
  return {
    predictions: () =>
      open(
        config.predictionLogPath,
        (path) =>
          `the prediction log cannot be written at ${path}: predictions are served but not logged (retried every second; lost lines count in mlservice_prediction_log_failures_total). Point PREDICTION_LOG_PATH at a writable directory, or set it empty to turn the log off`,
      ),
    feedback: (wanted: boolean) =>
      open<FeedbackEntry>(
        wanted ? config.feedbackLogPath : null,
        (path) =>
          `the feedback log cannot be written at ${path}: feedback is joined but not logged. Point FEEDBACK_LOG_PATH at a writable directory, or set it empty to turn it off`,
      ),
    challenger: (wanted: boolean) =>
      open<ChallengerRecord>(
        wanted ? config.challengerLogPath : null,
        (path) =>
          `the challenger log cannot be written at ${path}: the challenger's outputs are paired in memory but not logged. Point CHALLENGER_LOG_PATH at a writable directory, or set it empty to turn it off`,
      ),
  };
}

/** Counts every lost line; says so in the service log at most once a minute. */
function countLostLines(metrics: Metrics, logger: FastifyBaseLogger) {
  let warnedAt = Number.NEGATIVE_INFINITY;
  return (lines: number, error: unknown) => {
    metrics.predictionLogFailures.inc(lines);
    const now = performance.now();
    if (now - warnedAt < 60_000) return;
    warnedAt = now;
    logger.warn({ err: error, lines }, 'prediction log lines lost');
  };
}
