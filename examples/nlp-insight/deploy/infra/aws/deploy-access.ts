/**
 * What the stage's deploy role (bootstrap stack, deploy-roles.ts) may do with this environment's
 * resources: upload model versions under the model's path and read them back (no delete, no
 * list, not the prediction logs), describe this cluster only, and enter the cluster as the
 * Kubernetes group `k8s.deployGroup` of deploy/plan.ts (an EKS access entry without any access
 * policy): what that group may do is the Role of deploy/k8s/deploy-access.ts, in the stage's
 * namespace only (no Secrets, nothing cluster-scoped), the same Role as on GKE.
 */
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { EksAccessEntry } from '@cdktf/provider-aws/lib/eks-access-entry/index.js';
import type { EksCluster } from '@cdktf/provider-aws/lib/eks-cluster/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import type { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';
import { service } from '../../plan.js';
import type { AwsEnvironment } from './environments.js';

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
  new EksAccessEntry(scope, 'deploy-access-entry', {
    clusterName: cluster.name,
    principalArn: a.deployRoleArn,
    type: 'STANDARD',
    kubernetesGroups: [service.k8s.deployGroup],
  });
  new TerraformOutput(scope, 'deploy_role_arn', { value: a.deployRoleArn });
  new TerraformOutput(scope, 'github_environment', { value: env.githubEnvironment });
}
