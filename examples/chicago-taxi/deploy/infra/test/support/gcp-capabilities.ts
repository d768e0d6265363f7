import type { Capabilities } from './capabilities.js';
import { effectName, shortest } from './capabilities.js';
import { type Block, type TerraformJson, resource, resources } from './synth.js';

const one = (record: Record<string, Block>, what: string): Block => {
  const all = Object.values(record);
  if (all.length !== 1) throw new Error(`expected one ${what}, found ${all.length}`);
  return all[0]!;
};

/** The node pools of a stack and the one tainted for ML workloads among them. */
interface NodePools {
  readonly pools: Block[];
  readonly mlPool: Block;
}

/** One bucket grant of a service account: its role, bucket, and the prefixes its condition allows. */
interface Grant {
  readonly role: string;
  readonly bucket: string;
  /** The object prefix the condition limits it to, if it is an object condition. */
  readonly objects: string | undefined;
  /** The list prefix the condition limits it to, if it is a list condition. */
  readonly list: string | undefined;
}

/** Reads the capabilities back from a GCP environment stack and the GCP bootstrap stack. */
export function gcpCapabilities(env: TerraformJson, bootstrap: TerraformJson): Capabilities {
  const registry = gcpRegistry(bootstrap);
  const bucket = resource(env, 'google_storage_bucket', 'model-bucket');
  const cluster = resource(env, 'google_container_cluster', 'cluster');
  const pools = gcpNodePools(env);
  const service = grantsOf(env, bucket, 'service-identity');
  const drift = grantsOf(env, bucket, 'drift-identity');
  const modelBucket = gcpModelBucket(bucket);
  const remoteState = gcpRemoteState(env);
  return {
    registry,
    modelBucket,
    workloadIdentity: gcpWorkloadIdentity(env, service),
    driftIdentity: gcpDriftIdentity(env, drift),
    nodePool: gcpNodePool(cluster, pools),
    cluster: gcpCluster(cluster),
    remoteState,
  };
}

/** The bootstrap stack's only Artifact Registry repository: its id, tag immutability and scanning. */
function gcpRegistry(bootstrap: TerraformJson): Capabilities['registry'] {
  const registry = one(resources(bootstrap, 'google_artifact_registry_repository'), 'registry');
  const apis = Object.values(resources(bootstrap, 'google_project_service')).map((s) => s.service);
  return {
    repository: String(registry.repository_id),
    immutableTags: (registry.docker_config as Block | undefined)?.immutable_tags === true,
    scanned:
      (registry.vulnerability_scanning_config as Block | undefined)?.enablement_config ===
        'INHERITED' && apis.includes('containerscanning.googleapis.com'),
  };
}

/** How long the bucket's lifecycle rules keep prediction logs, current and noncurrent. */
function gcpPredictionLogRetention(
  bucket: Block,
): Pick<Capabilities['modelBucket'], 'predictionLogDays' | 'predictionLogNoncurrentDays'> {
  const lifecycle = (bucket.lifecycle_rule as Block[] | undefined) ?? [];
  const logExpiry = lifecycle.find(
    (r) => (r.condition as Block).age !== undefined && (r.condition as Block).matches_prefix,
  );
  const logPrefix = String(
    ((logExpiry?.condition as Block | undefined)?.matches_prefix as string[] | undefined)?.[0] ??
      '',
  );
  const logNoncurrentDays = shortest(
    lifecycle
      .map((r) => r.condition as Block)
      .filter(
        (c) =>
          c.days_since_noncurrent_time !== undefined &&
          ((c.matches_prefix as string[] | undefined) ?? ['']).some((p) => logPrefix.startsWith(p)),
      )
      .map((c) => Number(c.days_since_noncurrent_time)),
  );
  return {
    predictionLogDays: Number((logExpiry?.condition as Block | undefined)?.age ?? 0),
    predictionLogNoncurrentDays: logNoncurrentDays,
  };
}

/** The model bucket's name, versioning, encryption, public-access prevention and log retention. */
function gcpModelBucket(bucket: Block): Capabilities['modelBucket'] {
  const { predictionLogDays, predictionLogNoncurrentDays } = gcpPredictionLogRetention(bucket);
  return {
    name: String(bucket.name),
    versioned: (bucket.versioning as Block | undefined)?.enabled === true,
    encryption: (bucket.encryption as Block | undefined)?.default_kms_key_name
      ? 'customer-managed key'
      : 'cloud-managed key',
    publicAccessBlocked:
      bucket.public_access_prevention === 'enforced' && bucket.uniform_bucket_level_access === true,
    predictionLogDays,
    predictionLogNoncurrentDays,
  };
}

/** The stack's GKE node pools; fails unless exactly one of them is tainted. */
function gcpNodePools(env: TerraformJson): NodePools {
  const pools = Object.values(resources(env, 'google_container_node_pool'));
  const tainted = pools.filter((p) => (p.node_config as Block).taint);
  const mlPool = one(
    Object.fromEntries(tainted.map((p, i) => [String(i), p])),
    'tainted node pool',
  );
  return { pools, mlPool };
}

/** The ML pool's autoscaling and taint, and how private the cluster's nodes are. */
function gcpNodePool(cluster: Block, { pools, mlPool }: NodePools): Capabilities['nodePool'] {
  const taint = (
    (mlPool.node_config as Block).taint as Array<{ key: string; value: string; effect: string }>
  )[0]!;
  const autoscaling = mlPool.autoscaling as {
    total_min_node_count: number;
    total_max_node_count: number;
  };
  return {
    min: autoscaling.total_min_node_count,
    max: autoscaling.total_max_node_count,
    taint: `${taint.key}=${taint.value}:${effectName[taint.effect] ?? taint.effect}`,
    privateNodes:
      (cluster.private_cluster_config as Block | undefined)?.enable_private_nodes === true,
    nodeCredentialsHidden: pools.every(
      (p) =>
        ((p.node_config as Block).workload_metadata_config as Block | undefined)?.mode ===
        'GKE_METADATA',
    ),
  };
}

