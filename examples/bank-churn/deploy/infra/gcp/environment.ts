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
import { gcpMachineType, mlMachineSize, podsPerNode, servicePod, stageConfig } from '../config.js';
import { labelEveryResource, labelFields, resourceLabels } from '../lib/labels.js';
import { requireTerraform } from '../lib/terraform.js';
import { modelLocation, overlap, predictionLogLocation } from '../lib/model-path.js';
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

export class GcpEnvironmentStack extends TerraformStack {
  constructor(scope: Construct, id: string, env: GcpEnvironment) {
    super(scope, id);
    const g = env.gcp;
    const cfg = stageConfig[env.stage];
    const labels = resourceLabels(env.stage);
    const location = modelLocation(env.modelUri);
    if (location.scheme !== 'gs' || location.bucket !== g.modelBucket) {
      throw new Error(
        `${env.id}: modelUri ${env.modelUri} is not in the model bucket ${g.modelBucket}`,
      );
    }
    const logs = predictionLogLocation(env.predictionLogUri);
    if (
      logs.scheme !== 'gs' ||
      logs.bucket !== g.modelBucket ||
      overlap(logs.prefix, location.readPrefix)
    ) {
      throw new Error(
        `${env.id}: predictionLogUri ${env.predictionLogUri} is not beside the model in ${g.modelBucket}`,
      );
    }

    // An override: cdktf would snake_case the label keys of a provider-level map (cost-center -> cost_center).
    new GoogleProvider(this, 'google', { project: g.project, region: g.region }).addOverride(
      'default_labels',
      labels,
    );
    requireTerraform(this);
    new GcsBackend(this, { bucket: g.stateBucket, prefix: g.statePrefix });
    labelEveryResource(this, labels, labelFields.gcp);

    // Network: one subnet with secondary ranges (VPC-native), Private Google Access, Cloud NAT
    // so private nodes reach registries outside Google.
    const network = new ComputeNetwork(this, 'network', {
      name: g.network,
      autoCreateSubnetworks: false,
      routingMode: 'REGIONAL',
    });
    const subnet = new ComputeSubnetwork(this, 'subnet', {
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
    const router = new ComputeRouter(this, 'router', {
      name: g.network,
      network: network.id,
      region: g.region,
    });
    new ComputeRouterNat(this, 'nat', {
      name: g.network,
      router: router.name,
      region: g.region,
      natIpAllocateOption: 'AUTO_ONLY',
      sourceSubnetworkIpRangesToNat: 'ALL_SUBNETWORKS_ALL_IP_RANGES',
      logConfig: { enable: true, filter: 'ERRORS_ONLY' },
    });

    // Customer-managed key for the model bucket and the cluster's Secrets, when configured.
    let key: KmsCryptoKey | undefined;
    const keyGrants: KmsCryptoKeyIamMember[] = [];
    if (cfg.customerManagedKey) {
      const project = new DataGoogleProject(this, 'project', { projectId: g.project });
      const ring = new KmsKeyRing(this, 'key-ring', { name: g.keyRing, location: g.region });
      key = new KmsCryptoKey(this, 'key', {
        name: g.cryptoKey,
        keyRing: ring.id,
        purpose: 'ENCRYPT_DECRYPT',
        rotationPeriod: `${90 * 86400}s`,
        lifecycle: { preventDestroy: cfg.deletionProtection },
      });
      const gcsAgent = new DataGoogleStorageProjectServiceAccount(this, 'storage-agent', {
        project: g.project,
      });
      keyGrants.push(
        new KmsCryptoKeyIamMember(this, 'key-storage-agent', {
          cryptoKeyId: key.id,
          role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
          member: `serviceAccount:${gcsAgent.emailAddress}`,
        }),
        new KmsCryptoKeyIamMember(this, 'key-gke-agent', {
          cryptoKeyId: key.id,
          role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter',
          member: `serviceAccount:service-${project.number}@container-engine-robot.iam.gserviceaccount.com`,
        }),
      );
    }

    // Model bucket: versioned, uniform access, never public.
    const bucket = new StorageBucket(this, 'model-bucket', {
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
          condition: { age: cfg.predictionLogDays, matchesPrefix: [logs.prefix] },
        },
        {
          action: { type: 'Delete' },
          condition: { daysSinceNoncurrentTime: 1, matchesPrefix: [logs.prefix] },
        },
      ],
      forceDestroy: false,
      dependsOn: keyGrants,
    });

    // The service's identity: reads its model's path only, creates prediction logs (no read, list or
    // overwrite), usable from its Kubernetes service account only.
    const identity = new ServiceAccount(this, 'service-identity', {
      project: g.project,
      accountId: g.serviceAccountId,
      displayName: `${service.service} ${env.stage} inference`,
      description: `Reads ${location.readPrefix}, creates ${logs.prefix} in ${g.modelBucket}; bound to ${g.namespace}/${service.serviceAccount}`,
    });
    const serviceMember = `serviceAccount:${g.serviceAccountEmail}`;
    new StorageBucketIamMember(this, 'model-read', {
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
    new StorageBucketIamMember(this, 'prediction-log-write', {
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

    // The stage's deploy identity (bootstrap stack): uploads new model versions under the model's
    // path and checks they are there; it cannot replace or delete one, nor read the prediction logs.
    addModelUploadGrants(
      this,
      bucket,
      g.deployServiceAccountEmail,
      location.readPrefix,
      objectPrefixCondition(g.modelBucket, location.readPrefix),
    );

    // The drift job's identity: reads and lists the prediction logs, nothing else (not the model).
    const driftIdentity = new ServiceAccount(this, 'drift-identity', {
      project: g.project,
      accountId: g.driftServiceAccountId,
      displayName: `${service.service} ${env.stage} drift check`,
      description: `Reads ${logs.prefix} in ${g.modelBucket}; bound to ${g.namespace}/${service.driftServiceAccount}`,
    });
    const driftMember = `serviceAccount:${g.driftServiceAccountEmail}`;
    new StorageBucketIamMember(this, 'prediction-log-read', {
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
    new StorageBucketIamMember(this, 'prediction-log-list', {
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

    // Nodes run as a minimal service account, never the Compute Engine default (Editor).
    const nodeIdentity = new ServiceAccount(this, 'node-identity', {
      project: g.project,
      accountId: g.nodeServiceAccountId,
      displayName: `${g.cluster} GKE nodes`,
    });
    const nodeMember = `serviceAccount:${nodeIdentity.email}`;
    new ProjectIamMember(this, 'node-default-role', {
      project: g.project,
      role: 'roles/container.defaultNodeServiceAccount',
      member: nodeMember,
    });
    new ArtifactRegistryRepositoryIamMember(this, 'node-image-pull', {
      project: g.project,
      location: g.region,
      repository: service.registryRepository,
      role: 'roles/artifactregistry.reader',
      member: nodeMember,
    });

    const cluster = new ContainerCluster(this, 'cluster', {
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

    // The workload pool exists once a cluster with Workload Identity does. The pool is the
    // project's, shared by every stage: the members name the stage's own namespace.
    new ServiceAccountIamMember(this, 'workload-identity', {
      serviceAccountId: identity.name,
      role: 'roles/iam.workloadIdentityUser',
      member: g.workloadIdentityMember,
      dependsOn: [cluster],
    });
    new ServiceAccountIamMember(this, 'drift-workload-identity', {
      serviceAccountId: driftIdentity.name,
      role: 'roles/iam.workloadIdentityUser',
      member: g.driftWorkloadIdentityMember,
      dependsOn: [cluster],
    });

    const nodeConfig = (
      extra: Partial<ContainerNodePoolNodeConfig>,
    ): ContainerNodePoolNodeConfig => ({
      serviceAccount: nodeIdentity.email,
      oauthScopes: ['https://www.googleapis.com/auth/cloud-platform'],
      diskSizeGb: cfg.diskSizeGb,
      diskType: 'pd-balanced',
      workloadMetadataConfig: { mode: 'GKE_METADATA' },
      shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
      metadata: { 'disable-legacy-endpoints': 'true' },
      resourceLabels: labels,
      ...extra,
    });
    const management = { autoRepair: true, autoUpgrade: true };
    const upgradeSettings = { maxSurge: 1, maxUnavailable: 0 };

    new ContainerNodePool(this, 'system-pool', {
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
      nodeConfig: nodeConfig({ machineType: cfg.gcp.systemMachineType }),
    });

    const mlMachine = gcpMachineType(
      cfg.gcp.family,
      mlMachineSize(podsPerNode(env), servicePod(runtime)),
    );
    const mlNodePool = service.mlNodePool;
    new ContainerNodePool(this, 'ml-pool', {
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
      nodeConfig: nodeConfig({
        machineType: mlMachine,
        spot: cfg.spotNodes,
        labels: { [mlNodePool.key]: mlNodePool.value },
        taint: [{ key: mlNodePool.key, value: mlNodePool.value, effect: 'NO_SCHEDULE' }],
      }),
    });

    new TerraformOutput(this, 'cluster_name', { value: cluster.name });
    new TerraformOutput(this, 'namespace', { value: g.namespace });
    new TerraformOutput(this, 'service_account_email', { value: g.serviceAccountEmail });
    new TerraformOutput(this, 'drift_service_account_email', { value: g.driftServiceAccountEmail });
    new TerraformOutput(this, 'model_uri', { value: env.modelUri });
    new TerraformOutput(this, 'prediction_log_uri', { value: env.predictionLogUri });
    new TerraformOutput(this, 'image', { value: g.image });
    new TerraformOutput(this, 'deploy_service_account_email', {
      value: g.deployServiceAccountEmail,
    });
    new TerraformOutput(this, 'github_environment', { value: env.githubEnvironment });
    new TerraformOutput(this, 'dns_endpoint', {
      value: cluster.controlPlaneEndpointsConfig.dnsEndpointConfig.endpoint,
    });
  }
}
