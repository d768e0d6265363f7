/**
 * What the stage's deploy role (bootstrap stack, deploy-roles.ts) may do with this environment's
 * resources: upload model versions under the model's path and read them back (no delete, no
 * list, not the prediction logs), describe this cluster only, and edit this stage's namespace
 * only (an EKS access entry with a namespace-scoped access policy).
 */
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { EksAccessEntry } from '@cdktf/provider-aws/lib/eks-access-entry/index.js';
import { EksAccessPolicyAssociation } from '@cdktf/provider-aws/lib/eks-access-policy-association/index.js';
import type { EksCluster } from '@cdktf/provider-aws/lib/eks-cluster/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import type { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';
import type { AwsEnvironment } from './environments.js';

/** The EKS access policy of the deploy role, scoped to the stage's namespace. */
export const deployAccessPolicy = 'AmazonEKSEditPolicy';

export function addDeployAccess(
  scope: Construct,
  env: AwsEnvironment,
  cluster: EksCluster,
  modelPrefix: string,
  key: KmsKey | undefined,
): void {
  const a = env.aws;
  const models = `arn:${a.partition}:s3:::${a.modelBucket}/${modelPrefix}*`;
  const policy = new DataAwsIamPolicyDocument(scope, 'deploy-policy', {
    statement: [
      {
        sid: 'UploadModelVersions',
        effect: 'Allow',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [models],
      },
      ...(key
        ? [
            {
              sid: 'ModelKeyThroughS3Only',
              effect: 'Allow',
              actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
              resources: [key.arn],
              condition: [
                {
                  test: 'StringEquals',
                  variable: 'kms:ViaService',
                  values: [`s3.${a.region}.amazonaws.com`],
                },
              ],
            },
          ]
        : []),
      {
        sid: 'FindCluster',
        effect: 'Allow',
        actions: ['eks:DescribeCluster'],
        resources: [cluster.arn],
      },
    ],
  });
  new IamRolePolicy(scope, 'deploy-access', {
    role: a.deployRoleName,
    name: `deploy-${env.stage}`,
    policy: policy.json,
  });
  const entry = new EksAccessEntry(scope, 'deploy-access-entry', {
    clusterName: cluster.name,
    principalArn: a.deployRoleArn,
    type: 'STANDARD',
  });
  new EksAccessPolicyAssociation(scope, 'deploy-access-policy', {
    clusterName: cluster.name,
    principalArn: a.deployRoleArn,
    policyArn: `arn:${a.partition}:eks::aws:cluster-access-policy/${deployAccessPolicy}`,
    accessScope: { type: 'namespace', namespaces: [a.namespace] },
    dependsOn: [entry],
  });
  new TerraformOutput(scope, 'deploy_role_arn', { value: a.deployRoleArn });
  new TerraformOutput(scope, 'github_environment', { value: env.githubEnvironment });
}
