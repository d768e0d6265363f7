/**
 * The metrics the dashboard and the alerts query. The service defines them (`src/metrics.ts`, see its
 * runtime contract); `test/metrics.test.ts` reads those definitions and fails when a query here names
 * a metric or a label the service does not export.
 */
import { service } from '../plan.js';

const p = service.metricPrefix;

export const serviceMetrics = {
  requests: `${p}_requests_total`,
  requestDuration: `${p}_request_duration_seconds`,
  queueWait: `${p}_queue_wait_seconds`,
  inferenceDuration: `${p}_inference_duration_seconds`,
  batchSize: `${p}_batch_size`,
  queueDepth: `${p}_queue_depth`,
  inflight: `${p}_inflight_requests`,
  shed: `${p}_shed_total`,
  timeouts: `${p}_timeouts_total`,
  predictions: `${p}_predictions_total`,
  predictionValue: `${p}_prediction_value`,
  validationErrors: `${p}_validation_errors_total`,
  predictionLogFailures: `${p}_prediction_log_failures_total`,
  workerRestarts: `${p}_worker_restarts_total`,
  modelInfo: `${p}_model_info`,
  driftPsi: `${p}_drift_psi`,
  qualityMetric: `${p}_quality_metric`,
  qualityFloorBreached: `${p}_quality_floor_breached`,
  feedback: `${p}_feedback_total`,
  challengerAgreement: `${p}_challenger_agreement`,
  challengerSamples: `${p}_challenger_samples_total`,
  challengerSkipped: `${p}_challenger_skipped_total`,
} as const;

/** kube-state-metrics series the drift heartbeat reads (not the service's). */
export const kubeStateMetrics = {
  cronJobLastSuccess: 'kube_cronjob_status_last_successful_time',
  cronJobCreated: 'kube_cronjob_created',
} as const;

/** Routes that are not traffic: probes and the scrape itself. */
export const nonTrafficRoutes = '/healthz|/readyz|/metrics';
