/**
 * The deploy roles of GitHub Actions on AWS, joined to deploy/plan.ts: the roles the bootstrap
 * stack creates carry exactly the plan's names, trust GitHub's OIDC provider of the plan for
 * exactly this repository's environment of their stage and the STS audience, and hold exactly the
 * listed permissions (push to the service's ECR repository, create/get under the model's path,
 * describe their cluster, edit their namespace) and nothing broader. Also: the cluster API is
 * reachable as the answers say.
 */
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider/index.js';
import { Testing } from 'cdktf';
import { describe, it } from 'vitest';
import { expect } from './support/matchers.js';
import { github, service } from '../../plan.js';
import { AwsBootstrapStack } from '../aws/bootstrap.js';
import { ecrPushActions, githubIssuerHost } from '../aws/deploy-roles.js';
import { AwsEnvironmentStack } from '../aws/environment.js';
import {
  type AwsEnvironment,
  awsEnvironments,
  createsGithubOidcProvider,
  hasPublicEndpoint,
} from '../aws/environments.js';
import { stageConfig } from '../config.js';
import { modelLocation } from '../lib/model-path.js';
import {
  type Block,
  type TerraformJson,
  referencedPolicyDocument,
  resource,
  resources,
  synthStack,
} from './support/synth.js';

const bootstrap = synthStack('aws-bootstrap');
const first = awsEnvironments[0]!.aws;

/** Statements of the inline policies of the role `roleName` in one stack. */
function statementsOf(tf: TerraformJson, roleName: string, roleRef: string): Block[] {
  return Object.values(resources(tf, 'aws_iam_role_policy'))
    .filter((p) => p.role === roleName || p.role === roleRef)
    .flatMap((p) => referencedPolicyDocument(tf, p.policy).statement as Block[]);
}

describe('aws-bootstrap: GitHub OIDC', () => {
  it('creates GitHub’s OIDC provider for STS (or references the existing one), at the ARN the plan names', () => {
    if (createsGithubOidcProvider(first)) {
      expect(bootstrap.json).toHaveResourceWithProperties(IamOpenidConnectProvider, {
        url: `https://${githubIssuerHost}`,
        client_id_list: ['sts.amazonaws.com'],
      });
    } else {
      expect(resources(bootstrap.tf, 'aws_iam_openid_connect_provider')).toEqual({});
    }
    expect(first.githubOidcProviderArn).toBe(
      `arn:${first.partition}:iam::${first.accountId}:oidc-provider/${githubIssuerHost}`,
    );
    expect(bootstrap.tf.output?.github_oidc_provider_arn?.value).toBe(first.githubOidcProviderArn);
    expect(bootstrap.tf.output?.deploy_role_arn?.value).toEqual(
      Object.fromEntries(awsEnvironments.map((e) => [e.id, e.aws.deployRoleArn])),
    );
  });

  it('references the account’s existing provider instead when the answer says so', () => {
    const existing = awsEnvironments.map(
      (e) =>
        ({ ...e, aws: { ...e.aws, githubOidcProvider: 'existing' } }) as unknown as AwsEnvironment,
    );
    const tf = JSON.parse(
      Testing.synth(new AwsBootstrapStack(Testing.app(), 'aws-bootstrap', existing)),
    ) as TerraformJson;
    expect(resources(tf, 'aws_iam_openid_connect_provider')).toEqual({});
    for (const e of existing) {
      const role = Object.values(resources(tf, 'aws_iam_role')).find(
        (r) => r.name === e.aws.deployRoleName,
      )!;
      const trust = referencedPolicyDocument(tf, role.assume_role_policy).statement as Block[];
      expect(trust[0]!.principals).toEqual([
        { type: 'Federated', identifiers: [e.aws.githubOidcProviderArn] },
      ]);
    }
  });
});

