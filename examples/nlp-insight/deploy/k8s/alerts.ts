/**
 * Alerts of the service (a PrometheusRule, when the prometheus-operator objects are on): the error
 * budget burn rate, the p99 latency objective, load shedding, feature drift (PSI), live quality
 * below its floor (once ground truth flows) and the heartbeat of the daily drift check. Every series is one the service exports (see `metrics.ts`) or one of
 * kube-state-metrics.
 */
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { model, service } from '../plan.js';
import type { K8sEnvironment } from './config.js';
import { kubeStateMetrics, nonTrafficRoutes, serviceMetrics as m } from './metrics.js';
import { k8sNames } from './names.js';
import { logShipperContainerName } from './workload.js';

type Groups = NonNullable<IPrometheusRule['spec']['groups']>;
type Rule = NonNullable<Groups[number]['rules']>[number];

const num = (x: number) => Number(x.toFixed(6)).toString();

/** The PromQL label matcher of the environment's namespace. */
const nsMatcher = (env: K8sEnvironment) => `namespace="${env.namespace}"`;

/** The namespace's matcher, without the routes that are not traffic (health, metrics). */
const trafficMatcher = (env: K8sEnvironment) => `${nsMatcher(env)},route!~"${nonTrafficRoutes}"`;

/** The labels of an alert: its severity and the service. */
const alertLabels = (severity: 'critical' | 'warning') => ({ severity, service: service.service });

/** The ratio of 5xx answers among the traffic over `window`. */
const errorRatio = (env: K8sEnvironment, window: string) =>
  `sum by (namespace) (rate(${m.requests}{${trafficMatcher(env)},status=~"5.."}[${window}]))` +
  ` / sum by (namespace) (rate(${m.requests}{${trafficMatcher(env)}}[${window}]))`;

/** Both windows of a multi-window burn rate alert burn the error budget `factor` times too fast. */
function burn(env: K8sEnvironment, factor: number, long: string, short: string): string {
  const budget = 1 - env.monitoring.slo.availability;
  return `(${errorRatio(env, long)} > ${num(factor * budget)})\nand\n(${errorRatio(env, short)} > ${num(factor * budget)})`;
}

/** The service's alert rules, in one group. */
export function alertGroups(env: K8sEnvironment): Groups {
  const rules: Rule[] = [
    ...errorBudgetRules(env),
    ...latencyAndSheddingRules(env),
    featureDriftRule(env),
    ...qualityRules(env),
    ...driftCheckRules(env),
  ];
  return [{ name: `${service.service}.inference`, rules }];
}

/** The availability objective's fast and slow error budget burn alerts. */
function errorBudgetRules(env: K8sEnvironment): Rule[] {
  return [
    {
      alert: 'InferenceErrorBudgetBurnFast',
      expr: burn(env, 14.4, '1h', '5m'),
      for: '2m',
      labels: alertLabels('critical'),
      annotations: {
        summary: `${service.service}: 5xx answers burn the ${env.monitoring.slo.availability * 100}% availability budget 14x too fast`,
        description:
          'At this rate the monthly error budget is gone in about two days. Check recent deploys, ' +
          'the model download (init container logs) and the shed and timeout rates.',
      },
    },
    {
      alert: 'InferenceErrorBudgetBurnSlow',
      expr: burn(env, 6, '6h', '30m'),
      for: '15m',
      labels: alertLabels('warning'),
      annotations: {
        summary: `${service.service}: 5xx answers burn the availability budget 6x too fast`,
        description: 'A steady error rate: look at the 5xx by route on the dashboard.',
      },
    },
  ];
}

