/**
 * Prometheus metrics. The names below are the service's runtime contract (docs/service-contract.md
 * of create-mlops-service): dashboards, alerts and the Kubernetes manifests rely on them, so they
 * are defined here once and everything else imports `metricNames`.
 */
import client from 'prom-client';
import type { ModelContract } from './model/contract-types.js';

export const metricPrefix = 'mlservice_';

export const metricNames = {
  requests: 'mlservice_requests_total',
  requestDuration: 'mlservice_request_duration_seconds',
  queueWait: 'mlservice_queue_wait_seconds',
  inferenceDuration: 'mlservice_inference_duration_seconds',
  batchSize: 'mlservice_batch_size',
  queueDepth: 'mlservice_queue_depth',
  inflight: 'mlservice_inflight_requests',
  shed: 'mlservice_shed_total',
  timeouts: 'mlservice_timeouts_total',
  predictions: 'mlservice_predictions_total',
  predictionValue: 'mlservice_prediction_value',
  validationErrors: 'mlservice_validation_errors_total',
  predictionLogFailures: 'mlservice_prediction_log_failures_total',
  workerRestarts: 'mlservice_worker_restarts_total',
  poolRestores: 'mlservice_pool_restores_total',
  workersReady: 'mlservice_workers_ready',
  explainDuration: 'mlservice_explain_duration_seconds',
  modelInfo: 'mlservice_model_info',
  driftPsi: 'mlservice_drift_psi',
  qualityMetric: 'mlservice_quality_metric',
  qualityFloorBreached: 'mlservice_quality_floor_breached',
  feedback: 'mlservice_feedback_total',
  challengerAgreement: 'mlservice_challenger_agreement',
  challengerSamples: 'mlservice_challenger_samples_total',
  challengerSkipped: 'mlservice_challenger_skipped_total',
  challengerQueue: 'mlservice_challenger_queue_depth',
} as const;

/** Seconds, with sub-millisecond resolution: a tabular model answers in well under 1 ms. */
export const latencyBuckets = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
export const batchSizeBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
export const predictionValueBuckets = [
  0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000,
];

export type Metrics = ReturnType<typeof createMetrics>;

type Registers = client.Registry[];

/** One registry per service instance (tests run several in one process). */
export function createMetrics(contract: ModelContract, sha256: string) {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const registers = [registry];
  // Registered in this order, and so exposed in it.
  const serving = servingMetrics(registers);
  const queue = queueMetrics(registers);
  const made = predictionMetrics(registers);
  made.modelInfo.set({ name: contract.name, version: contract.version, sha256 }, 1);
  const monitoring = monitoringMetrics(registers);
  const challenger = challengerMetrics(registers);
  return { registry, ...serving, ...queue, ...made, ...monitoring, ...challenger };
}

/** Requests and their latency, by route: what the SLOs read. */
function servingMetrics(registers: Registers) {
  const requests = new client.Counter({
    name: metricNames.requests,
    help: 'HTTP requests answered, by route and status code.',
    labelNames: ['route', 'status'] as const,
    registers,
  });
  const requestDuration = new client.Histogram({
    name: metricNames.requestDuration,
    help: 'Time from receiving a request to answering it, in seconds.',
    labelNames: ['route'] as const,
    buckets: latencyBuckets,
    registers,
  });
  // Label lookups cost a string join each; the hot path reuses the children.
  const requestChildren = new Map<string, client.Counter.Internal>();
  const durationChildren = new Map<string, client.Histogram.Internal<'route'>>();
  return {
    requests,
    requestDuration,
    observeRequest(route: string, status: number, seconds: number): void {
      const key = `${route} ${status}`;
      let counter = requestChildren.get(key);
      if (!counter) {
        counter = requests.labels(route, String(status));
        requestChildren.set(key, counter);
      }
      counter.inc();
      let histogram = durationChildren.get(route);
      if (!histogram) {
        histogram = requestDuration.labels(route);
        durationChildren.set(route, histogram);
      }
      histogram.observe(seconds);
    },
  };
}

/** The batcher's queue and runs, and what admission refused or timed out. */
function queueMetrics(registers: Registers) {
  const queueWait = new client.Histogram({
    name: metricNames.queueWait,
    help: 'Time a prediction waited for an inference worker, in seconds.',
    buckets: latencyBuckets,
    registers,
  });
  const inferenceDuration = new client.Histogram({
    name: metricNames.inferenceDuration,
    help: 'Model run time of one batch inside a worker, in seconds.',
    buckets: latencyBuckets,
    registers,
  });
  const batchSize = new client.Histogram({
    name: metricNames.batchSize,
    help: 'Rows per model run (concurrent requests coalesced into one batch).',
    buckets: batchSizeBuckets,
    registers,
  });
  const queueDepth = new client.Gauge({
    name: metricNames.queueDepth,
    help: 'Requests waiting for an inference worker.',
    registers,
  });
  const inflight = new client.Gauge({
    name: metricNames.inflight,
    help: 'HTTP requests being handled.',
    registers,
  });
  const shed = new client.Counter({
    name: metricNames.shed,
    help: 'Requests refused with 503 to protect latency, by reason.',
    labelNames: ['reason'] as const,
    registers,
  });
  const timeouts = new client.Counter({
    name: metricNames.timeouts,
    help: 'Requests answered 504 because they passed their deadline.',
    registers,
  });
  return { queueWait, inferenceDuration, batchSize, queueDepth, inflight, shed, timeouts };
}

