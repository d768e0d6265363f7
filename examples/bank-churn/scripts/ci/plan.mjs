#!/usr/bin/env node
/**
 * The project's deploy plan (deploy/plan.ts: names, environments, clouds), for the workflows: they
 * read it here at run time instead of having the values baked into their YAML.
 *
 *   node scripts/ci/plan.mjs environments [--cloud gcp|aws] [--stage dev|staging|prod]   # JSON array
 *   node scripts/ci/plan.mjs ids [--cloud ...] [--stage ...]                            # JSON array of ids
 *   node scripts/ci/plan.mjs environment <id>                                           # JSON object
 *   node scripts/ci/plan.mjs service                                                    # JSON object
 *
 * deploy/plan.ts is imported directly where Node strips types (22.18+, 24), else its compiled copy
 * from `npm run synth:k8s` (deploy/k8s/dist/.build/plan.js). `--plan <file>` or MLOPS_PLAN_MODULE
 * names another module.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const planCandidates = ['deploy/plan.ts', 'deploy/k8s/dist/.build/plan.js'];

export async function loadPlan(explicit = process.env.MLOPS_PLAN_MODULE, root = process.cwd()) {
  const candidates = explicit ? [explicit] : planCandidates;
  const errors = [];
  for (const candidate of candidates) {
    const file = resolve(root, candidate);
    if (!existsSync(file)) {
      errors.push(`${candidate}: not found`);
      continue;
    }
    try {
      return await import(pathToFileURL(file).href);
    } catch (error) {
      errors.push(
        `${candidate}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
    }
  }
  throw new Error(
    `cannot read the deploy plan (${errors.join('; ')}). Run \`npm run synth:k8s\` first, or use Node 22.18+.`,
  );
}

export function selectEnvironments(plan, { cloud, stage } = {}) {
  return plan.environments.filter(
    (e) => (!cloud || e.cloud === cloud) && (!stage || e.stage === stage),
  );
}

/** What the workflows need to know about one environment, flat. */
export function describeEnvironment(plan, id) {
  const env = plan.environments.find((e) => e.id === id);
  if (!env) {
    throw new Error(
      `no environment ${id} in deploy/plan.ts (${plan.environments.map((e) => e.id).join(', ')})`,
    );
  }
  const cloud = env.cloud === 'gcp' ? env.gcp : env.aws;
  return {
    id: env.id,
    cloud: env.cloud,
    stage: env.stage,
    // One namespace per stage (cloud names), else the service's.
    namespace: cloud.namespace ?? env.namespace ?? plan.service.namespace,
    service: plan.service.service,
    selectorLabels: plan.service.selectorLabels,
    port: plan.runtime.port,
    // /metrics, on its own port in the cluster (METRICS_PORT), open to Prometheus only.
    ...defined({ metricsPort: plan.runtime.metricsPort }),
    // The Open Inference Protocol over gRPC (GRPC_PORT); absent in a project from before it.
    ...defined({ grpcPort: plan.runtime.grpcPort }),
    modelSha256: plan.model.sha256,
    image: cloud.image,
    registryHost: cloud.registryHost,
    region: cloud.region,
    cluster: cloud.cluster,
    ...(env.cloud === 'gcp' ? { project: env.gcp.project } : { accountId: env.aws.accountId }),
    // The identity the workflow deploys as, created by the bootstrap stack (deploy/infra); absent
    // ones fall back to the GitHub environment's variables.
    ...defined({
      deployServiceAccount: env.gcp?.deployServiceAccountEmail,
      workloadIdentityProvider: env.gcp?.workloadIdentityProvider,
      deployRoleArn: env.aws?.deployRoleArn,
    }),
    // Where the deploy job runs: GitHub-hosted, or self-hosted runners inside a private network.
    runsOn: JSON.stringify(env.deploy?.runsOn ?? 'ubuntu-24.04'),
  };
}

function defined(values) {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}

/**
 * `kubectl` arguments that wait for the service's workload to roll out: `rollout status` of the
 * Deployment, or with canary delivery Argo Rollouts' plugin on the Rollout.
 * @param {'deployment' | 'rollout'} kind
 * @param {{ service: string, namespace: string }} env
 * @param {string} timeout e.g. `15m`
 */
export function rolloutStatusArgs(kind, env, timeout) {
  return kind === 'rollout'
    ? ['argo', 'rollouts', 'status', env.service, '-n', env.namespace, '--timeout', timeout]
    : [
        'rollout',
        'status',
        `deployment/${env.service}`,
        '-n',
        env.namespace,
        `--timeout=${timeout}`,
      ];
}

/** The value after `--name` in argv, if any. */
export function option(argv, name) {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function main(argv) {
  const [command, ...rest] = argv;
  const plan = await loadPlan(option(rest, '--plan'));
  const filter = { cloud: option(rest, '--cloud'), stage: option(rest, '--stage') };
  switch (command) {
    case 'environments':
      return selectEnvironments(plan, filter);
    case 'ids':
      return selectEnvironments(plan, filter).map((e) => e.id);
    case 'environment':
      return describeEnvironment(plan, rest[0]);
    case 'service':
      return { ...plan.service, runtime: plan.runtime, model: plan.model };
    default:
      throw new Error(
        'usage: plan.mjs environments|ids|environment <id>|service [--cloud c] [--stage s] [--plan file]',
      );
  }
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  try {
    console.log(JSON.stringify(await main(process.argv.slice(2))));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