/** `<namespace>/<ksa>` that may act as the service account the stack creates as `identity`. */
function kubernetesServiceAccount(env: TerraformJson, identity: string): string {
  const binding = one(
    Object.fromEntries(
      Object.entries(resources(env, 'google_service_account_iam_member')).filter(
        ([, r]) =>
          r.role === 'roles/iam.workloadIdentityUser' &&
          r.service_account_id === `\${google_service_account.${identity}.name}`,
      ),
    ),
    `Workload Identity binding of ${identity}`,
  );
  return /\[([^\]]+)\]$/.exec(String(binding.member))?.[1] ?? '';
}

/** One bucket IAM member read as a grant: role, bucket, and what its condition allows. */
function grantOf(g: Block, bucket: Block): Grant {
  const bucketName =
    g.bucket === '${google_storage_bucket.model-bucket.name}'
      ? String(bucket.name)
      : String(g.bucket);
  const condition = (g.condition as { expression?: string } | undefined)?.expression ?? '';
  const objects =
    /^resource\.name\.startsWith\("projects\/_\/buckets\/([^/]+)\/objects\/([^"]*)"\)$/.exec(
      condition,
    );
  const list =
    /^resource\.type == "storage\.googleapis\.com\/Bucket" && api\.getAttribute\("storage\.googleapis\.com\/objectListPrefix", ""\)\.startsWith\("([^"]*)"\)$/.exec(
      condition,
    );
  return {
    role: String(g.role),
    bucket:
      objects && objects[1] !== bucketName
        ? `${bucketName} (condition names ${objects[1]})`
        : bucketName,
    objects: objects?.[2],
    list: list?.[1],
  };
}

/** The bucket grants of the service account the stack creates as `identity`: role and what the condition allows. */
function grantsOf(env: TerraformJson, bucket: Block, identity: string): Grant[] {
  const created = resource(env, 'google_service_account', identity);
  const member = `serviceAccount:${String(created.account_id)}@${String(created.project)}.iam.gserviceaccount.com`;
  return Object.values(resources(env, 'google_storage_bucket_iam_member'))
    .filter((g) => g.member === member)
    .map((g) => grantOf(g, bucket));
}

/** The `key` prefix of the only grant in `gs`, or how many grants there are instead. */
function onlyPrefix(gs: Grant[], key: 'objects' | 'list'): string {
  return gs.length === 1 ? (gs[0]![key] ?? '') : `(${gs.length} grants)`;
}

/** The service's identity: reads its model, creates prediction logs, in one bucket. */
function gcpWorkloadIdentity(
  env: TerraformJson,
  service: Grant[],
): Capabilities['workloadIdentity'] {
  const serviceRead = service.filter((g) => g.role === 'roles/storage.objectViewer' && g.objects);
  const serviceWrite = service.filter((g) => g.role === 'roles/storage.objectCreator' && g.objects);
  return {
    kubernetesServiceAccount: kubernetesServiceAccount(env, 'service-identity'),
    bucket: [...new Set(service.map((g) => g.bucket))].join(', '),
    readPrefix: onlyPrefix(serviceRead, 'objects'),
    writePrefix: onlyPrefix(serviceWrite, 'objects'),
    access: (serviceRead.length + serviceWrite.length === service.length &&
    serviceWrite.length === 1
      ? 'read objects, create objects'
      : service.map((g) => g.role).join(', ')) as 'read objects, create objects',
  };
}

/** The drift job's identity: reads and lists the prediction logs under one prefix. */
function gcpDriftIdentity(env: TerraformJson, drift: Grant[]): Capabilities['driftIdentity'] {
  const driftRead = drift.filter((g) => g.role === 'roles/storage.objectViewer' && g.objects);
  const driftList = drift.filter((g) => g.role === 'roles/storage.objectViewer' && g.list);
  return {
    kubernetesServiceAccount: kubernetesServiceAccount(env, 'drift-identity'),
    bucket: [...new Set(drift.map((g) => g.bucket))].join(', '),
    readPrefix:
      onlyPrefix(driftRead, 'objects') === onlyPrefix(driftList, 'list')
        ? onlyPrefix(driftRead, 'objects')
        : '(read and list differ)',
    access: (driftRead.length + driftList.length === drift.length && driftList.length === 1
      ? 'read and list objects'
      : drift.map((g) => g.role).join(', ')) as 'read and list objects',
  };
}

/** The GKE cluster's network-policy enforcement (Dataplane V2) and secrets encryption. */
function gcpCluster(cluster: Block): Capabilities['cluster'] {
  return {
    networkPolicyEnforced: cluster.datapath_provider === 'ADVANCED_DATAPATH',
    secretsCustomerKey: (cluster.database_encryption as Block | undefined)?.state === 'ENCRYPTED',
  };
}

/** The GCS backend the stack keeps its state in; GCS locks natively. */
function gcpRemoteState(env: TerraformJson): Capabilities['remoteState'] {
  const backend = env.terraform.backend?.gcs as { bucket: string; prefix: string } | undefined;
  return {
    bucket: backend?.bucket ?? '',
    key: backend?.prefix ?? '',
    // The GCS backend locks natively.
    locked: backend !== undefined,
  };
}