/** The p99 latency objective and the share of requests shed. */
function latencyAndSheddingRules(env: K8sEnvironment): Rule[] {
  const traffic = trafficMatcher(env);
  return [
    {
      alert: 'InferenceLatencyP99High',
      expr:
        `histogram_quantile(0.99, sum by (namespace, le) (rate(${m.requestDuration}_bucket{${traffic}}[5m])))` +
        ` > ${num(env.monitoring.slo.latencyP99Seconds)}`,
      for: '10m',
      labels: alertLabels('warning'),
      annotations: {
        summary: `${service.service}: p99 latency above ${env.monitoring.slo.latencyP99Seconds}s`,
        description:
          'Compare queue wait with inference time on the dashboard: queueing means too few ' +
          'replicas (is the HPA at max?), inference time means a slower model or CPU throttling.',
      },
    },
    {
      alert: 'InferenceLoadShedding',
      expr:
        `sum by (namespace) (rate(${m.shed}{${nsMatcher(env)}}[5m]))` +
        ` / sum by (namespace) (rate(${m.requests}{${traffic}}[5m])) > ${num(env.monitoring.shedRatio)}`,
      for: '5m',
      labels: alertLabels('warning'),
      annotations: {
        summary: `${service.service}: more than ${env.monitoring.shedRatio * 100}% of requests shed (503)`,
        description:
          'The queue is full or requests wait too long. The HPA scales on CPU; if it is at ' +
          'maxReplicas, raise it (answers: maxReplicas) or the CPU per pod.',
      },
    },
  ];
}

/** A feature whose live inputs drifted from the training data (PSI). */
function featureDriftRule(env: K8sEnvironment): Rule {
  return {
    alert: 'InferenceFeatureDrift',
    expr: `max by (namespace, feature) (${m.driftPsi}{${nsMatcher(env)}}) > ${num(env.monitoring.driftPsi)}`,
    for: '1h',
    labels: alertLabels('warning'),
    annotations: {
      summary: `${service.service}: feature {{ $labels.feature }} drifted (PSI {{ $value | printf "%.2f" }} > ${env.monitoring.driftPsi})`,
      description:
        'Live inputs no longer look like the training data for this feature. Check the data ' +
        'source, then consider retraining.',
    },
  };
}

/** Live quality, where ground truth can be compared (not a tensor model's raw outputs). */
function qualityRules(env: K8sEnvironment): Rule[] {
  if ((model.task as string) === 'tensor') return [];
  return [
    {
      alert: 'InferenceQualityBelowFloor',
      expr: `max by (namespace, metric) (${m.qualityFloorBreached}{${nsMatcher(env)}}) == 1`,
      for: '30m',
      labels: alertLabels('warning'),
      annotations: {
        summary: `${service.service}: live {{ $labels.metric }} is past its floor from metrics.json`,
        description:
          'The predictions that received their ground truth (POST /feedback) score below the ' +
          'training-time value minus the tolerance. GET /monitoring/performance shows which slice; ' +
          'compare with the drift panel, then retrain or roll back the model.',
      },
    },
  ];
}

/** The heartbeat of the daily drift check, when the job runs. */
function driftCheckRules(env: K8sEnvironment): Rule[] {
  if (!env.drift.enabled) return [];
  const job = `${nsMatcher(env)},cronjob="${k8sNames.driftCronJob}"`;
  return [
    {
      alert: 'DriftCheckMissing',
      expr:
        `(time() - max by (namespace, cronjob) (${kubeStateMetrics.cronJobLastSuccess}{${job}} or ${kubeStateMetrics.cronJobCreated}{${job}})` +
        ` > ${env.monitoring.driftHeartbeatHours * 3600})\nor\nabsent(${kubeStateMetrics.cronJobCreated}{${job}})`,
      for: '1h',
      labels: alertLabels('warning'),
      annotations: {
        summary: `${service.service}: no successful drift check for ${env.monitoring.driftHeartbeatHours}h`,
        description:
          `The daily CronJob ${k8sNames.driftCronJob} has not succeeded: it found drift or live ` +
          'quality below its floor (exit 1 of its drift or quality container, see their logs), ' +
          "found no prediction log for yesterday (the pods' log shipper, " +
          `container ${logShipperContainerName}), could not read it, or is not scheduled.`,
      },
    },
  ];
}
