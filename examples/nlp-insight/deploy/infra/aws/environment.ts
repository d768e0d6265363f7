/**
 * One AWS environment: VPC over three zones, EKS with a system and an ML node group, the OIDC
 * provider for IRSA, the model bucket, the IAM role of the service's Kubernetes service account
 * (reads the model, creates prediction logs) and the drift job's role (reads the prediction logs),
 * each trusted by its service account in the stage's namespace only. Every name comes from
 * deploy/plan.ts; every ARN carries the region's partition.
 */
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { DataAwsAvailabilityZones } from '@cdktf/provider-aws/lib/data-aws-availability-zones/index.js';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { DefaultSecurityGroup } from '@cdktf/provider-aws/lib/default-security-group/index.js';
import { Eip } from '@cdktf/provider-aws/lib/eip/index.js';
import { EksAddon } from '@cdktf/provider-aws/lib/eks-addon/index.js';
import { EksCluster } from '@cdktf/provider-aws/lib/eks-cluster/index.js';
import {
  EksNodeGroup,
  type EksNodeGroupConfig,
} from '@cdktf/provider-aws/lib/eks-node-group/index.js';
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider/index.js';
import { IamRolePolicyAttachment } from '@cdktf/provider-aws/lib/iam-role-policy-attachment/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { InternetGateway } from '@cdktf/provider-aws/lib/internet-gateway/index.js';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { LaunchTemplate } from '@cdktf/provider-aws/lib/launch-template/index.js';
import { NatGateway } from '@cdktf/provider-aws/lib/nat-gateway/index.js';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { RouteTableAssociation } from '@cdktf/provider-aws/lib/route-table-association/index.js';
import { RouteTable } from '@cdktf/provider-aws/lib/route-table/index.js';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration/index.js';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import { Subnet } from '@cdktf/provider-aws/lib/subnet/index.js';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint/index.js';
import { Vpc } from '@cdktf/provider-aws/lib/vpc/index.js';
import { Fn, TerraformOutput, TerraformStack, Token } from 'cdktf';
import type { Construct } from 'constructs';
import { runtime, service } from '../../plan.js';
import {
  awsInstanceType,
  mlMachineSize,
  podsPerNode,
  servicePod,
  type StageConfig,
  stageConfig,
} from '../config.js';
import { labelEveryResource, labelFields, resourceLabels } from '../lib/labels.js';
import {
  type FolderLocation,
  modelBucketLocations,
  type ModelLocation,
} from '../lib/model-path.js';
import { requireTerraform } from '../lib/terraform.js';
import { s3Backend } from './backend.js';
import { hardenBucket } from './bucket.js';
import { addDeployAccess } from './deploy-access.js';
import { addNodeAutoscaling } from './node-autoscaling.js';
import { type AwsEnvironment, hasPublicEndpoint } from './environments.js';
import { irsaTrust, serviceTrust } from './policies.js';

/** The names of one AWS environment (deploy/plan.ts). */
type AwsNames = AwsEnvironment['aws'];

/** An ARN in the environment's partition. */
const arnIn = (a: AwsNames, service_: string, resource: string): string =>
  `arn:${a.partition}:${service_}:${resource}`;

/** The ARN of an AWS-managed IAM policy. */
const managedPolicy = (a: AwsNames, name: string): string => arnIn(a, 'iam', `:aws:policy/${name}`);

/** The ARN of every object under `prefix` in the model bucket. */
const objects = (a: AwsNames, prefix: string): string =>
  arnIn(a, 's3', `::${a.modelBucket}/${prefix}*`);

/** The provider (one account, default tags), the Terraform version, the S3 backend and labels. */
function addProviderAndBackend(scope: TerraformStack, a: AwsNames, tags: Record<string, string>) {
  new AwsProvider(scope, 'aws', {
    region: a.region,
    allowedAccountIds: [a.accountId],
    defaultTags: [{ tags }],
  });
  requireTerraform(scope);
  s3Backend(scope, { bucket: a.stateBucket, key: a.stateKey, region: a.region });
  labelEveryResource(scope, tags, labelFields.aws);
}

/** What the subnet helpers share: the names, the stage's settings, the VPC and its zones. */
interface NetworkContext {
  readonly a: AwsNames;
  readonly cfg: StageConfig;
  readonly vpc: Vpc;
  /** The name of the `i`th available zone. */
  readonly zone: (i: number) => string;
}

/**
 * Network: three zones, private subnets for nodes, public subnets for NAT and load balancers.
 * Returns the private subnets.
 */
