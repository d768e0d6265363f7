/**
 * One GCP environment: network, GKE cluster and node pools, model bucket, the service identity
 * (reads the model, creates prediction logs) and the drift job's identity (reads the prediction
 * logs), each bound to its Kubernetes service account in the stage's namespace through Workload
 * Identity. Every name comes from deploy/plan.ts.
 */
import { ArtifactRegistryRepositoryIamMember } from '@cdktf/provider-google/lib/artifact-registry-repository-iam-member/index.js';
import { ComputeNetwork } from '@cdktf/provider-google/lib/compute-network/index.js';
import { ComputeRouterNat } from '@cdktf/provider-google/lib/compute-router-nat/index.js';
import { ComputeRouter } from '@cdktf/provider-google/lib/compute-router/index.js';
import { ComputeSubnetwork } from '@cdktf/provider-google/lib/compute-subnetwork/index.js';
import { ContainerCluster } from '@cdktf/provider-google/lib/container-cluster/index.js';
import {
  ContainerNodePool,
  type ContainerNodePoolNodeConfig,
} from '@cdktf/provider-google/lib/container-node-pool/index.js';
import { DataGoogleProject } from '@cdktf/provider-google/lib/data-google-project/index.js';
import { DataGoogleStorageProjectServiceAccount } from '@cdktf/provider-google/lib/data-google-storage-project-service-account/index.js';
import { KmsCryptoKeyIamMember } from '@cdktf/provider-google/lib/kms-crypto-key-iam-member/index.js';
import { KmsCryptoKey } from '@cdktf/provider-google/lib/kms-crypto-key/index.js';
import { KmsKeyRing } from '@cdktf/provider-google/lib/kms-key-ring/index.js';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member/index.js';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider/index.js';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member/index.js';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account/index.js';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member/index.js';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket/index.js';
import { GcsBackend, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { runtime, service } from '../../plan.js';
import {
  gcpMachineType,
  mlMachineSize,
  podsPerNode,
  servicePod,
  type StageConfig,
  stageConfig,
} from '../config.js';
import { labelEveryResource, labelFields, resourceLabels } from '../lib/labels.js';
import { requireTerraform } from '../lib/terraform.js';
import {
  type FolderLocation,
  modelBucketLocations,
  type ModelLocation,
} from '../lib/model-path.js';
import { type GcpEnvironment, workloadPool } from './environments.js';

/** Secondary ranges of the node subnet, used by the cluster for pods and services. */
export const secondaryRanges = { pods: 'pods', services: 'services' } as const;

/** IAM condition: objects under `prefix` of `bucket` only. */
export const objectPrefixCondition = (bucket: string, prefix: string): string =>
  `resource.name.startsWith("projects/_/buckets/${bucket}/objects/${prefix}")`;

/** IAM condition: listing the bucket with a prefix under `prefix` only (GCS checks it on list). */
export const listPrefixCondition = (prefix: string): string =>
  `resource.type == "storage.googleapis.com/Bucket" && ` +
  `api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("${prefix}")`;

/** The deploy identity's grants on the model bucket: create and get under the model's path only. */
function addModelUploadGrants(
  scope: Construct,
  bucket: StorageBucket,
  email: string,
  prefix: string,
  condition: string,
): void {
  for (const [id, role] of [
    ['model-upload', 'roles/storage.objectCreator'],
    ['model-upload-check', 'roles/storage.objectViewer'],
  ] as const) {
    new StorageBucketIamMember(scope, id, {
      bucket: bucket.name,
      role,
      member: `serviceAccount:${email}`,
      condition: {
        title: `${id}-model-path-only`,
        description: `Objects under ${prefix} only`,
        expression: condition,
      },
    });
  }
}

/** The names of one GCP environment (deploy/plan.ts). */
type GcpNames = GcpEnvironment['gcp'];

/** The provider (project, region, default labels), the Terraform version, the GCS backend, labels. */
function addProviderAndBackend(
  scope: TerraformStack,
  g: GcpNames,
  labels: Record<string, string>,
): void {
  // An override: cdktf would snake_case the label keys of a provider-level map (cost-center -> cost_center).
  new GoogleProvider(scope, 'google', { project: g.project, region: g.region }).addOverride(
    'default_labels',
    labels,
  );
  requireTerraform(scope);
  new GcsBackend(scope, { bucket: g.stateBucket, prefix: g.statePrefix });
  labelEveryResource(scope, labels, labelFields.gcp);
}

/**
 * Network: one subnet with secondary ranges (VPC-native), Private Google Access, Cloud NAT
 * so private nodes reach registries outside Google.
 */
function addNetwork(
  scope: Construct,
  g: GcpNames,
  cfg: StageConfig,
): { network: ComputeNetwork; subnet: ComputeSubnetwork } {
  const network = new ComputeNetwork(scope, 'network', {
    name: g.network,
    autoCreateSubnetworks: false,
    routingMode: 'REGIONAL',
  });
  const subnet = new ComputeSubnetwork(scope, 'subnet', {
    name: g.network,
    network: network.id,
    region: g.region,
    ipCidrRange: cfg.gcp.subnetCidr,
    privateIpGoogleAccess: true,
    secondaryIpRange: [
      { rangeName: secondaryRanges.pods, ipCidrRange: cfg.gcp.podsCidr },
      { rangeName: secondaryRanges.services, ipCidrRange: cfg.gcp.servicesCidr },
    ],
  });
  const router = new ComputeRouter(scope, 'router', {
    name: g.network,
    network: network.id,
    region: g.region,
  });
  new ComputeRouterNat(scope, 'nat', {
    name: g.network,
    router: router.name,
    region: g.region,
    natIpAllocateOption: 'AUTO_ONLY',
    sourceSubnetworkIpRangesToNat: 'ALL_SUBNETWORKS_ALL_IP_RANGES',
    logConfig: { enable: true, filter: 'ERRORS_ONLY' },
  });
  return { network, subnet };
}

/** The customer-managed key, when configured, and the grants its users must wait for. */
interface CustomerKey {
  readonly key: KmsCryptoKey | undefined;
  /** The Cloud Storage and GKE service agents' use of the key (empty without a key). */
  readonly keyGrants: KmsCryptoKeyIamMember[];
}

/** Customer-managed key for the model bucket and the cluster's Secrets, when configured. */
function addKey(scope: Construct, g: GcpNames, cfg: StageConfig): CustomerKey {
  const keyGrants: KmsCryptoKeyIamMember[] = [];
  if (!cfg.customerManagedKey) return { key: undefined, keyGrants };
  const project = new DataGoogleProject(scope, 'project', { projectId: g.project });
  const ring = new KmsKeyRing(scope, 'key-ring', { name: g.keyRing, location: g.region });
  const key = new KmsCryptoKey(scope, 'key', {
    name: g.cryptoKey,
    keyRing: ring.id,
    purpose: 'ENCRYPT_DECRYPT',
    rotationPeriod: `${90 * 86400}s`,
    lifecycle: { preventDestroy: cfg.deletionProtection },
  });
  const gcsAgent = new DataGoogleStorageProjectServiceAccount(scope, 'storage-agent', {
    project: g.project,
  });
  keyGrants.push(
    new KmsCryptoKeyIamMember(scope, 'key-storage-agent', {
      cryptoKeyId: key.id,
      role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
      member: `serviceAccount:${gcsAgent.emailAddress}`,
    }),
    new KmsCryptoKeyIamMember(scope, 'key-gke-agent', {
      cryptoKeyId: key.id,
      role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
      member: `serviceAccount:service-${project.number}@container-engine-robot.iam.gserviceaccount.com`,
    }),
  );
  return { key, keyGrants };
}

/** Model bucket: versioned, uniform access, never public. */
function addModelBucket(
  scope: Construct,
  g: GcpNames,
  cfg: StageConfig,
  { key, keyGrants }: CustomerKey,
  logsPrefix: string,
): StorageBucket {
  return new StorageBucket(scope, 'model-bucket', {
    name: g.modelBucket,
    location: g.region,
    storageClass: 'STANDARD',
    uniformBucketLevelAccess: true,
    publicAccessPrevention: 'enforced',
    versioning: { enabled: true },
    encryption: key ? { defaultKmsKeyName: key.id } : undefined,
    lifecycleRule: [
      {
        action: { type: 'Delete' },
        condition: { daysSinceNoncurrentTime: cfg.noncurrentVersionDays },
      },
      // Prediction logs live predictionLogDays in all: the live object is deleted at that age,
      // and the noncurrent version that deletion leaves behind goes a day later.
      {
        action: { type: 'Delete' },
        condition: { age: cfg.predictionLogDays, matchesPrefix: [logsPrefix] },
      },
      {
        action: { type: 'Delete' },
        condition: { daysSinceNoncurrentTime: 1, matchesPrefix: [logsPrefix] },
      },
    ],
    forceDestroy: false,
    dependsOn: keyGrants,
  });
}

/**
 * The service's identity: reads its model's path only, creates prediction logs (no read, list or
 * overwrite), usable from its Kubernetes service account only.
 */
function addServiceIdentity(
  scope: Construct,
  env: GcpEnvironment,
  bucket: StorageBucket,
  location: ModelLocation,
  logs: FolderLocation,
): ServiceAccount {
  const g = env.gcp;
  const identity = new ServiceAccount(scope, 'service-identity', {
    project: g.project,
    accountId: g.serviceAccountId,
    displayName: `${service.service} ${env.stage} inference`,
    description: `Reads ${location.readPrefix}, creates ${logs.prefix} in ${g.modelBucket}; bound to ${g.namespace}/${service.serviceAccount}`,
  });
  const serviceMember = `serviceAccount:${g.serviceAccountEmail}`;
  new StorageBucketIamMember(scope, 'model-read', {
    bucket: bucket.name,
    role: 'roles/storage.objectViewer',
    member: serviceMember,
    condition: {
      title: 'model-path-only',
      description: `Objects under ${location.readPrefix} only`,
      expression: objectPrefixCondition(g.modelBucket, location.readPrefix),
    },
    dependsOn: [identity],
  });
  new StorageBucketIamMember(scope, 'prediction-log-write', {
    bucket: bucket.name,
    role: 'roles/storage.objectCreator',
    member: serviceMember,
    condition: {
      title: 'prediction-logs-create-only',
      description: `New objects under ${logs.prefix} only`,
      expression: objectPrefixCondition(g.modelBucket, logs.prefix),
    },
    dependsOn: [identity],
  });
  return identity;
}

/** The drift job's identity: reads and lists the prediction logs, nothing else (not the model). */
function addDriftIdentity(
  scope: Construct,
  env: GcpEnvironment,
  bucket: StorageBucket,
  logs: FolderLocation,
): ServiceAccount {
  const g = env.gcp;
  const driftIdentity = new ServiceAccount(scope, 'drift-identity', {
    project: g.project,
    accountId: g.driftServiceAccountId,
    displayName: `${service.service} ${env.stage} drift check`,
    description: `Reads ${logs.prefix} in ${g.modelBucket}; bound to ${g.namespace}/${service.driftServiceAccount}`,
  });
  const driftMember = `serviceAccount:${g.driftServiceAccountEmail}`;
  new StorageBucketIamMember(scope, 'prediction-log-read', {
    bucket: bucket.name,
    role: 'roles/storage.objectViewer',
    member: driftMember,
    condition: {
      title: 'prediction-logs-read-only',
      description: `Objects under ${logs.prefix} only`,
      expression: objectPrefixCondition(g.modelBucket, logs.prefix),
    },
    dependsOn: [driftIdentity],
  });
  new StorageBucketIamMember(scope, 'prediction-log-list', {
    bucket: bucket.name,
    role: 'roles/storage.objectViewer',
    member: driftMember,
    condition: {
      title: 'prediction-logs-list-only',
      description: `Lists under ${logs.prefix} only`,
      expression: listPrefixCondition(logs.prefix),
    },
    dependsOn: [driftIdentity],
  });
  return driftIdentity;
}

/** Nodes run as a minimal service account, never the Compute Engine default (Editor). */
function addNodeIdentity(scope: Construct, g: GcpNames): ServiceAccount {
  const nodeIdentity = new ServiceAccount(scope, 'node-identity', {
    project: g.project,
    accountId: g.nodeServiceAccountId,
    displayName: `${g.cluster} GKE nodes`,
  });
  const nodeMember = `serviceAccount:${nodeIdentity.email}`;
  new ProjectIamMember(scope, 'node-default-role', {
    project: g.project,
    role: 'roles/container.defaultNodeServiceAccount',
    member: nodeMember,
  });
  new ArtifactRegistryRepositoryIamMember(scope, 'node-image-pull', {
    project: g.project,
    location: g.region,
    repository: service.registryRepository,
    role: 'roles/artifactregistry.reader',
    member: nodeMember,
  });
  return nodeIdentity;
}

/** The GKE cluster: VPC-native, private nodes, Workload Identity, Dataplane V2, Secrets encrypted. */
function addCluster(
  scope: Construct,
  g: GcpNames,
  cfg: StageConfig,
  { network, subnet }: { network: ComputeNetwork; subnet: ComputeSubnetwork },
  { key, keyGrants }: CustomerKey,
): ContainerCluster {
  return new ContainerCluster(scope, 'cluster', {
    name: g.cluster,
    location: g.region,
    network: network.id,
    subnetwork: subnet.id,
    removeDefaultNodePool: true,
    initialNodeCount: 1,
    deletionProtection: cfg.deletionProtection,
    networkingMode: 'VPC_NATIVE',
    ipAllocationPolicy: {
      clusterSecondaryRangeName: secondaryRanges.pods,
      servicesSecondaryRangeName: secondaryRanges.services,
    },
    privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: false },
    masterAuthorizedNetworksConfig: {
      gcpPublicCidrsAccessEnabled: false,
      cidrBlocks: cfg.controlPlaneCidrs.map((cidrBlock) => ({
        cidrBlock,
        displayName: cidrBlock,
      })),
    },
    controlPlaneEndpointsConfig: { dnsEndpointConfig: { allowExternalTraffic: true } },
    workloadIdentityConfig: { workloadPool: workloadPool(g.workloadIdentityMember) },
    releaseChannel: { channel: cfg.gcp.releaseChannel },
    enableShieldedNodes: true,
    // Dataplane V2 enforces the service's NetworkPolicy.
    datapathProvider: 'ADVANCED_DATAPATH',
    databaseEncryption: key ? { state: 'ENCRYPTED', keyName: key.id } : { state: 'DECRYPTED' },
    dependsOn: keyGrants,
  });
}

