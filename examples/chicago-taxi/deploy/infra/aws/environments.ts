import { environments, type Environment } from '../../plan.js';

export type AwsEnvironment = Extract<Environment, { readonly cloud: 'aws' }>;

export const awsEnvironments: readonly AwsEnvironment[] = environments.filter(
  (e): e is AwsEnvironment => e.cloud === 'aws',
);

/** What every AWS environment shares: one account, region, registry, state bucket, GitHub OIDC provider. */
export function awsShared(envs: readonly AwsEnvironment[]) {
  const first = envs[0];
  if (!first) throw new Error('no AWS environment in deploy/plan.ts');
  for (const e of envs) {
    for (const k of [
      'accountId',
      'region',
      'partition',
      'registryHost',
      'stateBucket',
      'bootstrapStateKey',
      'githubOidcProviderArn',
      'githubOidcProvider',
    ] as const) {
      if (e.aws[k] !== first.aws[k])
        throw new Error(`AWS environments disagree on ${k}: ${e.aws[k]} vs ${first.aws[k]}`);
    }
  }
  const { accountId, region, partition, stateBucket, bootstrapStateKey } = first.aws;
  return { accountId, region, partition, stateBucket, bootstrapStateKey };
}

/** Whether the EKS API has a public endpoint (answer `eksEndpoint`; either value, whatever the plan's literal). */
export const hasPublicEndpoint = (names: { readonly eksEndpoint: string }): boolean =>
  names.eksEndpoint === 'public';

/** Whether the bootstrap stack creates GitHub's OIDC provider (answer `awsGithubOidcProvider`). */
export const createsGithubOidcProvider = (names: {
  readonly githubOidcProvider: string;
}): boolean => names.githubOidcProvider === 'create';