/** What the model answered, refused inputs, lost log lines, the workers, explanations, the model. */
function predictionMetrics(registers: Registers) {
  const predictions = new client.Counter({
    name: metricNames.predictions,
    help: 'Predictions made, by predicted class.',
    labelNames: ['class'] as const,
    registers,
  });
  const predictionValue = new client.Histogram({
    name: metricNames.predictionValue,
    help: 'Predicted values (regression).',
    buckets: predictionValueBuckets,
    registers,
  });
  const validationErrors = new client.Counter({
    name: metricNames.validationErrors,
    help: 'Requests refused with 400 because their input was invalid, by route.',
    labelNames: ['route'] as const,
    registers,
  });
  const predictionLogFailures = new client.Counter({
    name: metricNames.predictionLogFailures,
    help: 'Prediction log lines lost: dropped from a full buffer or in a failed write (the predictions themselves succeeded).',
    registers,
  });
  const workerRestarts = new client.Counter({
    name: metricNames.workerRestarts,
    help: 'Inference workers that died and were replaced.',
    registers,
  });
  const poolRestores = new client.Counter({
    name: metricNames.poolRestores,
    help: 'Launches of a fresh set of workers after a replacement worker could not load the model, by pool and outcome.',
    labelNames: ['pool', 'outcome'] as const,
    registers,
  });
  const workersReady = new client.Gauge({
    name: metricNames.workersReady,
    help: 'Inference workers that are warm and take tasks, by pool.',
    labelNames: ['pool'] as const,
    registers,
  });
  const explainDuration = new client.Histogram({
    name: metricNames.explainDuration,
    help: 'Time to compute one explanation, in seconds.',
    buckets: latencyBuckets,
    registers,
  });
  const modelInfo = new client.Gauge({
    name: metricNames.modelInfo,
    help: 'The model being served (always 1).',
    labelNames: ['name', 'version', 'sha256'] as const,
    registers,
  });
  const classChildren = new Map<string, client.Counter.Internal>();
  return {
    predictions,
    predictionValue,
    validationErrors,
    predictionLogFailures,
    workerRestarts,
    poolRestores,
    workersReady,
    explainDuration,
    modelInfo,
    countClass(label: string): void {
      let counter = classChildren.get(label);
      if (!counter) {
        counter = predictions.labels(label);
        classChildren.set(label, counter);
      }
      counter.inc();
    },
  };
}

/** Drift and live quality against the truth that comes back. */
function monitoringMetrics(registers: Registers) {
  const driftPsi = new client.Gauge({
    name: metricNames.driftPsi,
    help: 'Population stability index of each feature against the training baseline (0.1 warn, 0.25 alert).',
    labelNames: ['feature'] as const,
    registers,
  });

  const qualityMetric = new client.Gauge({
    name: metricNames.qualityMetric,
    help: 'Live quality over the predictions joined to their truth (GET /monitoring/performance): each metric overall (slice="overall") and per slice group, once it has enough samples.',
    labelNames: ['metric', 'slice', 'group'] as const,
    registers,
  });
  const qualityFloorBreached = new client.Gauge({
    name: metricNames.qualityFloorBreached,
    help: 'Whether a live metric is past its floor from metrics.json (1), holds it (0); absent while there are too few samples.',
    labelNames: ['metric'] as const,
    registers,
  });
  const feedback = new client.Counter({
    name: metricNames.feedback,
    help: 'Ground truth received by POST /feedback, by what the window made of it (joined, unknown, duplicate).',
    labelNames: ['outcome'] as const,
    registers,
  });
  return { driftPsi, qualityMetric, qualityFloorBreached, feedback };
}

/** The challenger in shadow. */
function challengerMetrics(registers: Registers) {
  const challengerAgreement = new client.Gauge({
    name: metricNames.challengerAgreement,
    help: 'The challenger in shadow (GET /monitoring/challenger) against the champion over the paired predictions: the share of equal labels (classifiers), the mean absolute difference of the values (regression).',
    registers,
  });
  const challengerSamples = new client.Counter({
    name: metricNames.challengerSamples,
    help: 'Predictions the challenger in shadow also made.',
    registers,
  });
  const challengerSkipped = new client.Counter({
    name: metricNames.challengerSkipped,
    help: 'Sampled predictions the challenger did not make, by reason: queue_full (CHALLENGER_QUEUE), not_ready (its worker not warm), failed (its run failed).',
    labelNames: ['reason'] as const,
    registers,
  });
  const challengerQueue = new client.Gauge({
    name: metricNames.challengerQueue,
    help: 'Sampled rows waiting for the challenger (at most CHALLENGER_QUEUE).',
    registers,
  });
  return { challengerAgreement, challengerSamples, challengerSkipped, challengerQueue };
}