/**
 * Binds the service's and the drift job's identities to their Kubernetes service accounts. The
 * workload pool exists once a cluster with Workload Identity does. The pool is the project's,
 * shared by every stage: the members name the stage's own namespace.
 */
function addWorkloadIdentityBindings(
  scope: Construct,
  g: GcpNames,
  cluster: ContainerCluster,
  identity: ServiceAccount,
  driftIdentity: ServiceAccount,
): void {
  new ServiceAccountIamMember(scope, 'workload-identity', {
    serviceAccountId: identity.name,
    role: 'roles/iam.workloadIdentityUser',
    member: g.workloadIdentityMember,
    dependsOn: [cluster],
  });
  new ServiceAccountIamMember(scope, 'drift-workload-identity', {
    serviceAccountId: driftIdentity.name,
    role: 'roles/iam.workloadIdentityUser',
    member: g.driftWorkloadIdentityMember,
    dependsOn: [cluster],
  });
}

/** A node pool's node settings: the node identity, shielded, GKE metadata server, labelled disks. */
function nodeConfig(
  cfg: StageConfig,
  nodeIdentity: ServiceAccount,
  labels: Record<string, string>,
  extra: Partial<ContainerNodePoolNodeConfig>,
): ContainerNodePoolNodeConfig {
  return {
    serviceAccount: nodeIdentity.email,
    oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
    diskSizeGb: cfg.diskSizeGb,
    diskType: 'pd-balanced',
    workloadMetadataConfig: { mode: 'GKE_METADATA' },
    shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
    metadata: { 'disable-legacy-endpoints': 'true' },
    resourceLabels: labels,
    ...extra,
  };
}

