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
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls/index.js';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy/index.js';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning/index.js';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import { Subnet } from '@cdktf/provider-aws/lib/subnet/index.js';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint/index.js';
import { Vpc } from '@cdktf/provider-aws/lib/vpc/index.js';
import { Fn, TerraformOutput, TerraformStack, Token } from 'cdktf';
import type { Construct } from 'constructs';
import { runtime, service } from '../../plan.js';
import { awsInstanceType, mlMachineSize, podsPerNode, servicePod, stageConfig } from '../config.js';
import { labelEveryResource, labelFields, resourceLabels } from '../lib/labels.js';
import { modelLocation, overlap, predictionLogLocation } from '../lib/model-path.js';
import { requireTerraform } from '../lib/terraform.js';
import { s3Backend } from './backend.js';
import { addDeployAccess } from './deploy-access.js';
import { addNodeAutoscaling } from './node-autoscaling.js';
import { type AwsEnvironment, hasPublicEndpoint } from './environments.js';
import { irsaTrust, serviceTrust, tlsOnlyBucketPolicy } from './policies.js';

export class AwsEnvironmentStack extends TerraformStack {
  constructor(scope: Construct, id: string, env: AwsEnvironment) {
    super(scope, id);
    const a = env.aws;
    const cfg = stageConfig[env.stage];
    const tags = resourceLabels(env.stage);
    const location = modelLocation(env.modelUri);
    if (location.scheme !== 's3' || location.bucket !== a.modelBucket) {
      throw new Error(
        `${env.id}: modelUri ${env.modelUri} is not in the model bucket ${a.modelBucket}`,
      );
    }
    const predictionLogs = predictionLogLocation(env.predictionLogUri);
    if (
      predictionLogs.scheme !== 's3' ||
      predictionLogs.bucket !== a.modelBucket ||
      overlap(predictionLogs.prefix, location.readPrefix)
    ) {
      throw new Error(
        `${env.id}: predictionLogUri ${env.predictionLogUri} is not beside the model in ${a.modelBucket}`,
      );
    }
    const arn = (service_: string, resource: string): string =>
      `arn:${a.partition}:${service_}:${resource}`;
    const managedPolicy = (name: string): string => arn('iam', `:aws:policy/${name}`);
    const objects = (prefix: string): string => arn('s3', `::${a.modelBucket}/${prefix}*`);

    new AwsProvider(this, 'aws', {
      region: a.region,
      allowedAccountIds: [a.accountId],
      defaultTags: [{ tags }],
    });
    requireTerraform(this);
    s3Backend(this, { bucket: a.stateBucket, key: a.stateKey, region: a.region });
    labelEveryResource(this, tags, labelFields.aws);

    // Network: three zones, private subnets for nodes, public subnets for NAT and load balancers.
    const zones = new DataAwsAvailabilityZones(this, 'zones', {
      state: 'available',
      filter: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }],
    });
    const vpc = new Vpc(this, 'vpc', {
      cidrBlock: cfg.aws.vpcCidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: a.vpc },
    });
    // The default security group of the VPC allows nothing.
    new DefaultSecurityGroup(this, 'default-security-group', { vpcId: vpc.id });
    const internet = new InternetGateway(this, 'internet-gateway', {
      vpcId: vpc.id,
      tags: { Name: a.vpc },
    });
    const publicRoutes = new RouteTable(this, 'public-routes', {
      vpcId: vpc.id,
      route: [{ cidrBlock: '0.0.0.0/0', gatewayId: internet.id }],
      tags: { Name: `${a.vpc}-public` },
    });
    const zone = (i: number): string => Token.asString(Fn.element(zones.names, i));
    const publicSubnets = cfg.aws.publicSubnetCidrs.map((cidrBlock, i) => {
      const subnet = new Subnet(this, `public-subnet-${i}`, {
        vpcId: vpc.id,
        cidrBlock,
        availabilityZone: zone(i),
        mapPublicIpOnLaunch: false,
        tags: { Name: `${a.vpc}-public-${i}`, 'kubernetes.io/role/elb': '1' },
      });
      new RouteTableAssociation(this, `public-subnet-${i}-routes`, {
        subnetId: subnet.id,
        routeTableId: publicRoutes.id,
      });
      return subnet;
    });
    const natGateways = publicSubnets.slice(0, cfg.aws.natGateways).map((subnet, i) => {
      const ip = new Eip(this, `nat-ip-${i}`, {
        domain: 'vpc',
        tags: { Name: `${a.vpc}-nat-${i}` },
      });
      return new NatGateway(this, `nat-${i}`, {
        allocationId: ip.allocationId,
        subnetId: subnet.id,
        tags: { Name: `${a.vpc}-nat-${i}` },
        dependsOn: [internet],
      });
    });
    const privateRoutes: RouteTable[] = [];
    const privateSubnets = cfg.aws.privateSubnetCidrs.map((cidrBlock, i) => {
      const nat = natGateways[Math.min(i, natGateways.length - 1)]!;
      const routes = new RouteTable(this, `private-routes-${i}`, {
        vpcId: vpc.id,
        route: [{ cidrBlock: '0.0.0.0/0', natGatewayId: nat.id }],
        tags: { Name: `${a.vpc}-private-${i}` },
      });
      privateRoutes.push(routes);
      const subnet = new Subnet(this, `private-subnet-${i}`, {
        vpcId: vpc.id,
        cidrBlock,
        availabilityZone: zone(i),
        tags: {
          Name: `${a.vpc}-private-${i}`,
          'kubernetes.io/role/internal-elb': '1',
          [`kubernetes.io/cluster/${a.cluster}`]: 'shared',
        },
      });
      new RouteTableAssociation(this, `private-subnet-${i}-routes`, {
        subnetId: subnet.id,
        routeTableId: routes.id,
      });
      return subnet;
    });
    // The model download stays on the AWS network (and off the NAT bill).
    new VpcEndpoint(this, 's3-endpoint', {
      vpcId: vpc.id,
      serviceName: `com.amazonaws.${a.region}.s3`,
      vpcEndpointType: 'Gateway',
      routeTableIds: privateRoutes.map((r) => r.id),
    });

    // Customer-managed key for the model bucket and the cluster's Secrets, when configured.
    let key: KmsKey | undefined;
    if (cfg.customerManagedKey) {
      key = new KmsKey(this, 'key', {
        description: `${service.service} ${env.stage}: model bucket and Kubernetes Secrets`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        lifecycle: { preventDestroy: cfg.deletionProtection },
      });
      new KmsAlias(this, 'key-alias', { name: a.keyAlias, targetKeyId: key.keyId });
    }

    // Model bucket: versioned, SSE-KMS, never public, TLS only.
    const bucket = new S3Bucket(this, 'model-bucket', {
      bucket: a.modelBucket,
      forceDestroy: false,
    });
    new S3BucketVersioningA(this, 'model-bucket-versioning', {
      bucket: bucket.id,
      versioningConfiguration: { status: 'Enabled' },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, 'model-bucket-encryption', {
      bucket: bucket.id,
      rule: [
        {
          // Without a customer-managed key, S3 uses the account's AWS-managed aws/s3 key.
          applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: key?.arn },
          bucketKeyEnabled: true,
        },
      ],
    });
    const publicAccess = new S3BucketPublicAccessBlock(this, 'model-bucket-public-access', {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, 'model-bucket-ownership', {
      bucket: bucket.id,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    });
    new S3BucketPolicy(this, 'model-bucket-policy', {
      bucket: bucket.id,
      policy: tlsOnlyBucketPolicy(this, 'model-bucket-tls-only', bucket.arn).json,
      dependsOn: [publicAccess],
    });
    new S3BucketLifecycleConfiguration(this, 'model-bucket-lifecycle', {
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
          filter: [{ prefix: predictionLogs.prefix }],
          expiration: [{ days: cfg.predictionLogDays }],
          noncurrentVersionExpiration: [{ noncurrentDays: 1 }],
        },
      ],
    });

    // EKS control plane: private subnets, API authentication, audit logs, Secrets envelope-encrypted.
    const clusterRole = new IamRole(this, 'cluster-role', {
      name: a.clusterRole,
      assumeRolePolicy: serviceTrust(this, 'cluster-trust', 'eks.amazonaws.com').json,
    });
    const clusterPolicy = new IamRolePolicyAttachment(this, 'cluster-policy', {
      role: clusterRole.name,
      policyArn: managedPolicy('AmazonEKSClusterPolicy'),
    });
    if (key) {
      new IamRolePolicy(this, 'cluster-key', {
        role: clusterRole.id,
        name: 'secrets-encryption',
        policy: new DataAwsIamPolicyDocument(this, 'cluster-key-policy', {
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
    const logs = new CloudwatchLogGroup(this, 'cluster-logs', {
      name: a.clusterLogGroup,
      retentionInDays: cfg.logRetentionDays,
    });
    // Public (IAM-authenticated, limited to the answer's CIDRs) so GitHub-hosted runners deploy, or
    // private: then deploy jobs run on self-hosted runners in the VPC (plan `deploy.runsOn`).
    const publicEndpoint = hasPublicEndpoint(a);
    const cluster = new EksCluster(this, 'cluster', {
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
    const oidc = new IamOpenidConnectProvider(this, 'oidc-provider', {
      url: issuer,
      clientIdList: ['sts.amazonaws.com'],
    });
    // The VPC CNI enforces the service's NetworkPolicy.
    new EksAddon(this, 'vpc-cni', {
      clusterName: cluster.name,
      addonName: 'vpc-cni',
      configurationValues: JSON.stringify({ enableNetworkPolicy: 'true' }),
      resolveConflictsOnCreate: 'OVERWRITE',
      resolveConflictsOnUpdate: 'OVERWRITE',
    });

    // The HPA's metric source: the Kubernetes Metrics Server, as EKS's community add-on.
    new EksAddon(this, 'metrics-server', {
      clusterName: cluster.name,
      addonName: 'metrics-server',
      resolveConflictsOnCreate: 'OVERWRITE',
      resolveConflictsOnUpdate: 'OVERWRITE',
    });

    // The Cluster Autoscaler's identity; the autoscaler itself is the upstream chart (README).
    addNodeAutoscaling(this, env, cluster);

    // Nodes: private subnets, IMDSv2 with one hop (pods cannot take the node's role), encrypted disks.
    const nodeRole = new IamRole(this, 'node-role', {
      name: a.nodeRole,
      assumeRolePolicy: serviceTrust(this, 'node-trust', 'ec2.amazonaws.com').json,
    });
    const nodePolicies = [
      'AmazonEKSWorkerNodePolicy',
      'AmazonEKS_CNI_Policy',
      'AmazonEC2ContainerRegistryPullOnly',
    ].map(
      (name) =>
        new IamRolePolicyAttachment(this, `node-${name}`, {
          role: nodeRole.name,
          policyArn: managedPolicy(name),
        }),
    );
    const launchTemplate = (id: string, name: string): LaunchTemplate =>
      new LaunchTemplate(this, id, {
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
    const nodeGroup = (
      id: string,
      props: Omit<EksNodeGroupConfig, 'clusterName' | 'nodeRoleArn' | 'subnetIds'>,
    ) =>
      new EksNodeGroup(this, id, {
        clusterName: cluster.name,
        nodeRoleArn: nodeRole.arn,
        subnetIds: privateSubnets.map((s) => s.id),
        amiType: 'AL2023_x86_64_STANDARD',
        updateConfig: { maxUnavailable: 1 },
        lifecycle: { ignoreChanges: ['scaling_config[0].desired_size'] },
        dependsOn: nodePolicies,
        ...props,
      });

    const systemTemplate = launchTemplate('system-launch-template', a.systemLaunchTemplate);
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
    const mlTemplate = launchTemplate('ml-launch-template', a.mlLaunchTemplate);
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

    // Decrypting (reads) and generating data keys (writes) through S3 only, with the bucket's key.
    const viaS3 = (sid: string, actions: string[]) =>
      key
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

    // The service's identity: its Kubernetes service account only; reads its model's path only,
    // creates prediction logs (no read, no list, no delete).
    const identity = new IamRole(this, 'service-identity', {
      name: a.roleName,
      description: `Reads ${location.readPrefix}, writes ${predictionLogs.prefix} in ${a.modelBucket}; assumed by ${a.namespace}/${service.serviceAccount}`,
      assumeRolePolicy: irsaTrust(this, 'service-trust', oidc, issuer, a.irsaSubject).json,
      maxSessionDuration: 3600,
    });
    const read = new DataAwsIamPolicyDocument(this, 'model-read-policy', {
      statement: [
        {
          sid: 'ReadModelPathOnly',
          effect: 'Allow',
          actions: ['s3:GetObject'],
          resources: [objects(location.readPrefix)],
        },
        ...viaS3('DecryptThroughS3Only', ['kms:Decrypt']),
      ],
    });
    new IamRolePolicy(this, 'model-read', {
      role: identity.id,
      name: 'model-read',
      policy: read.json,
    });
    const write = new DataAwsIamPolicyDocument(this, 'prediction-log-write-policy', {
      statement: [
        {
          sid: 'CreatePredictionLogsOnly',
          effect: 'Allow',
          actions: ['s3:PutObject'],
          resources: [objects(predictionLogs.prefix)],
        },
        ...viaS3('EncryptThroughS3Only', ['kms:GenerateDataKey']),
      ],
    });
    new IamRolePolicy(this, 'prediction-log-write', {
      role: identity.id,
      name: 'prediction-log-write',
      policy: write.json,
    });

    // The drift job's identity: its own Kubernetes service account only; reads and lists the
    // prediction logs, nothing else (not the model).
    const driftIdentity = new IamRole(this, 'drift-identity', {
      name: a.driftRoleName,
      description: `Reads ${predictionLogs.prefix} in ${a.modelBucket}; assumed by ${a.namespace}/${service.driftServiceAccount}`,
      assumeRolePolicy: irsaTrust(this, 'drift-trust', oidc, issuer, a.driftIrsaSubject).json,
      maxSessionDuration: 3600,
    });
    const driftRead = new DataAwsIamPolicyDocument(this, 'prediction-log-read-policy', {
      statement: [
        {
          sid: 'ReadPredictionLogsOnly',
          effect: 'Allow',
          actions: ['s3:GetObject'],
          resources: [objects(predictionLogs.prefix)],
        },
        {
          sid: 'ListPredictionLogsOnly',
          effect: 'Allow',
          actions: ['s3:ListBucket'],
          resources: [arn('s3', `::${a.modelBucket}`)],
          condition: [
            { test: 'StringLike', variable: 's3:prefix', values: [`${predictionLogs.prefix}*`] },
          ],
        },
        ...viaS3('DecryptThroughS3Only', ['kms:Decrypt']),
      ],
    });
    new IamRolePolicy(this, 'prediction-log-read', {
      role: driftIdentity.id,
      name: 'prediction-log-read',
      policy: driftRead.json,
    });

    addDeployAccess(this, env, cluster, location.readPrefix, key);

    new TerraformOutput(this, 'cluster_name', { value: cluster.name });
    new TerraformOutput(this, 'namespace', { value: a.namespace });
    new TerraformOutput(this, 'service_role_arn', { value: a.roleArn });
    new TerraformOutput(this, 'drift_role_arn', { value: a.driftRoleArn });
    new TerraformOutput(this, 'model_uri', { value: env.modelUri });
    new TerraformOutput(this, 'prediction_log_uri', { value: env.predictionLogUri });
    new TerraformOutput(this, 'image', { value: a.image });
  }
}