function addNetwork(scope: Construct, a: AwsNames, cfg: StageConfig): Subnet[] {
  const zones = new DataAwsAvailabilityZones(scope, 'zones', {
    state: 'available',
    filter: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }],
  });
  const vpc = new Vpc(scope, 'vpc', {
    cidrBlock: cfg.aws.vpcCidr,
    enableDnsHostnames: true,
    enableDnsSupport: true,
    tags: { Name: a.vpc },
  });
  // The default security group of the VPC allows nothing.
  new DefaultSecurityGroup(scope, 'default-security-group', { vpcId: vpc.id });
  const internet = new InternetGateway(scope, 'internet-gateway', {
    vpcId: vpc.id,
    tags: { Name: a.vpc },
  });
  const zone = (i: number): string => Token.asString(Fn.element(zones.names, i));
  const net: NetworkContext = { a, cfg, vpc, zone };
  const publicSubnets = addPublicSubnets(scope, net, internet);
  const natGateways = addNatGateways(
    scope,
    a,
    publicSubnets.slice(0, cfg.aws.natGateways),
    internet,
  );
  const { subnets, routes } = addPrivateSubnets(scope, net, natGateways);
  // The model download stays on the AWS network (and off the NAT bill).
  new VpcEndpoint(scope, 's3-endpoint', {
    vpcId: vpc.id,
    serviceName: `com.amazonaws.${a.region}.s3`,
    vpcEndpointType: 'Gateway',
    routeTableIds: routes.map((r) => r.id),
  });
  return subnets;
}

/** The public subnets (load balancers, NAT), routed to the internet gateway. */
function addPublicSubnets(scope: Construct, net: NetworkContext, internet: InternetGateway) {
  const { a, cfg, vpc, zone } = net;
  const publicRoutes = new RouteTable(scope, 'public-routes', {
    vpcId: vpc.id,
    route: [{ cidrBlock: '0.0.0.0/0', gatewayId: internet.id }],
    tags: { Name: `${a.vpc}-public` },
  });
  return cfg.aws.publicSubnetCidrs.map((cidrBlock, i) => {
    const subnet = new Subnet(scope, `public-subnet-${i}`, {
      vpcId: vpc.id,
      cidrBlock,
      availabilityZone: zone(i),
      mapPublicIpOnLaunch: false,
      tags: { Name: `${a.vpc}-public-${i}`, 'kubernetes.io/role/elb': '1' },
    });
    new RouteTableAssociation(scope, `public-subnet-${i}-routes`, {
      subnetId: subnet.id,
      routeTableId: publicRoutes.id,
    });
    return subnet;
  });
}

/** One NAT gateway, with its Elastic IP, in each of the given public subnets. */
function addNatGateways(
  scope: Construct,
  a: AwsNames,
  subnets: Subnet[],
  internet: InternetGateway,
): NatGateway[] {
  return subnets.map((subnet, i) => {
    const ip = new Eip(scope, `nat-ip-${i}`, {
      domain: 'vpc',
      tags: { Name: `${a.vpc}-nat-${i}` },
    });
    return new NatGateway(scope, `nat-${i}`, {
      allocationId: ip.allocationId,
      subnetId: subnet.id,
      tags: { Name: `${a.vpc}-nat-${i}` },
      dependsOn: [internet],
    });
  });
}

/** The private subnets (nodes, internal load balancers), each routed out through a NAT gateway. */
function addPrivateSubnets(
  scope: Construct,
  net: NetworkContext,
  natGateways: NatGateway[],
): { subnets: Subnet[]; routes: RouteTable[] } {
  const { a, cfg, vpc, zone } = net;
  const routes: RouteTable[] = [];
  const subnets = cfg.aws.privateSubnetCidrs.map((cidrBlock, i) => {
    const nat = natGateways[Math.min(i, natGateways.length - 1)]!;
    const table = new RouteTable(scope, `private-routes-${i}`, {
      vpcId: vpc.id,
      route: [{ cidrBlock: '0.0.0.0/0', natGatewayId: nat.id }],
      tags: { Name: `${a.vpc}-private-${i}` },
    });
    routes.push(table);
    const subnet = new Subnet(scope, `private-subnet-${i}`, {
      vpcId: vpc.id,
      cidrBlock,
      availabilityZone: zone(i),
      tags: {
        Name: `${a.vpc}-private-${i}`,
        'kubernetes.io/role/internal-elb': '1',
        [`kubernetes.io/cluster/${a.cluster}`]: 'shared',
      },
    });
    new RouteTableAssociation(scope, `private-subnet-${i}-routes`, {
      subnetId: subnet.id,
      routeTableId: table.id,
    });
    return subnet;
  });
  return { subnets, routes };
}

