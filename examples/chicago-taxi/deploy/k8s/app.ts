/**
 * Synthesis: one cdk8s app per environment, its objects validated, split in two kustomizations:
 *
 * - `dist/<env>/`: the objects of the stage's namespace, which the deploy identity applies on
 *   every deploy (CI runs `kustomize edit set image <repo>=<repo>@sha256:...` and `kubectl apply -k`);
 * - `dist/<env>/cluster/`: what only a cluster admin may create, applied once per cluster and again
 *   after an upgrade changes it: the Namespace, the admission policies and their bindings, the
 *   deploy identity's own Role and RoleBinding, and objects in other namespaces (the dashboard).
 *
 * Tests call `synthesize` directly; `synth.ts` writes the files.
 */
import { App } from 'cdk8s';
import {
  type EnvironmentOverrides,
  type K8sEnvironment,
  environmentIds,
  resolveEnvironment,
} from './config.js';
import { ServiceChart } from './chart.js';
import { k8sNames } from './names.js';
import { clusterScoped, type Manifest, validateAll } from './validate.js';

export const manifestsFile = 'manifests.yaml';
/** The admin part of an environment, a directory inside its own (`dist/<env>/cluster`). */
export const clusterDir = 'cluster';

export interface Kustomization {
  readonly apiVersion: 'kustomize.config.k8s.io/v1beta1';
  readonly kind: 'Kustomization';
  readonly resources: readonly string[];
  /** The service image, by repository: CI sets its digest (`kustomize edit set image`). */
  readonly images: ReadonlyArray<{ name: string; newTag?: string; digest?: string }>;
}

export interface Synthesized {
  readonly env: K8sEnvironment;
  /** Every object of the environment, both parts. */
  readonly manifests: readonly Manifest[];
  /** What the deploy identity applies: the objects of the stage's namespace. */
  readonly namespaced: readonly Manifest[];
  readonly kustomization: Kustomization;
  /** What a cluster admin applies once (`dist/<env>/cluster`). */
  readonly cluster: {
    readonly manifests: readonly Manifest[];
    readonly kustomization: Omit<Kustomization, 'images'>;
  };
}

/**
 * Does `m` need a cluster admin? Cluster-scoped kinds, objects outside the stage's namespace, and
 * the deploy identity's own Role and RoleBinding (it cannot grant itself rights).
 */
export function needsClusterAdmin(m: Manifest, env: K8sEnvironment): boolean {
  if (clusterScoped.has(m.kind) || m.metadata.namespace !== env.namespace) return true;
  return (m.kind === 'Role' || m.kind === 'RoleBinding') && m.metadata.name === k8sNames.deployRole;
}

export function synthesize(id: string, extra: EnvironmentOverrides = {}): Synthesized {
  const env = resolveEnvironment(id, extra);
  const app = new App();
  const chart = new ServiceChart(app, env.id, env);
  const manifests = chart.toJson() as Manifest[];
  validateAll(manifests);
  const base = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [manifestsFile],
  } as const;
  return {
    env,
    manifests,
    namespaced: manifests.filter((m) => !needsClusterAdmin(m, env)),
    kustomization: { ...base, images: [{ name: env.image }] },
    cluster: { manifests: manifests.filter((m) => needsClusterAdmin(m, env)), kustomization: base },
  };
}

export function synthesizeAll(extra: EnvironmentOverrides = {}): Synthesized[] {
  return environmentIds().map((id) => synthesize(id, extra));
}