/** The node pools: an untainted system pool and the tainted ML pool, sized to the service's pods. */
function addNodePools(
  scope: Construct,
  env: GcpEnvironment,
  cfg: StageConfig,
  cluster: ContainerCluster,
  nodeIdentity: ServiceAccount,
  labels: Record<string, string>,
): void {
  const g = env.gcp;
  const management = { autoRepair: true, autoUpgrade: true };
  const upgradeSettings = { maxSurge: 1, maxUnavailable: 0 };

  new ContainerNodePool(scope, 'system-pool', {
    name: g.systemPool,
    cluster: cluster.id,
    location: g.region,
    initialNodeCount: 1,
    autoscaling: {
      totalMinNodeCount: cfg.systemPool.min,
      totalMaxNodeCount: cfg.systemPool.max,
      locationPolicy: 'BALANCED',
    },
    management,
    upgradeSettings,
    nodeConfig: nodeConfig(cfg, nodeIdentity, labels, { machineType: cfg.gcp.systemMachineType }),
  });

  const mlMachine = gcpMachineType(
    cfg.gcp.family,
    mlMachineSize(podsPerNode(env), servicePod(runtime)),
  );
  const mlNodePool = service.mlNodePool;
  new ContainerNodePool(scope, 'ml-pool', {
    name: g.mlPool,
    cluster: cluster.id,
    location: g.region,
    initialNodeCount: 1,
    // Totals across the region's zones, as on EKS.
    autoscaling: {
      totalMinNodeCount: env.nodePool.min,
      totalMaxNodeCount: env.nodePool.max,
      locationPolicy: cfg.spotNodes ? 'ANY' : 'BALANCED',
    },
    management,
    upgradeSettings,
    nodeConfig: nodeConfig(cfg, nodeIdentity, labels, {
      machineType: mlMachine,
      spot: cfg.spotNodes,
      labels: { [mlNodePool.key]: mlNodePool.value },
      taint: [{ key: mlNodePool.key, value: mlNodePool.value, effect: 'NO_SCHEDULE' }],
    }),
  });
}

