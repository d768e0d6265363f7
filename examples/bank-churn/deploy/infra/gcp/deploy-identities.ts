/**
 * The deploy identities of the GCP stages, in the bootstrap stack: GitHub's Workload Identity
 * Federation pool and provider (one per project, limited to this repository), and per stage a
 * service account that only the jobs of the stage's GitHub environment can impersonate. It may
 * push to this service's registry, get its clusters and connect to their DNS endpoint; the model
 * bucket grant is in the environment stack (the bucket lives there), Kubernetes rights are the
 * namespaced Role of deploy/k8s.
 */
import type { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository/index.js';
import { ArtifactRegistryRepositoryIamMember } from '@cdktf/provider-google/lib/artifact-registry-repository-iam-member/index.js';
import { IamWorkloadIdentityPool } from '@cdktf/provider-google/lib/iam-workload-identity-pool/index.js';
import { IamWorkloadIdentityPoolProvider } from '@cdktf/provider-google/lib/iam-workload-identity-pool-provider/index.js';
import { ProjectIamCustomRole } from '@cdktf/provider-google/lib/project-iam-custom-role/index.js';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member/index.js';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member/index.js';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account/index.js';
import { TerraformOutput, type ITerraformDependable } from 'cdktf';
import type { Construct } from 'constructs';
import { github, service } from '../../plan.js';
import type { GcpEnvironment } from './environments.js';

/** Issuer of GitHub Actions' OIDC tokens. */
export const githubIssuer = 'https://token.actions.githubusercontent.com';

/** Permissions of the deploy identities on the project: find the cluster, reach its API. */
export const deployClusterPermissions = [
  'container.clusters.get',
  'container.clusters.getCredentials',
  'container.clusters.connect',
] as const;

/** CEL condition of the provider: tokens of this repository only, whatever the workflow says. */
export const repositoryCondition = (repository: string): string =>
  `assertion.repository == "${repository}"`;

/** The one principal of a subject in a pool: `principal://iam.googleapis.com/<pool>/subject/<sub>`. */
export const subjectPrincipal = (poolName: string, subject: string): string =>
  `principal://iam.googleapis.com/${poolName}/subject/${subject}`;

function sharedValue<T>(envs: readonly GcpEnvironment[], pick: (e: GcpEnvironment) => T): T {
  const values = [...new Set(envs.map(pick))];
  if (values.length !== 1) throw new Error(`GCP environments disagree: ${values.join(' vs ')}`);
  return values[0]!;
}

export function addGcpDeployIdentities(
  scope: Construct,
  envs: readonly GcpEnvironment[],
  registry: ArtifactRegistryRepository,
  apis: readonly ITerraformDependable[],
): void {
  const project = sharedValue(envs, (e) => e.gcp.project);
  const pool = new IamWorkloadIdentityPool(scope, 'github-pool', {
    project,
    workloadIdentityPoolId: sharedValue(envs, (e) => e.gcp.workloadIdentityPool),
    displayName: 'GitHub Actions',
    description: `Deploy jobs of ${github.repository}`,
    dependsOn: [...apis],
  });
  const provider = new IamWorkloadIdentityPoolProvider(scope, 'github-provider', {
    project,
    workloadIdentityPoolId: pool.workloadIdentityPoolId,
    workloadIdentityPoolProviderId: sharedValue(envs, (e) => e.gcp.workloadIdentityProviderId),
    displayName: 'GitHub',
    oidc: { issuerUri: githubIssuer },
    attributeMapping: {
      'google.subject': 'assertion.sub',
      'attribute.repository': 'assertion.repository',
      'attribute.environment': 'assertion.environment',
      'attribute.ref': 'assertion.ref',
    },
    attributeCondition: repositoryCondition(github.repository),
  });
  const role = new ProjectIamCustomRole(scope, 'deploy-cluster-role', {
    project,
    roleId: sharedValue(envs, (e) => e.gcp.deployClusterRoleId),
    title: `${service.service} deploy: cluster connect`,
    description: 'Get the cluster and reach its DNS endpoint; Kubernetes RBAC grants the rest',
    permissions: [...deployClusterPermissions],
    dependsOn: [...apis],
  });

  for (const env of envs) {
    const g = env.gcp;
    const identity = new ServiceAccount(scope, `deploy-identity-${env.stage}`, {
      project,
      accountId: g.deployServiceAccountId,
      displayName: `${service.service} ${env.stage} deploy`,
      description: `GitHub Actions of ${github.repository}, environment ${env.githubEnvironment}`,
      dependsOn: [...apis],
    });
    new ServiceAccountIamMember(scope, `deploy-identity-${env.stage}-github`, {
      serviceAccountId: identity.name,
      role: 'roles/iam.workloadIdentityUser',
      member: subjectPrincipal(pool.name, env.githubOidcSubject),
    });
    const member = `serviceAccount:${g.deployServiceAccountEmail}`;
    new ArtifactRegistryRepositoryIamMember(scope, `deploy-identity-${env.stage}-push`, {
      project,
      location: registry.location,
      repository: registry.repositoryId,
      role: 'roles/artifactregistry.writer',
      member,
      dependsOn: [identity],
    });
    new ProjectIamMember(scope, `deploy-identity-${env.stage}-cluster`, {
      project,
      role: role.name,
      member,
      dependsOn: [identity],
    });
  }

  const byEnv = (pick: (e: GcpEnvironment) => string) =>
    Object.fromEntries(envs.map((e) => [e.id, pick(e)]));
  new TerraformOutput(scope, 'workload_identity_pool', { value: pool.workloadIdentityPoolId });
  new TerraformOutput(scope, 'workload_identity_provider', { value: provider.name });
  new TerraformOutput(scope, 'deploy_service_account_email', {
    value: byEnv((e) => e.gcp.deployServiceAccountEmail),
  });
  new TerraformOutput(scope, 'github_environment', { value: byEnv((e) => e.githubEnvironment) });
}
