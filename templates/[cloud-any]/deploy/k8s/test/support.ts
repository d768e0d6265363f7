/** Helpers shared by the manifest tests: synthesized environments and the pods inside them. */
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { pinImages } from '../../../scripts/check/check.js';
import type { ProjectModel } from '../../../scripts/check/types.js';
import { type Synthesized, synthesizeAll } from '../app.js';
import type { Manifest } from '../validate.js';

/** Every environment, with the optional prometheus-operator objects on so they are checked too. */
export const all: readonly Synthesized[] = synthesizeAll({
  monitoring: { prometheusOperator: true },
});

/**
 * Every environment with canary delivery on (a Rollout and its analysis), whatever the answer, so
 * a project without it still proves that path.
 */
export const canary: readonly Synthesized[] = synthesizeAll({
  monitoring: { prometheusOperator: true },
  // The Prometheus the analysis queries (kube-prometheus-stack) scrapes, on GKE too.
  network: { prometheusNamespace: 'monitoring' },
  delivery: { canary: true },
});

/** Every environment with canary delivery off (the Deployment), whatever the answer. */
export const noCanary: readonly Synthesized[] = synthesizeAll({
  monitoring: { prometheusOperator: true },
  // The Prometheus the analysis queries (kube-prometheus-stack) scrapes, on GKE too.
  network: { prometheusNamespace: 'monitoring' },
  delivery: { canary: false },
});

/** The same environments with the defaults of config.ts. */
export const defaults: readonly Synthesized[] = synthesizeAll();

export const envIds = all.map((s) => s.env.id);

export function byId(id: string): Synthesized {
  const s = all.find((x) => x.env.id === id);
  if (!s) throw new Error(`no environment ${id}`);
  return s;
}

export function find(s: Synthesized, kind: string, name?: string): Manifest[] {
  return s.manifests.filter(
    (m) => m.kind === kind && (name === undefined || m.metadata.name === name),
  );
}

export function one(s: Synthesized, kind: string, name?: string): Manifest {
  const found = find(s, kind, name);
  if (found.length !== 1)
    throw new Error(`${s.env.id}: expected one ${kind}, found ${found.length}`);
  return found[0]!;
}

export interface PodTemplate {
  readonly owner: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: IPodSpec;
}

/**
 * The kind that runs the inference pods: a Rollout with canary delivery (config.ts `delivery`,
 * rollout.ts), otherwise a Deployment.
 */
export function workloadKind(s: Synthesized): 'Rollout' | 'Deployment' {
  return s.env.delivery.canary ? 'Rollout' : 'Deployment';
}

/** The inference workload of an environment (its Deployment or its Rollout). */
export function workload(s: Synthesized): Manifest {
  return one(s, workloadKind(s));
}

/** Is this pod template's owner the inference workload? */
export const isInference = (owner: string): boolean => /^(Deployment|Rollout)\//.test(owner);

/** Every pod template: Deployments, Rollouts, Jobs and CronJobs. */
export function podTemplates(s: Synthesized): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const m of s.manifests) {
    const spec = m.spec as Record<string, any> | undefined;
    const template =
      m.kind === 'CronJob'
        ? spec?.jobTemplate?.spec?.template
        : m.kind === 'Deployment' || m.kind === 'Rollout' || m.kind === 'Job'
          ? spec?.template
          : undefined;
    if (template) {
      out.push({
        owner: `${m.kind}/${m.metadata.name}`,
        labels: template.metadata?.labels ?? {},
        spec: template.spec,
      });
    }
  }
  return out;
}

export function containersOf(spec: IPodSpec): IContainer[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

export function selects(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (!selector) return false;
  if (selector.matchExpressions?.length)
    throw new Error('selects() does not evaluate matchExpressions');
  return Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

/**
 * The project model `npm run check` would build from these environments' manifests (nothing else
 * of the project), with the image CI pins pinned: what the admission policies are evaluated over.
 */
export function manifestModel(envs: readonly Synthesized[]): ProjectModel {
  return {
    root: '.',
    manifests: envs.map((s) => ({
      id: s.env.id,
      stage: s.env.stage,
      cloud: s.env.cloud,
      file: `deploy/k8s/dist/${s.env.id}/manifests.yaml`,
      objects: s.manifests.map((o) => pinImages(o, [...s.kustomization.images])),
      kustomization: s.kustomization,
    })),
    terraform: null,
    source: { files: [] },
    packageJson: null,
    dockerfile: null,
    workflows: [],
    files: [],
    models: [],
    notes: [],
  };
}