/** The outputs the deploy workflow and the Kubernetes layer read. */
function addOutputs(scope: Construct, env: GcpEnvironment, cluster: ContainerCluster): void {
  const g = env.gcp;
  new TerraformOutput(scope, 'cluster_name', { value: cluster.name });
  new TerraformOutput(scope, 'namespace', { value: g.namespace });
  new TerraformOutput(scope, 'service_account_email', { value: g.serviceAccountEmail });
  new TerraformOutput(scope, 'drift_service_account_email', { value: g.driftServiceAccountEmail });
  new TerraformOutput(scope, 'model_uri', { value: env.modelUri });
  new TerraformOutput(scope, 'prediction_log_uri', { value: env.predictionLogUri });
  new TerraformOutput(scope, 'image', { value: g.image });
  new TerraformOutput(scope, 'deploy_service_account_email', {
    value: g.deployServiceAccountEmail,
  });
  new TerraformOutput(scope, 'github_environment', { value: env.githubEnvironment });
  new TerraformOutput(scope, 'dns_endpoint', {
    value: cluster.controlPlaneEndpointsConfig.dnsEndpointConfig.endpoint,
  });
}

export class GcpEnvironmentStack extends TerraformStack {
  constructor(scope: Construct, id: string, env: GcpEnvironment) {
    super(scope, id);
    const g = env.gcp;
    const cfg = stageConfig[env.stage];
    const labels = resourceLabels(env.stage);
    const { location, logs } = modelBucketLocations(env, 'gs', env.gcp.modelBucket);

    addProviderAndBackend(this, g, labels);
    const net = addNetwork(this, g, cfg);
    const customerKey = addKey(this, g, cfg);
    const bucket = addModelBucket(this, g, cfg, customerKey, logs.prefix);
    const identity = addServiceIdentity(this, env, bucket, location, logs);

    // The stage's deploy identity (bootstrap stack): uploads new model versions under the model's
    // path and checks they are there; it cannot replace or delete one, nor read the prediction logs.
    addModelUploadGrants(
      this,
      bucket,
      g.deployServiceAccountEmail,
      location.readPrefix,
      objectPrefixCondition(g.modelBucket, location.readPrefix),
    );

    const driftIdentity = addDriftIdentity(this, env, bucket, logs);
    const nodeIdentity = addNodeIdentity(this, g);
    const cluster = addCluster(this, g, cfg, net, customerKey);
    addWorkloadIdentityBindings(this, g, cluster, identity, driftIdentity);
    addNodePools(this, env, cfg, cluster, nodeIdentity, labels);
    addOutputs(this, env, cluster);
  }
}
