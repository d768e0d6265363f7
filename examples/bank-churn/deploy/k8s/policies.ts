/**
 * The policy catalogue's admission policies, in the cluster: every
 * `policies/kubernetes/*.yaml` (a ValidatingAdmissionPolicy) is emitted exactly as written, the
 * same object `npm run check` evaluates offline, with a ValidatingAdmissionPolicyBinding that
 * applies it to this service's namespace: `Deny` in prod, `Warn` elsewhere (dev and staging keep
 * working while someone experiments, and say why). A policy scoped to some stages
 * (`policy.mlops-service/stages`) is bound only there.
 *
 * The policies are cluster-scoped and named after their id, so services of this generator share
 * them; each binds them to its own namespace.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { parse } from 'yaml';
import { service } from '../plan.js';
import type { K8sEnvironment } from './config.js';

const idLabel = 'policy.mlops-service/id';
const stagesAnnotation = 'policy.mlops-service/stages';

export interface AdmissionPolicy {
  /** `policies/kubernetes/MLOPS-010-hpa-cpu-only.yaml` */
  readonly file: string;
  readonly id: string;
  readonly name: string;
  readonly stages: readonly string[];
  /** The object as written in the file. */
  readonly object: { readonly metadata: { readonly name: string } } & Record<string, unknown>;
}

/** The project's `policies/kubernetes/`, found from this file (source or compiled). */
export function policiesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'policies', 'kubernetes');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('policies/kubernetes not found above deploy/k8s');
    dir = parent;
  }
}

/** Every admission policy of the catalogue, in file order. */
export function admissionPolicies(dir = policiesDir()): AdmissionPolicy[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const object = parse(readFileSync(join(dir, f), 'utf8')) as AdmissionPolicy['object'] & {
        metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
      };
      const id = object.metadata.labels?.[idLabel];
      if (!id) throw new Error(`policies/kubernetes/${f}: no ${idLabel} label`);
      const stages = object.metadata.annotations?.[stagesAnnotation]
        ?.split(',')
        .map((s) => s.trim()) ?? ['dev', 'staging', 'prod'];
      return { file: `policies/kubernetes/${f}`, id, name: object.metadata.name, stages, object };
    });
}

/**
 * The binding's name: the policy's, then the namespace it binds (a DNS subdomain of at most
 * 45 + 1 + 63 characters), since the policies are shared by the cluster.
 */
export function bindingName(policy: AdmissionPolicy, namespace: string): string {
  return `${policy.name}.${namespace}`;
}

/**
 * Adds the catalogue's admission policies and this environment's bindings (to `namespace`, the
 * service's namespace in this environment) to `scope`.
 */
export function addAdmissionPolicies(
  scope: Construct,
  env: K8sEnvironment,
  namespace: string,
): void {
  for (const policy of admissionPolicies()) {
    if (!policy.stages.includes(env.stage)) continue;
    new ApiObject(scope, `policy-${policy.name}`, structuredClone(policy.object) as never);
    const binding = new ValidatingAdmissionPolicyBinding({
      metadata: {
        name: bindingName(policy, namespace),
        labels: { ...service.labels, [idLabel]: policy.id },
      },
      spec: {
        policyName: policy.name,
        validationActions: env.stage === 'prod' ? ['Deny'] : ['Warn'],
        matchResources: {
          namespaceSelector: {
            matchLabels: { 'kubernetes.io/metadata.name': namespace },
          },
        },
      },
    });
    new ApiObject(
      scope,
      `policy-binding-${policy.name}`,
      binding.toJSON() as ConstructorParameters<typeof ApiObject>[2],
    );
  }
}
