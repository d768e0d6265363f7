/**
 * The AWS stacks: every resource of issue "cloud stacks" present with its security-relevant
 * properties, checked on the synthesized Terraform JSON with cdktf's matchers.
 */
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository/index.js';
import { EksAddon } from '@cdktf/provider-aws/lib/eks-addon/index.js';
import { EksCluster } from '@cdktf/provider-aws/lib/eks-cluster/index.js';
import { EksNodeGroup } from '@cdktf/provider-aws/lib/eks-node-group/index.js';
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template/index.js';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway/index.js';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning/index.js';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import { Subnet } from '@cdktf/provider-aws/lib/subnet/index.js';
import { Vpc } from '@cdktf/provider-aws/lib/vpc/index.js';
import { Testing } from 'cdktf';
import { describe, it } from 'vitest';
import { service } from '../../plan.js';
import { stageConfig } from '../config.js';
import { AwsEnvironmentStack } from '../aws/environment.js';
import { type AwsEnvironment, awsEnvironments, hasPublicEndpoint } from '../aws/environments.js';
import { labelFields, resourceLabels } from '../lib/labels.js';
import { requiredTerraformVersion } from '../lib/terraform.js';
import { modelLocation, predictionLogLocation } from '../lib/model-path.js';
import { labelledResources } from './support/labels.js';
import { expect } from './support/matchers.js';
import {
  type Block,
  referencedPolicyDocument,
  resource,
  resources,
  synthStack,
} from './support/synth.js';

const publicAccessBlocked = {
  block_public_acls: true,
  block_public_policy: true,
  ignore_public_acls: true,
  restrict_public_buckets: true,
};

describe('aws-bootstrap', () => {
  const { json, tf, stack } = synthStack('aws-bootstrap');
  const first = awsEnvironments[0]!;

  it('keeps its own state in the state bucket it creates, locked by a lock file (no DynamoDB table)', () => {
    expect(tf.terraform.backend).toEqual({
      s3: {
        bucket: first.aws.stateBucket,
        key: first.aws.bootstrapStateKey,
        region: first.aws.region,
        encrypt: true,
        use_lockfile: true,
      },
    });
    expect((tf.terraform as Block).required_version).toBe(requiredTerraformVersion);
    expect(resources(tf, 'aws_dynamodb_table')).toEqual({});
    expect(json).toHaveResourceWithProperties(S3Bucket, {
      bucket: first.aws.stateBucket,
      lifecycle: { prevent_destroy: true },
    });
    expect(json).toHaveResourceWithProperties(S3BucketVersioningA, {
      versioning_configuration: { status: 'Enabled' },
    });
    expect(json).toHaveResourceWithProperties(S3BucketPublicAccessBlock, publicAccessBlocked);
  });

  it('creates the ECR repository the images are pushed to: immutable tags, scan on push', () => {
    expect(json).toHaveResourceWithProperties(EcrRepository, {
      name: service.registryRepository,
      image_tag_mutability: 'IMMUTABLE',
      image_scanning_configuration: { scan_on_push: true },
    });
    expect(first.aws.image).toBe(`${first.aws.registryHost}/${service.registryRepository}`);
  });

  it('tags every resource that takes tags', () => {
    for (const r of labelledResources(stack, tf, labelFields.aws))
      expect(r.labels, r.address).toEqual(resourceLabels('shared'));
  });
});