/** Customer-managed key for the model bucket and the cluster's Secrets, when configured. */
function addKey(scope: Construct, env: AwsEnvironment, cfg: StageConfig): KmsKey | undefined {
  if (!cfg.customerManagedKey) return undefined;
  const key = new KmsKey(scope, 'key', {
    description: `${service.service} ${env.stage}: model bucket and Kubernetes Secrets`,
    enableKeyRotation: true,
    deletionWindowInDays: 30,
    lifecycle: { preventDestroy: cfg.deletionProtection },
  });
  new KmsAlias(scope, 'key-alias', { name: env.aws.keyAlias, targetKeyId: key.keyId });
  return key;
}

/** Model bucket: versioned, SSE-KMS, never public, TLS only. */
function addModelBucket(
  scope: Construct,
  a: AwsNames,
  cfg: StageConfig,
  key: KmsKey | undefined,
  predictionLogPrefix: string,
): void {
  const bucket = new S3Bucket(scope, 'model-bucket', {
    bucket: a.modelBucket,
    forceDestroy: false,
  });
  hardenBucket(scope, 'model-bucket', bucket, key?.arn);
  addModelBucketLifecycle(scope, bucket, cfg, predictionLogPrefix);
}

/** The model bucket's expiry rules: replaced model versions, and the prediction logs. */
function addModelBucketLifecycle(
  scope: Construct,
  bucket: S3Bucket,
  cfg: StageConfig,
  predictionLogPrefix: string,
): void {
  new S3BucketLifecycleConfiguration(scope, 'model-bucket-lifecycle', {
    bucket: bucket.id,
    rule: [
      {
        id: 'expire-replaced-versions',
        status: 'Enabled',
        filter: [{ prefix: '' }],
        noncurrentVersionExpiration: [{ noncurrentDays: cfg.noncurrentVersionDays }],
        abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
      },
      // Prediction logs live predictionLogDays in all: the current object expires at that age,
      // and the noncurrent version the expiry leaves behind goes a day later.
      {
        id: 'expire-prediction-logs',
        status: 'Enabled',
        filter: [{ prefix: predictionLogPrefix }],
        expiration: [{ days: cfg.predictionLogDays }],
        noncurrentVersionExpiration: [{ noncurrentDays: 1 }],
      },
    ],
  });
}

/** The control plane's role: EKS's managed cluster policy, and the Secrets key when there is one. */
function addClusterRole(
  scope: Construct,
  a: AwsNames,
  key: KmsKey | undefined,
): { clusterRole: IamRole; clusterPolicy: IamRolePolicyAttachment } {
  const clusterRole = new IamRole(scope, 'cluster-role', {
    name: a.clusterRole,
    assumeRolePolicy: serviceTrust(scope, 'cluster-trust', 'eks.amazonaws.com').json,
  });
  const clusterPolicy = new IamRolePolicyAttachment(scope, 'cluster-policy', {
    role: clusterRole.name,
    policyArn: managedPolicy(a, 'AmazonEKSClusterPolicy'),
  });
  if (key) {
    new IamRolePolicy(scope, 'cluster-key', {
      role: clusterRole.id,
      name: 'secrets-encryption',
      policy: new DataAwsIamPolicyDocument(scope, 'cluster-key-policy', {
        statement: [
          {
            effect: 'Allow',
            actions: [
              'kms:Encrypt',
              'kms:Decrypt',
              'kms:DescribeKey',
              'kms:ListGrants',
              'kms:CreateGrant',
            ],
            resources: [key.arn],
          },
        ],
      }).json,
    });
  }
  return { clusterRole, clusterPolicy };
}

/** The cluster and the OIDC provider of its issuer, which the IRSA roles trust. */
interface ClusterIdentity {
  readonly cluster: EksCluster;
  readonly oidc: IamOpenidConnectProvider;
  readonly issuer: string;
}

/**
 * EKS control plane: private subnets, API authentication, audit logs, Secrets envelope-encrypted;
 * and the OIDC provider for IRSA.
 */
