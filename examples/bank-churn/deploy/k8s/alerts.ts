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

export function alertGroups(env: K8sEnvironment): Groups {
  const ns = `namespace="${env.namespace}"`;
  const traffic = `${ns},route!~"${nonTrafficRoutes}"`;
  const errorRatio = (window: string) =>
    `sum by (namespace) (rate(${m.requests}{${traffic},status=~"5.."}[${window}]))` +
    ` / sum by (namespace) (rate(${m.requests}{${traffic}}[${window}]))`;
  const budget = 1 - env.monitoring.slo.availability;
  const labels = (severity: 'critical' | 'warning') => ({ severity, service: service.service });
  const burn = (factor: number, long: string, short: string) =>
    `(${errorRatio(long)} > ${num(factor * budget)})\nand\n(${errorRatio(short)} > ${num(factor * budget)})`;

  const rules: Rule[] = [
    {
      alert: 'InferenceErrorBudgetBurnFast',
      expr: burn(14.4, '1h', '5m'),
      for: '2m',
      labels: labels('critical'),
      annotations: {
        summary: `${service.service}: 5xx answers burn the ${env.monitoring.slo.availability * 100}% availability budget 14x too fast`,
        description:
          'At this rate the monthly error budget is gone in about two days. Check recent deploys, ' +
          'the model download (init container logs) and the shed and timeout rates.',
      },
    },
    {
      alert: 'InferenceErrorBudgetBurnSlow',
      expr: burn(6, '6h', '30m'),
      for: '15m',
      labels: labels('warning'),
      annotations: {
        summary: `${service.service}: 5xx answers burn the availability budget 6x too fast`,
        description: 'A steady error rate: look at the 5xx by route on the dashboard.',
      },
    },
    {
      alert: 'InferenceLatencyP99High',
      expr:
        `histogram_quantile(0.99, sum by (namespace, le) (rate(${m.requestDuration}_bucket{${traffic}}[5m])))` +
        ` > ${num(env.monitoring.slo.latencyP99Seconds)}`,
      for: '10m',
      labels: labels('warning'),
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
        `sum by (namespace) (rate(${m.shed}{${ns}}[5m]))` +
        ` / sum by (namespace) (rate(${m.requests}{${traffic}}[5m])) > ${num(env.monitoring.shedRatio)}`,
      for: '5m',
      labels: labels('warning'),
      annotations: {
        summary: `${service.service}: more than ${env.monitoring.shedRatio * 100}% of requests shed (503)`,
        description:
          'The queue is full or requests wait too long. The HPA scales on CPU; if it is at ' +
          'maxReplicas, raise it (answers: maxReplicas) or the CPU per pod.',
      },
    },
    {
      alert: 'InferenceFeatureDrift',
      expr: `max by (namespace, feature) (${m.driftPsi}{${ns}}) > ${num(env.monitoring.driftPsi)}`,
      for: '1h',
      labels: labels('warning'),
      annotations: {
        summary: `${service.service}: feature {{ $labels.feature }} drifted (PSI {{ $value | printf "%.2f" }} > ${env.monitoring.driftPsi})`,
        description:
          'Live inputs no longer look like the training data for this feature. Check the data ' +
          'source, then consider retraining.',
      },
    },
  ];

  // Live quality, where ground truth can be compared (not a tensor model's raw outputs).
  if ((model.task as string) !== 'tensor') {
    rules.push({
      alert: 'InferenceQualityBelowFloor',
      expr: `max by (namespace, metric) (${m.qualityFloorBreached}{${ns}}) == 1`,
      for: '30m',
      labels: labels('warning'),
      annotations: {
        summary: `${service.service}: live {{ $labels.metric }} is past its floor from metrics.json`,
        description:
          'The predictions that received their ground truth (POST /feedback) score below the ' +
          'training-time value minus the tolerance. GET /monitoring/performance shows which slice; ' +
          'compare with the drift panel, then retrain or roll back the model.',
      },
    });
  }

  if (env.drift.enabled) {
    const job = `${ns},cronjob="${k8sNames.driftCronJob}"`;
    rules.push({
      alert: 'DriftCheckMissing',
      expr:
        `(time() - max by (namespace, cronjob) (${kubeStateMetrics.cronJobLastSuccess}{${job}} or ${kubeStateMetrics.cronJobCreated}{${job}})` +
        ` > ${env.monitoring.driftHeartbeatHours * 3600})\nor\nabsent(${kubeStateMetrics.cronJobCreated}{${job}})`,
      for: '1h',
      labels: labels('warning'),
      annotations: {
        summary: `${service.service}: no successful drift check for ${env.monitoring.driftHeartbeatHours}h`,
        description:
          `The daily CronJob ${k8sNames.driftCronJob} has not succeeded: it found drift or live ` +
          'quality below its floor (exit 1 of its drift or quality container, see their logs), ' +
          "found no prediction log for yesterday (the pods' log shipper, " +
          `container ${logShipperContainerName}), could not read it, or is not scheduled.`,
      },
    });
  }

  return [{ name: `${service.service}.inference`, rules }];
}
