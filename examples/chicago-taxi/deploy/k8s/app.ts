/**
 * Synthesis: one cdk8s app per environment, its objects validated, plus the environment's
 * `kustomization.yaml`, so that CI can `kustomize edit set image <repo>=<repo>@sha256:...` and
 * `kubectl apply -k`. Tests call `synthesize` directly; `synth.ts` writes the files.
 */
import { App } from 'cdk8s';
import {
  type EnvironmentOverrides,
  type K8sEnvironment,
  environmentIds,
  resolveEnvironment,
} from './config.js';
import { ServiceChart } from './chart.js';
import { type Manifest, validateAll } from './validate.js';

export const manifestsFile = 'manifests.yaml';

export interface Kustomization {
  readonly apiVersion: 'kustomize.config.k8s.io/v1beta1';
  readonly kind: 'Kustomization';
  readonly resources: readonly string[];
  /** The service image, by repository: CI sets its digest (`kustomize edit set image`). */
  readonly images: ReadonlyArray<{ name: string; newTag?: string; digest?: string }>;
}

export interface Synthesized {
  readonly env: K8sEnvironment;
  readonly manifests: readonly Manifest[];
  readonly kustomization: Kustomization;
}

export function synthesize(id: string, extra: EnvironmentOverrides = {}): Synthesized {
  const env = resolveEnvironment(id, extra);
  const app = new App();
  const chart = new ServiceChart(app, env.id, env);
  const manifests = chart.toJson() as Manifest[];
  validateAll(manifests);
  const kustomization: Kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [manifestsFile],
    images: [{ name: env.image }],
  };
  return { env, manifests, kustomization };
}

export function synthesizeAll(extra: EnvironmentOverrides = {}): Synthesized[] {
  return environmentIds().map((id) => synthesize(id, extra));
}