function addCluster(
  scope: Construct,
  a: AwsNames,
  cfg: StageConfig,
  key: KmsKey | undefined,
  privateSubnets: Subnet[],
): ClusterIdentity {
  const { clusterRole, clusterPolicy } = addClusterRole(scope, a, key);
  const logs = new CloudwatchLogGroup(scope, 'cluster-logs', {
    name: a.clusterLogGroup,
    retentionInDays: cfg.logRetentionDays,
  });
  // Public (IAM-authenticated, limited to the answer's CIDRs) so GitHub-hosted runners deploy, or
  // private: then deploy jobs run on self-hosted runners in the VPC (plan `deploy.runsOn`).
  const publicEndpoint = hasPublicEndpoint(a);
  const cluster = new EksCluster(scope, 'cluster', {
    name: a.cluster,
    roleArn: clusterRole.arn,
    version: cfg.aws.kubernetesVersion,
    vpcConfig: {
      subnetIds: privateSubnets.map((s) => s.id),
      endpointPrivateAccess: true,
      endpointPublicAccess: publicEndpoint,
      publicAccessCidrs: publicEndpoint ? [...a.eksPublicAccessCidrs] : undefined,
    },
    accessConfig: { authenticationMode: 'API', bootstrapClusterCreatorAdminPermissions: true },
    encryptionConfig: key ? { provider: { keyArn: key.arn }, resources: ['secrets'] } : undefined,
    enabledClusterLogTypes: ['api', 'audit', 'authenticator'],
    upgradePolicy: { supportType: 'STANDARD' },
    deletionProtection: cfg.deletionProtection,
    dependsOn: [clusterPolicy, logs],
  });
  const issuer = cluster.identity.get(0).oidc.get(0).issuer;
  const oidc = new IamOpenidConnectProvider(scope, 'oidc-provider', {
    url: issuer,
    clientIdList: ['sts.amazonaws.com'],
  });
  return { cluster, oidc, issuer };
}

/** The cluster's add-ons: the VPC CNI with NetworkPolicy, and the Metrics Server. */
function addClusterAddons(scope: Construct, cluster: EksCluster): void {
  // The VPC CNI enforces the service's NetworkPolicy.
  new EksAddon(scope, 'vpc-cni', {
    clusterName: cluster.name,
    addonName: 'vpc-cni',
    configurationValues: JSON.stringify({ enableNetworkPolicy: 'true' }),
    resolveConflictsOnCreate: 'OVERWRITE',
    resolveConflictsOnUpdate: 'OVERWRITE',
  });

  // The HPA's metric source: the Kubernetes Metrics Server, as EKS's community add-on.
  new EksAddon(scope, 'metrics-server', {
    clusterName: cluster.name,
    addonName: 'metrics-server',
    resolveConflictsOnCreate: 'OVERWRITE',
    resolveConflictsOnUpdate: 'OVERWRITE',
  });
}

/** The nodes' role, with EKS's worker, CNI and registry-pull managed policies. */
function addNodeRole(
  scope: Construct,
  a: AwsNames,
): { nodeRole: IamRole; nodePolicies: IamRolePolicyAttachment[] } {
  const nodeRole = new IamRole(scope, 'node-role', {
    name: a.nodeRole,
    assumeRolePolicy: serviceTrust(scope, 'node-trust', 'ec2.amazonaws.com').json,
  });
  const nodePolicies = [
    'AmazonEKSWorkerNodePolicy',
    'AmazonEKS_CNI_Policy',
    'AmazonEC2ContainerRegistryPullOnly',
  ].map(
    (name) =>
      new IamRolePolicyAttachment(scope, `node-${name}`, {
        role: nodeRole.name,
        policyArn: managedPolicy(a, name),
      }),
  );
  return { nodeRole, nodePolicies };
}

/** A node launch template: IMDSv2 with one hop (pods cannot take the node's role), encrypted disk. */
function addLaunchTemplate(
  scope: Construct,
  id: string,
  name: string,
  cfg: StageConfig,
  tags: Record<string, string>,
): LaunchTemplate {
  return new LaunchTemplate(scope, id, {
    name,
    updateDefaultVersion: true,
    metadataOptions: {
      httpEndpoint: 'enabled',
      httpTokens: 'required',
      httpPutResponseHopLimit: 1,
    },
    blockDeviceMappings: [
      {
        deviceName: '/dev/xvda',
        ebs: {
          volumeSize: cfg.diskSizeGb,
          volumeType: 'gp3',
          encrypted: 'true',
          deleteOnTermination: 'true',
        },
      },
    ],
    tagSpecifications: ['instance', 'volume'].map((resourceType) => ({ resourceType, tags })),
  });
}

