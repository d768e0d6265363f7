import { environments, type Environment } from '../../plan.js';

export type GcpEnvironment = Extract<Environment, { readonly cloud: 'gcp' }>;

export const gcpEnvironments: readonly GcpEnvironment[] = environments.filter(
  (e): e is GcpEnvironment => e.cloud === 'gcp',
);

/** `serviceAccount:<pool>[<namespace>/<ksa>]` -> `<pool>`: the cluster's workload pool. */
export function workloadPool(member: string): string {
  const m = /^serviceAccount:([^[]+)\[[^/\]]+\/[^\]]+\]$/.exec(member);
  if (!m?.[1]) throw new Error(`"${member}" is not a Workload Identity member`);
  return m[1];
}

/** What every GCP environment shares: one project, region, registry and state bucket. */
export function gcpShared(envs: readonly GcpEnvironment[]) {
  const first = envs[0];
  if (!first) throw new Error('no GCP environment in deploy/plan.ts');
  for (const e of envs) {
    for (const k of [
      'project',
      'region',
      'registryHost',
      'stateBucket',
      'bootstrapStatePrefix',
    ] as const) {
      if (e.gcp[k] !== first.gcp[k])
        throw new Error(`GCP environments disagree on ${k}: ${e.gcp[k]} vs ${first.gcp[k]}`);
    }
  }
  const { project, region, stateBucket, bootstrapStatePrefix } = first.gcp;
  return { project, region, stateBucket, bootstrapStatePrefix };
}
