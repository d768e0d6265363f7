/**
 * Canary delivery with Argo Rollouts (the answer `progressiveDelivery`, docs/adr/0018): a `Rollout`
 * with the Deployment's pod template (chart.ts builds both from one function, so the model's
 * init container, probes, identity and security context are the same objects), canary steps, and
 * an `AnalysisTemplate` whose Prometheus queries read only the canary's own pods.
 *
 * The types come from `@kubernetes-models/argo-rollouts`, generated from Argo Rollouts' CRDs, and
 * every object is validated against those schemas when the app synthesizes (validate.ts).
 *
 * How the queries tell canary from stable: Argo Rollouts labels every pod of a version with
 * `rollouts-pod-template-hash`; the ServiceMonitor copies that pod label onto every scraped series
 * as `rollouts_pod_template_hash` (`canaryRelabeling`), and each analysis receives the canary's hash
 * (`podTemplateHashValue: Latest`). `test/rollouts.test.ts` joins every series and label of the
 * queries to the service's metric definitions and to that relabeling.
 */
import { AnalysisTemplate } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate';
import type { ICanaryStep as CanaryStep } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/CanaryStep';
import type { IMetric as Metric } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Metric';
import { Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import { model, service } from '../plan.js';
import type { K8sEnvironment } from './config.js';
import { nonTrafficRoutes, serviceMetrics as m } from './metrics.js';
import { k8sNames } from './names.js';

/** The pod label Argo Rollouts sets on each version's pods (as `pod-template-hash` on a Deployment's). */
export const rolloutHashPodLabel = 'rollouts-pod-template-hash';

/** The same value on every series scraped from such a pod (Prometheus label names take no `-`). */
export const canaryHashLabel = 'rollouts_pod_template_hash';

/** The analysis argument that carries the canary's hash into the queries. */
export const canaryHashArg = 'canary-hash';

/** The ServiceMonitor endpoint's relabeling that makes the series carry their pod's version. */
export const canaryRelabeling = {
  sourceLabels: [`__meta_kubernetes_pod_label_${rolloutHashPodLabel.replace(/-/g, '_')}`],
  targetLabel: canaryHashLabel,
  action: 'replace',
} as const;

const num = (x: number) => Number(x.toFixed(6)).toString();

/** One metric of the analysis: its PromQL and what passes. */
export interface AnalysisQuery {
  readonly name: string;
  readonly query: string;
  readonly successCondition: string;
  readonly failureCondition: string;
}

/**
 * The canary's queries. A query with no canary traffic gives NaN, which is neither success nor
 * failure: Inconclusive, so the rollout pauses for a person instead of passing on no data.
 * Live quality counts only once the service publishes it (`quality_floor_breached` is absent while
 * too few labelled samples joined), so it passes while no ground truth flows and fails on a breach.
 */
export function analysisQueries(env: K8sEnvironment): AnalysisQuery[] {
  const a = env.delivery.analysis;
  const canary = `namespace="${env.namespace}",${canaryHashLabel}="{{args.${canaryHashArg}}}"`;
  const traffic = `${canary},route!~"${nonTrafficRoutes}"`;
  const rate = (selector: string, series = m.requests) =>
    `sum(rate(${series}{${selector}}[${a.window}]))`;
  const known = (cond: string) => `!isNaN(result[0]) && ${cond}`;
  const queries: AnalysisQuery[] = [
    {
      name: 'error-ratio',
      query: `(${rate(`${traffic},status=~"5.."`)} or vector(0)) / (${rate(traffic)} or vector(0))`,
      successCondition: known(`result[0] <= ${num(a.maxErrorRatio)}`),
      failureCondition: known(`result[0] > ${num(a.maxErrorRatio)}`),
    },
    {
      name: 'latency-p99',
      query: `histogram_quantile(0.99, sum by (le) (rate(${m.requestDuration}_bucket{${traffic}}[${a.window}])))`,
      successCondition: known(`result[0] <= ${num(env.monitoring.slo.latencyP99Seconds)}`),
      failureCondition: known(`result[0] > ${num(env.monitoring.slo.latencyP99Seconds)}`),
    },
  ];
  // Live quality, where ground truth can be compared (not a tensor model's raw outputs), as alerts.ts.
  if ((model.task as string) !== 'tensor') {
    queries.push({
      name: 'live-quality',
      query: `max(${m.qualityFloorBreached}{${canary}}) or vector(0)`,
      successCondition: 'result[0] < 1',
      failureCondition: 'result[0] >= 1',
    });
  }
  return queries;
}

/** The AnalysisTemplate every analysis step of the Rollout runs. */
export function analysisTemplate(env: K8sEnvironment): AnalysisTemplate {
  const a = env.delivery.analysis;
  const metrics: Metric[] = analysisQueries(env).map((q) => ({
    name: q.name,
    interval: a.interval,
    count: a.count,
    failureLimit: a.failureLimit,
    // One gap (a scrape not yet taken) is tolerated; more and a person decides.
    inconclusiveLimit: 1,
    successCondition: q.successCondition,
    failureCondition: q.failureCondition,
    provider: { prometheus: { address: a.prometheusAddress, query: q.query, timeout: 30 } },
  }));
  return new AnalysisTemplate({
    metadata: { name: k8sNames.workload, namespace: env.namespace, labels: { ...service.labels } },
    spec: { args: [{ name: canaryHashArg }], metrics },
  });
}

/** setWeight, pause, analysis for each weight of the environment; 100% follows the last. */
export function canarySteps(env: K8sEnvironment): CanaryStep[] {
  const d = env.delivery;
  return d.weights.flatMap((weight): CanaryStep[] => [
    { setWeight: weight },
    { pause: { duration: `${d.pauseSeconds}s` } },
    {
      analysis: {
        templates: [{ templateName: k8sNames.workload }],
        args: [{ name: canaryHashArg, valueFrom: { podTemplateHashValue: 'Latest' } }],
      },
    },
  ]);
}

/**
 * The Rollout: the Deployment's selector, pod template and history, a replica-weighted canary (no
 * traffic router: the Service keeps selecting every pod, and the weight is the share of replicas).
 */
export function rollout(
  env: K8sEnvironment,
  template: IPodTemplateSpec,
  progressDeadlineSeconds: number,
): Rollout {
  return new Rollout({
    metadata: { name: k8sNames.workload, namespace: env.namespace, labels: { ...service.labels } },
    spec: {
      // No `replicas`: the HPA owns the count (its scaleTargetRef is this Rollout).
      selector: { matchLabels: { ...service.selectorLabels } },
      revisionHistoryLimit: 5,
      progressDeadlineSeconds,
      // A canary that cannot become ready in time is aborted, back to the stable version.
      progressDeadlineAbort: true,
      template: template as never,
      strategy: {
        canary: {
          maxSurge: '25%',
          maxUnavailable: 0,
          steps: canarySteps(env),
        },
      },
    },
  });
}