describe.each(awsEnvironments.map((env) => [env.id, env] as const))('%s', (id, env) => {
  const { json, tf, stack } = synthStack(id);
  const a = env.aws;
  const cfg = stageConfig[env.stage];
  const tags = resourceLabels(env.stage);
  const mlNodeTaint = service.mlNodePool;

  it('uses a remote S3 state of its own, locked by a lock file, and says which Terraform it needs', () => {
    expect(tf.terraform.backend).toEqual({
      s3: {
        bucket: a.stateBucket,
        key: a.stateKey,
        region: a.region,
        encrypt: true,
        use_lockfile: true,
      },
    });
    expect((tf.terraform as Block).required_version).toBe(requiredTerraformVersion);
  });

  it('tags every resource (service, environment, owner, cost centre), also through the provider', () => {
    expect(json).toHaveProviderWithProperties(AwsProvider, {
      region: a.region,
      allowed_account_ids: [a.accountId],
      default_tags: [{ tags }],
    });
    const tagged = labelledResources(stack, tf, labelFields.aws);
    expect(tagged.length).toBeGreaterThanOrEqual(20);
    for (const r of tagged) expect(r.labels, r.address).toMatchObject(tags);
    for (const lt of Object.values(resources(tf, 'aws_launch_template'))) {
      const specs = lt.tag_specifications as Array<{ resource_type: string; tags: unknown }>;
      expect(specs.map((s) => s.resource_type).sort()).toEqual(['instance', 'volume']);
      for (const s of specs) expect(s.tags).toEqual(tags);
    }
  });

  it('spans three zones with private subnets for the nodes', () => {
    expect(json).toHaveResourceWithProperties(Vpc, {
      cidr_block: cfg.aws.vpcCidr,
      enable_dns_hostnames: true,
    });
    const subnets = Object.entries(resources(tf, 'aws_subnet'));
    const privateSubnets = subnets.filter(([name]) => name.startsWith('private-'));
    expect(privateSubnets.map(([, s]) => s.cidr_block)).toEqual([...cfg.aws.privateSubnetCidrs]);
    expect(new Set(privateSubnets.map(([, s]) => s.availability_zone)).size).toBe(3);
    for (const [, s] of subnets) expect(s.map_public_ip_on_launch ?? false).toBe(false);
    expect(json).toHaveResourceWithProperties(Subnet, {
      tags: expect.objectContaining({
        'kubernetes.io/role/internal-elb': '1',
        [`kubernetes.io/cluster/${a.cluster}`]: 'shared',
      }),
    });
    expect(Object.keys(resources(tf, 'aws_nat_gateway'))).toHaveLength(cfg.aws.natGateways);
    expect(json).toHaveResource(NatGateway);
    // The default security group allows nothing.
    const sg = resource(tf, 'aws_default_security_group', 'default-security-group');
    expect(sg.ingress).toBeUndefined();
    expect(sg.egress).toBeUndefined();
  });

  it('runs EKS in the private subnets with API authentication, audit logs and the OIDC provider for IRSA', () => {
    expect(json).toHaveResourceWithProperties(EksCluster, {
      name: a.cluster,
      version: cfg.aws.kubernetesVersion,
      access_config: {
        authentication_mode: 'API',
        bootstrap_cluster_creator_admin_permissions: true,
      },
      enabled_cluster_log_types: ['api', 'audit', 'authenticator'],
      deletion_protection: cfg.deletionProtection,
    });
    const cluster = resource(tf, 'aws_eks_cluster', 'cluster');
    const vpcConfig = cluster.vpc_config as Block;
    expect(vpcConfig).toMatchObject({
      endpoint_private_access: true,
      endpoint_public_access: hasPublicEndpoint(a),
    });
    expect(vpcConfig.public_access_cidrs).toEqual(
      hasPublicEndpoint(a) ? [...a.eksPublicAccessCidrs] : undefined,
    );
    expect(vpcConfig.subnet_ids).toEqual(
      [0, 1, 2].map((i) => `\${aws_subnet.private-subnet-${i}.id}`),
    );
    if (cfg.customerManagedKey) {
      expect(cluster.encryption_config).toEqual({
        provider: { key_arn: '${aws_kms_key.key.arn}' },
        resources: ['secrets'],
      });
    }
    expect(json).toHaveResourceWithProperties(IamOpenidConnectProvider, {
      url: '${aws_eks_cluster.cluster.identity[0].oidc[0].issuer}',
      client_id_list: ['sts.amazonaws.com'],
    });
    expect(json).toHaveResourceWithProperties(EksAddon, {
      addon_name: 'vpc-cni',
      configuration_values: JSON.stringify({ enableNetworkPolicy: 'true' }),
    });
  });

  it('autoscales a tainted ML node group within the plan bounds, on IMDSv2-only nodes', () => {
    expect(json).toHaveResourceWithProperties(EksNodeGroup, {
      node_group_name: 'ml',
      scaling_config: {
        min_size: env.nodePool.min,
        max_size: env.nodePool.max,
        desired_size: env.nodePool.min,
      },
      capacity_type: cfg.spotNodes ? 'SPOT' : 'ON_DEMAND',
      taint: [{ key: mlNodeTaint.key, value: mlNodeTaint.value, effect: 'NO_SCHEDULE' }],
      labels: { [mlNodeTaint.key]: mlNodeTaint.value },
    });
    const system = resource(tf, 'aws_eks_node_group', 'system-nodes');
    expect(system.taint).toBeUndefined();
    for (const group of Object.values(resources(tf, 'aws_eks_node_group'))) {
      expect(group.subnet_ids).toEqual(
        [0, 1, 2].map((i) => `\${aws_subnet.private-subnet-${i}.id}`),
      );
    }
    expect(Object.keys(resources(tf, 'aws_launch_template'))).toHaveLength(2);
    for (const lt of Object.values(resources(tf, 'aws_launch_template'))) {
      // One hop: pods cannot reach the instance metadata service and take the node's role.
      expect(lt.metadata_options).toEqual({
        http_endpoint: 'enabled',
        http_tokens: 'required',
        http_put_response_hop_limit: 1,
      });
      expect((lt.block_device_mappings as Array<{ ebs: Block }>)[0]!.ebs).toMatchObject({
        encrypted: 'true',
      });
    }
    expect(json).toHaveResource(LaunchTemplate);
  });

  it("has the HPA's metric source: the metrics-server add-on", () => {
    expect(json).toHaveResourceWithProperties(EksAddon, {
      cluster_name: '${aws_eks_cluster.cluster.name}',
      addon_name: 'metrics-server',
    });
  });

  it("lets the Cluster Autoscaler resize this cluster's node groups only, as its service account through Pod Identity", () => {
    const ca = a.clusterAutoscaler;
    expect(json).toHaveResourceWithProperties(EksAddon, { addon_name: 'eks-pod-identity-agent' });
    expect(
      resource(tf, 'aws_eks_pod_identity_association', 'autoscaler-association'),
    ).toMatchObject({
      cluster_name: '${aws_eks_cluster.cluster.name}',
      namespace: ca.namespace,
      service_account: ca.serviceAccount,
      role_arn: '${aws_iam_role.autoscaler-identity.arn}',
    });
    const role = resource(tf, 'aws_iam_role', 'autoscaler-identity');
    expect(role.name).toBe(ca.roleName);
    expect(referencedPolicyDocument(tf, role.assume_role_policy).statement).toEqual([
      {
        effect: 'Allow',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        principals: [{ type: 'Service', identifiers: ['pods.eks.amazonaws.com'] }],
      },
    ]);
    const policy = Object.values(resources(tf, 'aws_iam_role_policy')).find(
      (p) => p.role === '${aws_iam_role.autoscaler-identity.id}',
    )!;
    const statements = referencedPolicyDocument(tf, policy.policy).statement as Block[];
    const changes = statements.filter((st) =>
      (st.actions as string[]).some((x) => !/:(Describe|Get)/.test(x)),
    );
    expect(changes).toEqual([
      expect.objectContaining({
        actions: [
          'autoscaling:SetDesiredCapacity',
          'autoscaling:TerminateInstanceInAutoScalingGroup',
        ],
        condition: [
          {
            test: 'StringEquals',
            variable: `aws:ResourceTag/k8s.io/cluster-autoscaler/${a.cluster}`,
            values: ['owned'],
          },
        ],
      }),
    ]);
    for (const st of statements)
      for (const action of st.actions as string[]) expect(action).not.toContain('*');
  });

  it.runIf(env.stage === 'prod')(
    'keeps at least two ML nodes, in at least two zones, so no single node or zone holds every replica',
    () => {
      const ml = resource(tf, 'aws_eks_node_group', 'ml-nodes');
      expect((ml.scaling_config as Block).min_size).toBeGreaterThanOrEqual(2);
      const zones = (ml.subnet_ids as string[]).map(
        (ref) =>
          resource(tf, 'aws_subnet', /aws_subnet\.([\w-]+)\.id/.exec(ref)![1]!).availability_zone,
      );
      expect(new Set(zones).size).toBeGreaterThanOrEqual(2);
    },
  );

  it('keeps the model in a versioned, SSE-KMS, public-access-blocked, TLS-only bucket', () => {
    expect(json).toHaveResourceWithProperties(S3Bucket, {
      bucket: a.modelBucket,
      force_destroy: false,
    });
    expect(json).toHaveResourceWithProperties(S3BucketVersioningA, {
      bucket: '${aws_s3_bucket.model-bucket.id}',
      versioning_configuration: { status: 'Enabled' },
    });
    expect(json).toHaveResourceWithProperties(S3BucketServerSideEncryptionConfigurationA, {
      rule: [
        {
          apply_server_side_encryption_by_default: cfg.customerManagedKey
            ? { sse_algorithm: 'aws:kms', kms_master_key_id: '${aws_kms_key.key.arn}' }
            : { sse_algorithm: 'aws:kms' },
          bucket_key_enabled: true,
        },
      ],
    });
    expect(json).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      bucket: '${aws_s3_bucket.model-bucket.id}',
      ...publicAccessBlocked,
    });
    const policy = referencedPolicyDocument(
      tf,
      resource(tf, 'aws_s3_bucket_policy', 'model-bucket-policy').policy,
    );
    expect(policy.statement).toEqual([
      expect.objectContaining({
        effect: 'Deny',
        condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
      }),
    ]);
    if (cfg.customerManagedKey)
      expect(json).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true });
    else expect(json).not.toHaveResource(KmsKey);
  });

  /** The role's trust conditions (test, variable without the issuer, values) and its statements. */
  const roleOf = (name: string) => {
    const role = resource(tf, 'aws_iam_role', name);
    const trust = referencedPolicyDocument(tf, role.assume_role_policy);
    expect(trust.statement).toHaveLength(1);
    const [statement] = trust.statement as Block[];
    expect(statement).toMatchObject({
      effect: 'Allow',
      actions: ['sts:AssumeRoleWithWebIdentity'],
      principals: [
        {
          type: 'Federated',
          identifiers: ['${aws_iam_openid_connect_provider.oidc-provider.arn}'],
        },
      ],
    });
    const conditions = (
      statement!.condition as Array<{ test: string; variable: string; values: string[] }>
    ).map((c) => [c.test, c.variable.replace(/^.*:/, ''), c.values]);
    const policies = Object.values(resources(tf, 'aws_iam_role_policy')).filter(
      (p) => p.role === `\${aws_iam_role.${name}.id}`,
    );
    const statements = policies.flatMap(
      (p) => referencedPolicyDocument(tf, p.policy).statement as Block[],
    );
    // No managed policy is attached to it.
    const attached = Object.values(resources(tf, 'aws_iam_role_policy_attachment')).filter((p) =>
      String(p.role).includes(name),
    );
    expect(attached).toEqual([]);
    return { role, conditions, statements };
  };
  const s3Of = (statements: Block[]) =>
    statements.filter((s) => (s.actions as string[]).some((x) => x.startsWith('s3:')));
  const kmsOf = (statements: Block[]) =>
    statements.filter((s) => !s3Of(statements).includes(s)).flatMap((s) => s.actions as string[]);
  const p = a.partition;

  it('gives the IRSA role s3:GetObject on the model path and s3:PutObject on the prediction logs, for the service account only', () => {
    const { readPrefix } = modelLocation(env.modelUri);
    const logs = predictionLogLocation(env.predictionLogUri);
    expect(json).toHaveResourceWithProperties(IamRole, { name: a.roleName });
    const { conditions, statements } = roleOf('service-identity');
    expect(conditions).toEqual([
      ['StringEquals', 'sub', [a.irsaSubject]],
      ['StringEquals', 'aud', ['sts.amazonaws.com']],
    ]);
    expect(s3Of(statements)).toEqual([
      {
        sid: 'ReadModelPathOnly',
        effect: 'Allow',
        actions: ['s3:GetObject'],
        resources: [`arn:${p}:s3:::${a.modelBucket}/${readPrefix}*`],
      },
      {
        sid: 'CreatePredictionLogsOnly',
        effect: 'Allow',
        actions: ['s3:PutObject'],
        resources: [`arn:${p}:s3:::${a.modelBucket}/${logs.prefix}*`],
      },
    ]);
    expect(kmsOf(statements)).toEqual(
      cfg.customerManagedKey ? ['kms:Decrypt', 'kms:GenerateDataKey'] : [],
    );
  });

  it('gives the drift role s3:GetObject and a prefix-bound s3:ListBucket on the prediction logs only, for its service account only', () => {
    const logs = predictionLogLocation(env.predictionLogUri);
    expect(json).toHaveResourceWithProperties(IamRole, { name: a.driftRoleName });
    const { conditions, statements } = roleOf('drift-identity');
    expect(conditions).toEqual([
      ['StringEquals', 'sub', [a.driftIrsaSubject]],
      ['StringEquals', 'aud', ['sts.amazonaws.com']],
    ]);
    expect(s3Of(statements)).toEqual([
      {
        sid: 'ReadPredictionLogsOnly',
        effect: 'Allow',
        actions: ['s3:GetObject'],
        resources: [`arn:${p}:s3:::${a.modelBucket}/${logs.prefix}*`],
      },
      {
        sid: 'ListPredictionLogsOnly',
        effect: 'Allow',
        actions: ['s3:ListBucket'],
        resources: [`arn:${p}:s3:::${a.modelBucket}`],
        condition: [{ test: 'StringLike', variable: 's3:prefix', values: [`${logs.prefix}*`] }],
      },
    ]);
    expect(kmsOf(statements)).toEqual(cfg.customerManagedKey ? ['kms:Decrypt'] : []);
  });

  it('keeps the prediction logs no longer than the stage retention, noncurrent versions included', () => {
    const logs = predictionLogLocation(env.predictionLogUri);
    const rules = resource(tf, 'aws_s3_bucket_lifecycle_configuration', 'model-bucket-lifecycle')
      .rule as Block[];
    expect(rules.filter((r) => r.expiration)).toEqual([
      {
        id: 'expire-prediction-logs',
        status: 'Enabled',
        filter: [{ prefix: logs.prefix }],
        expiration: [{ days: cfg.predictionLogDays }],
        noncurrent_version_expiration: [{ noncurrent_days: 1 }],
      },
    ]);
    // The longest a log lives: until it expires, then as a noncurrent version.
    const noncurrentDays = (rule: Block) =>
      Number((rule.noncurrent_version_expiration as Block[])[0]!.noncurrent_days);
    const forLogs = rules.filter(
      (r) =>
        r.noncurrent_version_expiration &&
        (r.filter as Array<{ prefix: string }>)[0]!.prefix === logs.prefix,
    );
    expect(cfg.predictionLogDays + Math.max(...forLogs.map(noncurrentDays))).toBeLessThanOrEqual(
      cfg.predictionLogDays + 1,
    );
  });

  it(`writes every ARN in the region's partition (${a.partition})`, () => {
    const arns = [...json.matchAll(/arn:[\w-]*:/g)].map((m) => m[0]);
    expect(arns.length).toBeGreaterThan(0);
    expect(new Set(arns)).toEqual(new Set([`arn:${p}:`]));
  });
});

