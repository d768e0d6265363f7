/**
 * The GCP stacks: every resource of issue "cloud stacks" present with its security-relevant
 * properties, checked on the synthesized Terraform JSON with cdktf's matchers.
 */
import { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository/index.js';
import { ComputeNetwork } from '@cdktf/provider-google/lib/compute-network/index.js';
import { ComputeRouterNat } from '@cdktf/provider-google/lib/compute-router-nat/index.js';
import { ComputeSubnetwork } from '@cdktf/provider-google/lib/compute-subnetwork/index.js';
import { ContainerCluster } from '@cdktf/provider-google/lib/container-cluster/index.js';
import { ContainerNodePool } from '@cdktf/provider-google/lib/container-node-pool/index.js';
import { KmsCryptoKey } from '@cdktf/provider-google/lib/kms-crypto-key/index.js';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider/index.js';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member/index.js';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account/index.js';
import { StorageBucketIamMember } from '@cdktf/provider-google/lib/storage-bucket-iam-member/index.js';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket/index.js';
import { describe, it } from 'vitest';
import { service } from '../../plan.js';
import { stageConfig } from '../config.js';
import { gcpApis } from '../gcp/bootstrap.js';
import { gcpEnvironments, workloadPool } from '../gcp/environments.js';
import { labelFields, resourceLabels } from '../lib/labels.js';
import { modelLocation, predictionLogLocation } from '../lib/model-path.js';
import { labelledResources } from './support/labels.js';
import { expect } from './support/matchers.js';
import { type Block, resource, resources, synthStack } from './support/synth.js';

describe('gcp-bootstrap', () => {
  const { json, tf, stack } = synthStack('gcp-bootstrap');
  const first = gcpEnvironments[0]!;

  it('keeps its own state in the state bucket it creates, which cannot be destroyed by accident', () => {
    expect(tf.terraform.backend).toEqual({
      gcs: { bucket: first.gcp.stateBucket, prefix: first.gcp.bootstrapStatePrefix },
    });
    // Beside the environments' state, never inside one of them.
    for (const e of gcpEnvironments)
      expect(e.gcp.statePrefix).not.toBe(first.gcp.bootstrapStatePrefix);
    expect(json).toHaveResourceWithProperties(StorageBucket, {
      name: first.gcp.stateBucket,
      uniform_bucket_level_access: true,
      public_access_prevention: 'enforced',
      versioning: { enabled: true },
      force_destroy: false,
      lifecycle: { prevent_destroy: true },
    });
  });

  it('creates the Artifact Registry repository the images are pushed to: immutable tags, scanned', () => {
    expect(json).toHaveResourceWithProperties(ArtifactRegistryRepository, {
      repository_id: service.registryRepository,
      location: first.gcp.region,
      format: 'DOCKER',
      docker_config: { immutable_tags: true },
      vulnerability_scanning_config: { enablement_config: 'INHERITED' },
    });
  });

  it('enables the APIs the environments need', () => {
    const enabled = Object.values(resources(tf, 'google_project_service')).map((r) => r.service);
    expect(enabled.sort()).toEqual([...gcpApis].sort());
  });

  it('labels every resource that takes labels', () => {
    for (const r of labelledResources(stack, tf, labelFields.gcp))
      expect(r.labels, r.address).toEqual(resourceLabels('shared'));
  });
});

describe.each(gcpEnvironments.map((env) => [env.id, env] as const))('%s', (id, env) => {
  const { json, tf, stack } = synthStack(id);
  const g = env.gcp;
  const cfg = stageConfig[env.stage];
  const labels = resourceLabels(env.stage);
  const mlNodeTaint = service.mlNodePool;

  it('uses a remote GCS state of its own', () => {
    expect(tf.terraform.backend).toEqual({ gcs: { bucket: g.stateBucket, prefix: g.statePrefix } });
  });

  it('labels every resource (service, environment, owner, cost centre), also through the provider', () => {
    expect(json).toHaveProviderWithProperties(GoogleProvider, {
      project: g.project,
      region: g.region,
      default_labels: labels,
    });
    const labelled = labelledResources(stack, tf, labelFields.gcp);
    expect(labelled.length).toBeGreaterThanOrEqual(2);
    for (const r of labelled) expect(r.labels, r.address).toEqual(labels);
    for (const pool of Object.values(resources(tf, 'google_container_node_pool'))) {
      expect((pool.node_config as { resource_labels: unknown }).resource_labels).toEqual(labels);
    }
  });

  it('has a custom-mode VPC and a subnet with secondary ranges and Private Google Access', () => {
    expect(json).toHaveResourceWithProperties(ComputeNetwork, {
      name: g.network,
      auto_create_subnetworks: false,
    });
    expect(json).toHaveResourceWithProperties(ComputeSubnetwork, {
      region: g.region,
      ip_cidr_range: cfg.gcp.subnetCidr,
      private_ip_google_access: true,
      secondary_ip_range: [
        { range_name: 'pods', ip_cidr_range: cfg.gcp.podsCidr },
        { range_name: 'services', ip_cidr_range: cfg.gcp.servicesCidr },
      ],
    });
    expect(json).toHaveResource(ComputeRouterNat);
  });

  it('runs a regional, private, shielded GKE cluster with Workload Identity and a release channel', () => {
    expect(json).toHaveResourceWithProperties(ContainerCluster, {
      name: g.cluster,
      location: g.region,
      remove_default_node_pool: true,
      networking_mode: 'VPC_NATIVE',
      private_cluster_config: { enable_private_nodes: true, enable_private_endpoint: false },
      workload_identity_config: { workload_pool: workloadPool(g.workloadIdentityMember) },
      release_channel: { channel: cfg.gcp.releaseChannel },
      enable_shielded_nodes: true,
      datapath_provider: 'ADVANCED_DATAPATH',
      deletion_protection: cfg.deletionProtection,
    });
    const cluster = resource(tf, 'google_container_cluster', 'cluster');
    expect(cluster.master_authorized_networks_config).toMatchObject({
      gcp_public_cidrs_access_enabled: false,
    });
    expect(cluster.database_encryption).toMatchObject({
      state: cfg.customerManagedKey ? 'ENCRYPTED' : 'DECRYPTED',
    });
  });

  it('autoscales a tainted ML node pool within the plan bounds, on hardened nodes', () => {
    const ml = resource(tf, 'google_container_node_pool', 'ml-pool');
    expect(ml.autoscaling).toMatchObject({
      total_min_node_count: env.nodePool.min,
      total_max_node_count: env.nodePool.max,
    });
    expect(json).toHaveResourceWithProperties(ContainerNodePool, {
      name: g.mlPool,
      management: { auto_repair: true, auto_upgrade: true },
    });
    const node = ml.node_config as Record<string, unknown>;
    expect(node.taint).toEqual([
      { key: mlNodeTaint.key, value: mlNodeTaint.value, effect: 'NO_SCHEDULE' },
    ]);
    expect(node.labels).toEqual({ [mlNodeTaint.key]: mlNodeTaint.value });
    expect(node.spot).toBe(cfg.spotNodes);
    for (const pool of Object.values(resources(tf, 'google_container_node_pool'))) {
      const nc = pool.node_config as Record<string, unknown>;
      expect(nc.workload_metadata_config).toEqual({ mode: 'GKE_METADATA' });
      expect(nc.shielded_instance_config).toEqual({
        enable_secure_boot: true,
        enable_integrity_monitoring: true,
      });
      // The nodes' own service account, never the Compute Engine default one.
      expect(nc.service_account).toBe('${google_service_account.node-identity.email}');
    }
    const system = resource(tf, 'google_container_node_pool', 'system-pool');
    expect((system.node_config as Record<string, unknown>).taint).toBeUndefined();
  });

  it('keeps the model in a versioned, uniform-access, never-public bucket (CMEK when configured)', () => {
    expect(json).toHaveResourceWithProperties(StorageBucket, {
      name: g.modelBucket,
      location: g.region,
      uniform_bucket_level_access: true,
      public_access_prevention: 'enforced',
      versioning: { enabled: true },
      force_destroy: false,
    });
    const bucket = resource(tf, 'google_storage_bucket', 'model-bucket');
    if (cfg.customerManagedKey) {
      expect(bucket.encryption).toEqual({
        default_kms_key_name: '${google_kms_crypto_key.key.id}',
      });
      expect(json).toHaveResourceWithProperties(KmsCryptoKey, {
        purpose: 'ENCRYPT_DECRYPT',
        rotation_period: '7776000s',
      });
    } else {
      expect(bucket.encryption).toBeUndefined();
      expect(json).not.toHaveResource(KmsCryptoKey);
    }
  });

  it('gives the service identity read access to its model path and create-only access to its prediction logs', () => {
    const { readPrefix } = modelLocation(env.modelUri);
    const logs = predictionLogLocation(env.predictionLogUri);
    expect(json).toHaveResourceWithProperties(ServiceAccount, {
      account_id: g.serviceAccountId,
      project: g.project,
    });
    expect(json).toHaveResourceWithProperties(StorageBucketIamMember, {
      role: 'roles/storage.objectViewer',
      member: `serviceAccount:${g.serviceAccountEmail}`,
      condition: {
        title: 'model-path-only',
        description: `Objects under ${readPrefix} only`,
        expression: `resource.name.startsWith("projects/_/buckets/${g.modelBucket}/objects/${readPrefix}")`,
      },
    });
    // Nothing else is granted to the service identity anywhere in the stack.
    const member = `serviceAccount:${g.serviceAccountEmail}`;
    const grants = Object.entries(tf.resource ?? {}).flatMap(([type, rs]) =>
      Object.entries(rs)
        .filter(([, r]) => r.member === member)
        .map(([name, r]) => `${type}.${name} ${String(r.role)}`),
    );
    expect(json).toHaveResourceWithProperties(StorageBucketIamMember, {
      role: 'roles/storage.objectCreator',
      member,
      condition: {
        title: 'prediction-logs-create-only',
        description: `New objects under ${logs.prefix} only`,
        expression: `resource.name.startsWith("projects/_/buckets/${g.modelBucket}/objects/${logs.prefix}")`,
      },
    });
    expect(grants.sort()).toEqual([
      'google_storage_bucket_iam_member.model-read roles/storage.objectViewer',
      'google_storage_bucket_iam_member.prediction-log-write roles/storage.objectCreator',
    ]);
  });

  it('gives the drift identity read and list access to the prediction logs only', () => {
    const logs = predictionLogLocation(env.predictionLogUri);
    expect(json).toHaveResourceWithProperties(ServiceAccount, {
      account_id: g.driftServiceAccountId,
      project: g.project,
    });
    const member = `serviceAccount:${g.driftServiceAccountEmail}`;
    const grants = Object.entries(tf.resource ?? {}).flatMap(([type, rs]) =>
      Object.entries(rs)
        .filter(([, r]) => r.member === member)
        .map(([name, r]) => ({
          at: `${type}.${name}`,
          role: r.role,
          condition: (r.condition as Block | undefined)?.expression,
        })),
    );
    grants.sort((x, y) => x.at.localeCompare(y.at));
    expect(grants).toEqual([
      {
        at: 'google_storage_bucket_iam_member.prediction-log-list',
        role: 'roles/storage.objectViewer',
        condition:
          'resource.type == "storage.googleapis.com/Bucket" && ' +
          `api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("${logs.prefix}")`,
      },
      {
        at: 'google_storage_bucket_iam_member.prediction-log-read',
        role: 'roles/storage.objectViewer',
        condition: `resource.name.startsWith("projects/_/buckets/${g.modelBucket}/objects/${logs.prefix}")`,
      },
    ]);
  });

  it('binds each identity to its own Kubernetes service account, in the stage namespace, through Workload Identity', () => {
    expect(json).toHaveResourceWithProperties(ServiceAccountIamMember, {
      service_account_id: '${google_service_account.service-identity.name}',
      role: 'roles/iam.workloadIdentityUser',
      member: g.workloadIdentityMember,
    });
    expect(json).toHaveResourceWithProperties(ServiceAccountIamMember, {
      service_account_id: '${google_service_account.drift-identity.name}',
      role: 'roles/iam.workloadIdentityUser',
      member: g.driftWorkloadIdentityMember,
    });
    expect(Object.keys(resources(tf, 'google_service_account_iam_member')).sort()).toEqual([
      'drift-workload-identity',
      'workload-identity',
    ]);
    for (const m of [g.workloadIdentityMember, g.driftWorkloadIdentityMember])
      expect(m).toContain(`[${g.namespace}/`);
  });

  it('expires the prediction logs after the stage retention, and nothing else by age', () => {
    const logs = predictionLogLocation(env.predictionLogUri);
    const rules = resource(tf, 'google_storage_bucket', 'model-bucket').lifecycle_rule as Block[];
    const byAge = rules.filter((r) => (r.condition as Block).age !== undefined);
    expect(byAge).toEqual([
      {
        action: { type: 'Delete' },
        condition: { age: cfg.predictionLogDays, matches_prefix: [logs.prefix] },
      },
    ]);
  });
});