/** Nodes: private subnets, hardened launch templates; a system group and a tainted ML group. */
function addNodeGroups(
  scope: Construct,
  env: AwsEnvironment,
  cfg: StageConfig,
  cluster: EksCluster,
  privateSubnets: Subnet[],
  tags: Record<string, string>,
): void {
  const a = env.aws;
  const { nodeRole, nodePolicies } = addNodeRole(scope, a);
  const nodeGroup = (
    id: string,
    props: Omit<EksNodeGroupConfig, 'clusterName' | 'nodeRoleArn' | 'subnetIds'>,
  ) =>
    new EksNodeGroup(scope, id, {
      clusterName: cluster.name,
      nodeRoleArn: nodeRole.arn,
      subnetIds: privateSubnets.map((s) => s.id),
      amiType: 'AL2023_x86_64_STANDARD',
      updateConfig: { maxUnavailable: 1 },
      lifecycle: { ignoreChanges: ['scaling_config[0].desired_size'] },
      dependsOn: nodePolicies,
      ...props,
    });

  const systemTemplate = addLaunchTemplate(
    scope,
    'system-launch-template',
    a.systemLaunchTemplate,
    cfg,
    tags,
  );
  nodeGroup('system-nodes', {
    nodeGroupName: a.systemNodeGroup,
    instanceTypes: [cfg.aws.systemInstanceType],
    capacityType: 'ON_DEMAND',
    scalingConfig: {
      minSize: cfg.systemPool.min,
      maxSize: cfg.systemPool.max,
      desiredSize: cfg.systemPool.min,
    },
    launchTemplate: {
      id: systemTemplate.id,
      version: Token.asString(systemTemplate.latestVersion),
    },
  });

  const mlSize = mlMachineSize(podsPerNode(env), servicePod(runtime));
  const mlNodePool = service.mlNodePool;
  const mlTemplate = addLaunchTemplate(scope, 'ml-launch-template', a.mlLaunchTemplate, cfg, tags);
  nodeGroup('ml-nodes', {
    nodeGroupName: a.mlNodeGroup,
    instanceTypes: cfg.aws.families.map((family) => awsInstanceType(family, mlSize)),
    capacityType: cfg.spotNodes ? 'SPOT' : 'ON_DEMAND',
    scalingConfig: {
      minSize: env.nodePool.min,
      maxSize: env.nodePool.max,
      desiredSize: env.nodePool.min,
    },
    labels: { [mlNodePool.key]: mlNodePool.value },
    taint: [{ key: mlNodePool.key, value: mlNodePool.value, effect: 'NO_SCHEDULE' }],
    launchTemplate: { id: mlTemplate.id, version: Token.asString(mlTemplate.latestVersion) },
  });
}