describe('another partition (us-gov-west-1)', () => {
  // The plan of a GovCloud project differs in region, partition and the ARNs naming.ts builds
  // with it; the stack must take the partition from there and never write `arn:aws:` itself.
  const first = awsEnvironments[0]!;
  const swap = (arn: string): string => arn.replace(/^arn:[\w-]+:/, 'arn:aws-us-gov:');
  const gov = {
    ...first,
    aws: {
      ...first.aws,
      region: 'us-gov-west-1',
      partition: 'aws-us-gov',
      roleArn: swap(first.aws.roleArn),
      driftRoleArn: swap(first.aws.driftRoleArn),
      deployRoleArn: swap(first.aws.deployRoleArn),
      githubOidcProviderArn: swap(first.aws.githubOidcProviderArn),
    },
  } as unknown as AwsEnvironment;
  const json = Testing.synth(new AwsEnvironmentStack(Testing.app(), 'aws-gov', gov));

  it('writes every ARN with arn:aws-us-gov:', () => {
    const arns = [...json.matchAll(/arn:[\w-]*:/g)].map((m) => m[0]);
    expect(arns.length).toBeGreaterThan(0);
    expect(new Set(arns)).toEqual(new Set(['arn:aws-us-gov:']));
    expect(json).toContain(`arn:aws-us-gov:s3:::${first.aws.modelBucket}/`);
    expect(json).toContain('arn:aws-us-gov:iam::aws:policy/AmazonEKSClusterPolicy');
  });
});
