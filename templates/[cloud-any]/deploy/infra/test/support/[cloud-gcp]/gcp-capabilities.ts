import type { Capabilities } from './capabilities.js';
import { effectName } from './capabilities.js';
import { type Block, type TerraformJson, resource, resources } from './synth.js';

const one = (record: Record<string, Block>, what: string): Block => {
  const all = Object.values(record);
  if (all.length !== 1) throw new Error(`expected one ${what}, found ${all.length}`);
  return all[0]!;
};

/** Reads the capabilities back from a GCP environment stack and the GCP bootstrap stack. */
export function gcpCapabilities(env: TerraformJson, bootstrap: TerraformJson): Capabilities {
  const registry = one(resources(bootstrap, 'google_artifact_registry_repository'), 'registry');
  const apis = Object.values(resources(bootstrap, 'google_project_service')).map((s) => s.service);
  const bucket = resource(env, 'google_storage_bucket', 'model-bucket');
  const cluster = resource(env, 'google_container_cluster', 'cluster');
  const pools = Object.values(resources(env, 'google_container_node_pool'));
  const tainted = pools.filter((p) => (p.node_config as Block).taint);
  const mlPool = one(Object.fromEntries(tainted.map((p, i) => [String(i), p])), 'tainted node pool');
  const taint = ((mlPool.node_config as Block).taint as Array<{ key: string; value: string; effect: string }>)[0]!;
  const autoscaling = mlPool.autoscaling as { total_min_node_count: number; total_max_node_count: number };

  const binding = one(
    Object.fromEntries(
      Object.entries(resources(env, 'google_service_account_iam_member')).filter(
        ([, r]) => r.role === 'roles/iam.workloadIdentityUser',
      ),
    ),
    'Workload Identity binding',
  );
  const ksa = /\[([^\]]+)\]$/.exec(String(binding.member))?.[1] ?? '';
  const grant = one(resources(env, 'google_storage_bucket_iam_member'), 'bucket grant');
  const grantBucket =
    grant.bucket === '${google_storage_bucket.model-bucket.name}' ? String(bucket.name) : String(grant.bucket);
  const condition = (grant.condition as { expression?: string } | undefined)?.expression ?? '';
  const prefix = /^resource\.name\.startsWith\("projects\/_\/buckets\/([^/]+)\/objects\/([^"]*)"\)$/.exec(condition);
  const backend = env.terraform.backend?.gcs as { bucket: string; prefix: string } | undefined;

  return {
    registry: {
      repository: String(registry.repository_id),
      immutableTags: (registry.docker_config as Block | undefined)?.immutable_tags === true,
      scanned:
        (registry.vulnerability_scanning_config as Block | undefined)?.enablement_config === 'INHERITED' &&
        apis.includes('containerscanning.googleapis.com'),
    },
    modelBucket: {
      name: String(bucket.name),
      versioned: (bucket.versioning as Block | undefined)?.enabled === true,
      encryption: (bucket.encryption as Block | undefined)?.default_kms_key_name ? 'customer-managed key' : 'cloud-managed key',
      publicAccessBlocked: bucket.public_access_prevention === 'enforced' && bucket.uniform_bucket_level_access === true,
    },
    workloadIdentity: {
      kubernetesServiceAccount: ksa,
      bucket: prefix?.[1] === grantBucket ? grantBucket : `${grantBucket} (condition names ${prefix?.[1]})`,
      readPrefix: prefix?.[2] ?? '(no condition: whole bucket)',
      access: grant.role === 'roles/storage.objectViewer' ? 'read objects' : (String(grant.role) as 'read objects'),
    },
    nodePool: {
      min: autoscaling.total_min_node_count,
      max: autoscaling.total_max_node_count,
      taint: `${taint.key}=${taint.value}:${effectName[taint.effect] ?? taint.effect}`,
      privateNodes: (cluster.private_cluster_config as Block | undefined)?.enable_private_nodes === true,
      nodeCredentialsHidden: pools.every(
        (p) => ((p.node_config as Block).workload_metadata_config as Block | undefined)?.mode === 'GKE_METADATA',
      ),
    },
    cluster: {
      networkPolicyEnforced: cluster.datapath_provider === 'ADVANCED_DATAPATH',
      secretsCustomerKey: (cluster.database_encryption as Block | undefined)?.state === 'ENCRYPTED',
    },
    remoteState: {
      bucket: backend?.bucket ?? '',
      key: backend?.prefix ?? '',
      // The GCS backend locks natively.
      locked: backend !== undefined,
    },
  };
}