/** Decrypting (reads) and generating data keys (writes) through S3 only, with the bucket's key. */
function viaS3(a: AwsNames, key: KmsKey | undefined, sid: string, actions: string[]) {
  return key
    ? [
        {
          sid,
          effect: 'Allow',
          actions,
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
    : [];
}

/** What the IRSA roles share: the names, the cluster's OIDC provider and issuer, the bucket key. */
interface IrsaContext {
  readonly a: AwsNames;
  readonly oidc: IamOpenidConnectProvider;
  readonly issuer: string;
  readonly key: KmsKey | undefined;
}

/**
 * The service's identity: its Kubernetes service account only; reads its model's path only,
 * creates prediction logs (no read, no list, no delete).
 */
function addServiceIdentity(
  scope: Construct,
  irsa: IrsaContext,
  location: ModelLocation,
  predictionLogs: FolderLocation,
): void {
  const { a, oidc, issuer, key } = irsa;
  const identity = new IamRole(scope, 'service-identity', {
    name: a.roleName,
    description: `Reads ${location.readPrefix}, writes ${predictionLogs.prefix} in ${a.modelBucket}; assumed by ${a.namespace}/${service.serviceAccount}`,
    assumeRolePolicy: irsaTrust(scope, 'service-trust', oidc, issuer, a.irsaSubject).json,
    maxSessionDuration: 3600,
  });
  const read = new DataAwsIamPolicyDocument(scope, 'model-read-policy', {
    statement: [
      {
        sid: 'ReadModelPathOnly',
        effect: 'Allow',
        actions: ['s3:GetObject'],
        resources: [objects(a, location.readPrefix)],
      },
      ...viaS3(a, key, 'DecryptThroughS3Only', ['kms:Decrypt']),
    ],
  });
  new IamRolePolicy(scope, 'model-read', {
    role: identity.id,
    name: 'model-read',
    policy: read.json,
  });
  const write = new DataAwsIamPolicyDocument(scope, 'prediction-log-write-policy', {
    statement: [
      {
        sid: 'CreatePredictionLogsOnly',
        effect: 'Allow',
        actions: ['s3:PutObject'],
        resources: [objects(a, predictionLogs.prefix)],
      },
      ...viaS3(a, key, 'EncryptThroughS3Only', ['kms:GenerateDataKey']),
    ],
  });
  new IamRolePolicy(scope, 'prediction-log-write', {
    role: identity.id,
    name: 'prediction-log-write',
    policy: write.json,
  });
}

/**
 * The drift job's identity: its own Kubernetes service account only; reads and lists the
 * prediction logs, nothing else (not the model).
 */
function addDriftIdentity(scope: Construct, irsa: IrsaContext, predictionLogs: FolderLocation) {
  const { a, oidc, issuer, key } = irsa;
  const driftIdentity = new IamRole(scope, 'drift-identity', {
    name: a.driftRoleName,
    description: `Reads ${predictionLogs.prefix} in ${a.modelBucket}; assumed by ${a.namespace}/${service.driftServiceAccount}`,
    assumeRolePolicy: irsaTrust(scope, 'drift-trust', oidc, issuer, a.driftIrsaSubject).json,
    maxSessionDuration: 3600,
  });
  const driftRead = new DataAwsIamPolicyDocument(scope, 'prediction-log-read-policy', {
    statement: [
      {
        sid: 'ReadPredictionLogsOnly',
        effect: 'Allow',
        actions: ['s3:GetObject'],
        resources: [objects(a, predictionLogs.prefix)],
      },
      {
        sid: 'ListPredictionLogsOnly',
        effect: 'Allow',
        actions: ['s3:ListBucket'],
        resources: [arnIn(a, 's3', `::${a.modelBucket}`)],
        condition: [
          { test: 'StringLike', variable: 's3:prefix', values: [`${predictionLogs.prefix}*`] },
        ],
      },
      ...viaS3(a, key, 'DecryptThroughS3Only', ['kms:Decrypt']),
    ],
  });
  new IamRolePolicy(scope, 'prediction-log-read', {
    role: driftIdentity.id,
    name: 'prediction-log-read',
    policy: driftRead.json,
  });
}

/** The outputs the deploy workflow and the Kubernetes layer read. */
function addOutputs(scope: Construct, env: AwsEnvironment, cluster: EksCluster): void {
  const a = env.aws;
  new TerraformOutput(scope, 'cluster_name', { value: cluster.name });
  new TerraformOutput(scope, 'namespace', { value: a.namespace });
  new TerraformOutput(scope, 'service_role_arn', { value: a.roleArn });
  new TerraformOutput(scope, 'drift_role_arn', { value: a.driftRoleArn });
  new TerraformOutput(scope, 'model_uri', { value: env.modelUri });
  new TerraformOutput(scope, 'prediction_log_uri', { value: env.predictionLogUri });
  new TerraformOutput(scope, 'image', { value: a.image });
}

export class AwsEnvironmentStack extends TerraformStack {
  constructor(scope: Construct, id: string, env: AwsEnvironment) {
    super(scope, id);
    const a = env.aws;
    const cfg = stageConfig[env.stage];
    const tags = resourceLabels(env.stage);
    const { location, logs: predictionLogs } = modelBucketLocations(env, 's3', env.aws.modelBucket);

    addProviderAndBackend(this, a, tags);
    const privateSubnets = addNetwork(this, a, cfg);
    const key = addKey(this, env, cfg);
    addModelBucket(this, a, cfg, key, predictionLogs.prefix);
    const { cluster, oidc, issuer } = addCluster(this, a, cfg, key, privateSubnets);
    addClusterAddons(this, cluster);
    // The Cluster Autoscaler's identity; the autoscaler itself is the upstream chart (README).
    addNodeAutoscaling(this, env, cluster);
    addNodeGroups(this, env, cfg, cluster, privateSubnets, tags);
    const irsa: IrsaContext = { a, oidc, issuer, key };
    addServiceIdentity(this, irsa, location, predictionLogs);
    addDriftIdentity(this, irsa, predictionLogs);
    addDeployAccess(this, env, cluster, location.readPrefix, key);
    addOutputs(this, env, cluster);
  }
}