describe.each(awsEnvironments.map((env) => [env.id, env] as const))(
  '%s: deploy role',
  (id, env) => {
    const a = env.aws;
    const envTf = synthStack(id).tf;
    const roles = Object.entries(resources(bootstrap.tf, 'aws_iam_role')).filter(
      ([, r]) => r.name === a.deployRoleName,
    );

    it('exists with the name and ARN of the plan', () => {
      expect(roles).toHaveLength(1);
      expect(a.deployRoleArn).toBe(
        `arn:${a.partition}:iam::${a.accountId}:role/${a.deployRoleName}`,
      );
      expect(env.githubEnvironment).toBe(env.id);
    });

    it("trusts exactly this repository's GitHub environment of its stage, for STS", () => {
      const [, role] = roles[0]!;
      const trust = referencedPolicyDocument(bootstrap.tf, role.assume_role_policy)
        .statement as Block[];
      expect(trust).toEqual([
        {
          effect: 'Allow',
          actions: ['sts:AssumeRoleWithWebIdentity'],
          principals: [{ type: 'Federated', identifiers: [a.githubOidcProviderArn] }],
          condition: [
            {
              test: 'StringEquals',
              variable: `${githubIssuerHost}:aud`,
              values: ['sts.amazonaws.com'],
            },
            {
              test: 'StringEquals',
              variable: `${githubIssuerHost}:sub`,
              values: [`repo:${github.repository}:environment:${env.githubEnvironment}`],
            },
          ],
        },
      ]);
    });

    it('holds exactly: ECR push to the service repository, model path create/get, describe its cluster', () => {
      const [name] = roles[0]!;
      const model = modelLocation(env.modelUri);
      const statements = [
        ...statementsOf(bootstrap.tf, a.deployRoleName, `\${aws_iam_role.${name}.id}`),
        ...statementsOf(envTf, a.deployRoleName, '(none)'),
      ];
      const summary = statements.map((s) => [
        [...(s.actions as string[])].sort().join(','),
        (s.resources as string[]).join(','),
      ]);
      expect(summary).toEqual(
        expect.arrayContaining([
          [[...ecrPushActions].sort().join(','), '${aws_ecr_repository.registry.arn}'],
          ['ecr:GetAuthorizationToken', '*'],
          [
            's3:GetObject,s3:PutObject',
            `arn:${a.partition}:s3:::${a.modelBucket}/${model.readPrefix}*`,
          ],
          ['eks:DescribeCluster', '${aws_eks_cluster.cluster.arn}'],
        ]),
      );
      const kms = statements.filter((s) =>
        (s.actions as string[]).some((x) => x.startsWith('kms:')),
      );
      expect(kms.length).toBe(stageConfig[env.stage].customerManagedKey ? 1 : 0);
      for (const s of kms) {
        expect(s.resources).toEqual(['${aws_kms_key.key.arn}']);
        expect(s.condition).toEqual([
          {
            test: 'StringEquals',
            variable: 'kms:ViaService',
            values: [`s3.${a.region}.amazonaws.com`],
          },
        ]);
      }
      expect(statements).toHaveLength(4 + kms.length);
      for (const s of statements) {
        expect(s.effect).toBe('Allow');
        for (const action of s.actions as string[]) expect(action).not.toContain('*');
        // Only the registry login has no resource to scope to.
        if ((s.resources as string[]).includes('*'))
          expect(s.actions).toEqual(['ecr:GetAuthorizationToken']);
      }
      const attached = [bootstrap.tf, envTf].flatMap((tf) =>
        Object.values(resources(tf, 'aws_iam_role_policy_attachment')).filter(
          (p) => p.role === a.deployRoleName || String(p.role).includes(name),
        ),
      );
      expect(attached).toEqual([]);
    });

    it('enters the cluster as the Kubernetes group the Role binds, with no EKS access policy', () => {
      expect(resource(envTf, 'aws_eks_access_entry', 'deploy-access-entry')).toMatchObject({
        cluster_name: '${aws_eks_cluster.cluster.name}',
        principal_arn: a.deployRoleArn,
        type: 'STANDARD',
        kubernetes_groups: [service.k8s.deployGroup],
      });
      // An access policy (AmazonEKSEditPolicy...) would grant Secrets and miss CRDs; the
      // namespace's Role (deploy/k8s/deploy-access.ts) is the only grant.
      expect(Object.values(resources(envTf, 'aws_eks_access_policy_association'))).toEqual([]);
    });

    it('reaches the cluster API as the answers say: public with IAM auth from the allowed CIDRs, or private', () => {
      const vpc = resource(envTf, 'aws_eks_cluster', 'cluster').vpc_config as Block;
      expect(
        (resource(envTf, 'aws_eks_cluster', 'cluster').access_config as Block).authentication_mode,
      ).toBe('API');
      expect(vpc.endpoint_private_access).toBe(true);
      expect(vpc.endpoint_public_access).toBe(hasPublicEndpoint(a));
      expect(env.deploy.runsOn).toEqual(
        hasPublicEndpoint(a) ? 'ubuntu-24.04' : ['self-hosted', 'linux'],
      );
      const priv = { ...env, aws: { ...a, eksEndpoint: 'private' } } as unknown as AwsEnvironment;
      const privateTf = JSON.parse(
        Testing.synth(new AwsEnvironmentStack(Testing.app(), id, priv)),
      ) as TerraformJson;
      const privateVpc = resource(privateTf, 'aws_eks_cluster', 'cluster').vpc_config as Block;
      expect(privateVpc.endpoint_public_access).toBe(false);
      expect(privateVpc.public_access_cidrs).toBeUndefined();
    });
  },
);
