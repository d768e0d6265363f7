/**
 * The deploy roles of the AWS stages, in the bootstrap stack: GitHub's OIDC provider (created, or
 * the account's existing one), and per stage a role that only the jobs of the stage's GitHub
 * environment in this repository can assume, allowed to push to this service's ECR repository.
 * Its grants on the stage's own resources (model path, cluster, namespace) are in the environment
 * stack beside them (deploy-access.ts), so the role exists before any cluster does.
 */
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import type { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository/index.js';
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';
import { github, service } from '../../plan.js';
import { type AwsEnvironment, createsGithubOidcProvider } from './environments.js';

/** Issuer host of GitHub Actions' OIDC tokens: the prefix of their claims' condition keys. */
export const githubIssuerHost = 'token.actions.githubusercontent.com';

/** Pushing (and reading back) images of one repository; the login token has no resource. */
export const ecrPushActions = [
  'ecr:BatchCheckLayerAvailability',
  'ecr:BatchGetImage',
  'ecr:CompleteLayerUpload',
  'ecr:DescribeImages',
  'ecr:GetDownloadUrlForLayer',
  'ecr:InitiateLayerUpload',
  'ecr:PutImage',
  'ecr:UploadLayerPart',
] as const;

/** The trust of a deploy role: GitHub's tokens for exactly one repository environment, for STS. */
export function githubTrust(
  scope: Construct,
  id: string,
  providerArn: string,
  subject: string,
): DataAwsIamPolicyDocument {
  return new DataAwsIamPolicyDocument(scope, id, {
    statement: [
      {
        effect: 'Allow',
        actions: ['sts:AssumeRoleWithWebIdentity'],
        principals: [{ type: 'Federated', identifiers: [providerArn] }],
        condition: [
          {
            test: 'StringEquals',
            variable: `${githubIssuerHost}:aud`,
            values: ['sts.amazonaws.com'],
          },
          { test: 'StringEquals', variable: `${githubIssuerHost}:sub`, values: [subject] },
        ],
      },
    ],
  });
}

export function addAwsDeployRoles(
  scope: Construct,
  envs: readonly AwsEnvironment[],
  registry: EcrRepository,
): void {
  const first = envs[0]!.aws;
  const provider = createsGithubOidcProvider(first)
    ? new IamOpenidConnectProvider(scope, 'github-oidc-provider', {
        url: `https://${githubIssuerHost}`,
        clientIdList: ['sts.amazonaws.com'],
      })
    : undefined;

  for (const env of envs) {
    const a = env.aws;
    const role = new IamRole(scope, `deploy-role-${env.stage}`, {
      name: a.deployRoleName,
      description: `Deploys ${service.service} ${env.stage}: GitHub Actions of ${github.repository}, environment ${env.githubEnvironment}`,
      assumeRolePolicy: githubTrust(
        scope,
        `deploy-role-${env.stage}-trust`,
        a.githubOidcProviderArn,
        env.githubOidcSubject,
      ).json,
      maxSessionDuration: 3600,
      dependsOn: provider ? [provider] : [],
    });
    const push = new DataAwsIamPolicyDocument(scope, `deploy-role-${env.stage}-push-policy`, {
      statement: [
        {
          sid: 'PushServiceImages',
          effect: 'Allow',
          actions: [...ecrPushActions],
          resources: [registry.arn],
        },
        // ECR's login has no resource-level permission: it grants nothing without the statement above.
        {
          sid: 'RegistryLogin',
          effect: 'Allow',
          actions: ['ecr:GetAuthorizationToken'],
          resources: ['*'],
        },
      ],
    });
    new IamRolePolicy(scope, `deploy-role-${env.stage}-push`, {
      role: role.id,
      name: 'image-push',
      policy: push.json,
    });
  }

  const byEnv = (pick: (e: AwsEnvironment) => string) =>
    Object.fromEntries(envs.map((e) => [e.id, pick(e)]));
  new TerraformOutput(scope, 'github_oidc_provider_arn', { value: first.githubOidcProviderArn });
  new TerraformOutput(scope, 'deploy_role_arn', { value: byEnv((e) => e.aws.deployRoleArn) });
  new TerraformOutput(scope, 'github_environment', { value: byEnv((e) => e.githubEnvironment) });
}
