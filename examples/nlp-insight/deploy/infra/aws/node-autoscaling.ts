/**
 * What scales the EKS nodes (docs: ADR 0013 of create-mlops-service): the Kubernetes Cluster
 * Autoscaler, run by its upstream Helm chart in `kube-system`, finds the node groups by the tags
 * EKS puts on their Auto Scaling groups. This stack gives it an identity through EKS Pod Identity
 * (the agent add-on, a role, the association with its service account): it may describe the
 * account's groups and instance types, and change the size of, or remove instances from, this
 * cluster's groups only.
 */
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { EksAddon } from '@cdktf/provider-aws/lib/eks-addon/index.js';
import type { EksCluster } from '@cdktf/provider-aws/lib/eks-cluster/index.js';
import { EksPodIdentityAssociation } from '@cdktf/provider-aws/lib/eks-pod-identity-association/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { TerraformOutput } from 'cdktf';
import type { Construct } from 'constructs';
import type { AwsEnvironment } from './environments.js';

/** Reads the Cluster Autoscaler needs; AWS has no resource-level permission for them. */
export const autoscalerDescribeActions = [
  'autoscaling:DescribeAutoScalingGroups',
  'autoscaling:DescribeAutoScalingInstances',
  'autoscaling:DescribeLaunchConfigurations',
  'autoscaling:DescribeScalingActivities',
  'autoscaling:DescribeTags',
  'ec2:DescribeImages',
  'ec2:DescribeInstanceTypes',
  'ec2:DescribeLaunchTemplateVersions',
  'ec2:GetInstanceTypesFromInstanceRequirements',
  'eks:DescribeNodegroup',
] as const;

/** Changes, only to the Auto Scaling groups EKS tagged as this cluster's. */
export const autoscalerScaleActions = [
  'autoscaling:SetDesiredCapacity',
  'autoscaling:TerminateInstanceInAutoScalingGroup',
] as const;

export function addNodeAutoscaling(
  scope: Construct,
  env: AwsEnvironment,
  cluster: EksCluster,
): void {
  const a = env.aws;
  const ca = a.clusterAutoscaler;
  const agent = new EksAddon(scope, 'pod-identity-agent', {
    clusterName: cluster.name,
    addonName: 'eks-pod-identity-agent',
    resolveConflictsOnCreate: 'OVERWRITE',
    resolveConflictsOnUpdate: 'OVERWRITE',
  });
  const trust = new DataAwsIamPolicyDocument(scope, 'autoscaler-trust', {
    statement: [
      {
        effect: 'Allow',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        principals: [{ type: 'Service', identifiers: ['pods.eks.amazonaws.com'] }],
      },
    ],
  });
  const role = new IamRole(scope, 'autoscaler-identity', {
    name: ca.roleName,
    description: `Cluster Autoscaler of ${a.cluster}: ${ca.namespace}/${ca.serviceAccount}`,
    assumeRolePolicy: trust.json,
    maxSessionDuration: 3600,
  });
  const policy = new DataAwsIamPolicyDocument(scope, 'autoscaler-policy', {
    statement: [
      {
        sid: 'ScaleThisClusterOnly',
        effect: 'Allow',
        actions: [...autoscalerScaleActions],
        resources: ['*'],
        condition: [
          {
            test: 'StringEquals',
            variable: `aws:ResourceTag/k8s.io/cluster-autoscaler/${a.cluster}`,
            values: ['owned'],
          },
        ],
      },
      {
        sid: 'Describe',
        effect: 'Allow',
        actions: [...autoscalerDescribeActions],
        resources: ['*'],
      },
    ],
  });
  new IamRolePolicy(scope, 'autoscaler-scale', {
    role: role.id,
    name: 'scale-node-groups',
    policy: policy.json,
  });
  new EksPodIdentityAssociation(scope, 'autoscaler-association', {
    clusterName: cluster.name,
    namespace: ca.namespace,
    serviceAccount: ca.serviceAccount,
    roleArn: role.arn,
    dependsOn: [agent],
  });
  new TerraformOutput(scope, 'cluster_autoscaler_service_account', {
    value: `${ca.namespace}/${ca.serviceAccount}`,
  });
}
