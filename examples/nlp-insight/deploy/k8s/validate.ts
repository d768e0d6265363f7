/**
 * Schema validation of every synthesized object: Kubernetes kinds against the OpenAPI schema that
 * `kubernetes-models` ships (generated from the Kubernetes API), the prometheus-operator kinds
 * against their CRDs' schemas (`@kubernetes-models/prometheus-operator`), the Argo Rollouts kinds
 * against theirs (`@kubernetes-models/argo-rollouts`). A kind without a schema
 * is an error, so nothing ships unvalidated. The schemas do not reject unknown fields; the typed
 * builders in `chart.ts` do, at compile time.
 */
import { ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { AnalysisTemplate } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate';
import { Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';

export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

type Validator = new (data: never) => { validate(): void };

const models: Record<string, Validator> = {};
for (const m of [
  Namespace,
  ServiceAccount,
  Service,
  ConfigMap,
  Deployment,
  HorizontalPodAutoscaler,
  PodDisruptionBudget,
  NetworkPolicy,
  CronJob,
  Role,
  RoleBinding,
  ValidatingAdmissionPolicy,
  ValidatingAdmissionPolicyBinding,
  ServiceMonitor,
  PrometheusRule,
  Rollout,
  AnalysisTemplate,
]) {
  models[`${m.apiVersion}/${m.kind}`] = m as unknown as Validator;
}

/** Kinds whose objects live outside any namespace. */
export const clusterScoped = new Set([
  'Namespace',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
]);

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const labelName =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Problems of one object; empty when it is valid. */
export function problemsOf(object: Manifest): string[] {
  const where = `${object.kind}/${object.metadata?.name ?? '?'}`;
  const problems: string[] = [];
  const Model = models[`${object.apiVersion}/${object.kind}`];
  if (!Model) {
    return [`${where}: no schema for ${object.apiVersion} ${object.kind}`];
  }
  try {
    new Model(object as never).validate();
  } catch (e) {
    problems.push(`${where}: ${(e as Error).message}`);
  }
  const name = object.metadata?.name ?? '';
  const maxName =
    object.kind === 'CronJob'
      ? 52
      : object.kind === 'Namespace' || object.kind === 'Service'
        ? 63
        : 253;
  if (!dns1123Subdomain.test(name) || name.length > maxName) {
    problems.push(`${where}: name is not a valid ${object.kind} name (max ${maxName})`);
  }
  if (clusterScoped.has(object.kind) === (object.metadata?.namespace !== undefined)) {
    problems.push(
      `${where}: ${clusterScoped.has(object.kind) ? 'cluster-scoped with' : 'without'} a namespace`,
    );
  }
  for (const labels of labelMaps(object)) {
    for (const [k, v] of Object.entries(labels)) {
      if (!labelName.test(k) || k.split('/').at(-1)!.length > 63)
        problems.push(`${where}: bad label name ${k}`);
      if (!labelValue.test(v) || v.length > 63)
        problems.push(`${where}: bad value of label ${k}: ${v}`);
    }
  }
  return problems;
}

/** Label maps of an object and of the pod templates inside it. */
function labelMaps(o: Manifest): Array<Readonly<Record<string, string>>> {
  const out = [o.metadata?.labels ?? {}];
  const spec = o.spec as
    | {
        template?: { metadata?: { labels?: Record<string, string> } };
        jobTemplate?: {
          metadata?: { labels?: Record<string, string> };
          spec?: { template?: { metadata?: { labels?: Record<string, string> } } };
        };
      }
    | undefined;
  if (spec?.template?.metadata?.labels) out.push(spec.template.metadata.labels);
  if (spec?.jobTemplate?.metadata?.labels) out.push(spec.jobTemplate.metadata.labels);
  if (spec?.jobTemplate?.spec?.template?.metadata?.labels)
    out.push(spec.jobTemplate.spec.template.metadata.labels);
  return out;
}

export function validateAll(objects: readonly Manifest[]): void {
  const problems = objects.flatMap(problemsOf);
  const seen = new Set<string>();
  for (const o of objects) {
    const key = `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (seen.has(key)) problems.push(`duplicate object ${key}`);
    seen.add(key);
  }
  if (problems.length > 0) {
    throw new Error(`invalid manifests:\n  ${problems.join('\n  ')}`);
  }
}
