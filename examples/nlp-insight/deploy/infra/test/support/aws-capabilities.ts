import type { Capabilities } from './capabilities.js';
import { effectName, shortest } from './capabilities.js';
import {
  type Block,
  type TerraformJson,
  referencedPolicyDocument,
  resource,
  resources,
} from './synth.js';

/** The Terraform reference every model-bucket setting resource points its `bucket` at. */
const bucketRef = '${aws_s3_bucket.model-bucket.id}';

/** The model-bucket settings that predate the prediction-log lifecycle rules. */
type BucketSettings = Omit<
  Capabilities['modelBucket'],
  'predictionLogDays' | 'predictionLogNoncurrentDays'
>;

/** The node groups of a stack and the one tainted for ML workloads among them. */
interface NodeGroups {
  readonly groups: Block[];
  readonly ml: Block;
}

/** What a role the stack creates grants: whom it trusts, and its S3 statements by action. */
interface AwsRole {
  /** `<namespace>/<ksa>` the role trusts, or '' when it trusts none. */
  readonly ksa: string;
  /** Bucket and prefix of the statements granting exactly `action` on objects. */
  readonly objects: (action: string) => { bucket: string; prefix: string };
  /** The prefix each `s3:ListBucket` statement is bound to, or '(unbound)'. */
  readonly list: string[];
  /** Every S3 action the role is granted, sorted. */
  readonly actions: string[];
}

/** Reads the capabilities back from an AWS environment stack and the AWS bootstrap stack. */
export function awsCapabilities(env: TerraformJson, bootstrap: TerraformJson): Capabilities {
  const registry = awsRegistry(bootstrap);
  const bucket = awsBucketSettings(env);
  const nodes = awsNodeGroups(env);
  const service = awsRole(env, 'service-identity');
  const drift = awsRole(env, 'drift-identity');
  const logs = awsPredictionLogRetention(env);
  const cluster = resource(env, 'aws_eks_cluster', 'cluster');
  const remoteState = awsRemoteState(env);
  return {
    registry,
    modelBucket: { ...bucket, ...logs },
    workloadIdentity: awsWorkloadIdentity(service),
    driftIdentity: awsDriftIdentity(drift),
    nodePool: awsNodePool(env, nodes),
    cluster: awsCluster(env, cluster),
    remoteState,
  };
}

/** The bootstrap stack's only ECR repository: its name, tag mutability and scanning. */
function awsRegistry(bootstrap: TerraformJson): Capabilities['registry'] {
  const registries = Object.values(resources(bootstrap, 'aws_ecr_repository'));
  if (registries.length !== 1)
    throw new Error(`expected one ECR repository, found ${registries.length}`);
  const registry = registries[0]!;
  return {
    repository: String(registry.name),
    immutableTags: registry.image_tag_mutability === 'IMMUTABLE',
    scanned: (registry.image_scanning_configuration as Block | undefined)?.scan_on_push === true,
  };
}

/** The setting resource of `type` attached to the model bucket, if any. */
function forModelBucket(env: TerraformJson, type: string): Block | undefined {
  return Object.values(resources(env, type)).find((r) => r.bucket === bucketRef);
}

/** The model bucket's name, versioning, encryption and public-access block. */
function awsBucketSettings(env: TerraformJson): BucketSettings {
  const bucket = resource(env, 'aws_s3_bucket', 'model-bucket');
  const versioning = forModelBucket(env, 'aws_s3_bucket_versioning');
  const sse = (
    forModelBucket(env, 'aws_s3_bucket_server_side_encryption_configuration')?.rule as
      Block[] | undefined
  )?.[0];
  const sseDefault = sse?.apply_server_side_encryption_by_default as Block | undefined;
  const publicAccess = forModelBucket(env, 'aws_s3_bucket_public_access_block');
  return {
    name: String(bucket.bucket),
    versioned: (versioning?.versioning_configuration as Block | undefined)?.status === 'Enabled',
    encryption:
      sseDefault?.sse_algorithm === 'aws:kms'
        ? sseDefault.kms_master_key_id
          ? 'customer-managed key'
          : 'cloud-managed key'
        : ('none' as 'cloud-managed key'),
    publicAccessBlocked:
      publicAccess !== undefined &&
      [
        'block_public_acls',
        'block_public_policy',
        'ignore_public_acls',
        'restrict_public_buckets',
      ].every((k) => publicAccess[k] === true),
  };
}

/** The prefix a lifecycle rule's filter applies to ('' for the whole bucket). */
function lifecyclePrefix(r: Block): string {
  return String((r.filter as Array<{ prefix?: string }> | undefined)?.[0]?.prefix ?? '');
}

/** How long the model bucket's lifecycle rules keep prediction logs, current and noncurrent. */
function awsPredictionLogRetention(
  env: TerraformJson,
): Pick<Capabilities['modelBucket'], 'predictionLogDays' | 'predictionLogNoncurrentDays'> {
  const lifecycle = forModelBucket(env, 'aws_s3_bucket_lifecycle_configuration');
  const rules = (lifecycle?.rule as Block[] | undefined) ?? [];
  const logExpiry = rules.find((r) => r.expiration);
  const logPrefix = logExpiry ? lifecyclePrefix(logExpiry) : '';
  const logNoncurrentDays = shortest(
    rules
      .filter((r) => r.noncurrent_version_expiration && logPrefix.startsWith(lifecyclePrefix(r)))
      .map((r) =>
        Number(
          (r.noncurrent_version_expiration as Array<{ noncurrent_days: number }>)[0]!
            .noncurrent_days,
        ),
      ),
  );
  return {
    predictionLogDays: Number(
      (logExpiry?.expiration as Array<{ days?: number }> | undefined)?.[0]?.days ?? 0,
    ),
    predictionLogNoncurrentDays: logNoncurrentDays,
  };
}

/** The stack's EKS node groups; fails unless exactly one of them is tainted. */
function awsNodeGroups(env: TerraformJson): NodeGroups {
  const groups = Object.values(resources(env, 'aws_eks_node_group'));
  const tainted = groups.filter((g) => g.taint);
  if (tainted.length !== 1)
    throw new Error(`expected one tainted node group, found ${tainted.length}`);
  return { groups, ml: tainted[0]! };
}

/** Whether every node group runs only in private subnets (no public IPs on launch). */
function awsNodesPrivate(env: TerraformJson, groups: Block[]): boolean {
  const subnets = resources(env, 'aws_subnet');
  const nodeSubnets = groups.flatMap((g) => g.subnet_ids as string[]);
  return nodeSubnets.every((ref) => {
    const name = /^\$\{aws_subnet\.([\w-]+)\.id\}$/.exec(ref)?.[1];
    const subnet = name ? subnets[name] : undefined;
    return (
      subnet !== undefined &&
      subnet.map_public_ip_on_launch !== true &&
      name!.startsWith('private-')
    );
  });
}

/** Whether every node group's launch template requires IMDSv2 with a hop limit of 1. */
function awsNodeCredentialsHidden(env: TerraformJson, groups: Block[]): boolean {
  const templates = Object.values(resources(env, 'aws_launch_template'));
  return (
    templates.length === groups.length &&
    templates.every((t) => {
      const m = t.metadata_options as Block | undefined;
      return m?.http_tokens === 'required' && m.http_put_response_hop_limit === 1;
    })
  );
}

/** The ML node group's scaling and taint, and how private the nodes are. */
function awsNodePool(env: TerraformJson, { groups, ml }: NodeGroups): Capabilities['nodePool'] {
  const taint = (ml.taint as Array<{ key: string; value: string; effect: string }>)[0]!;
  const scaling = ml.scaling_config as { min_size: number; max_size: number };
  const privateNodes = awsNodesPrivate(env, groups);
  const nodeCredentialsHidden = awsNodeCredentialsHidden(env, groups);
  return {
    min: scaling.min_size,
    max: scaling.max_size,
    taint: `${taint.key}=${taint.value}:${effectName[taint.effect] ?? taint.effect}`,
    privateNodes,
    nodeCredentialsHidden,
  };
}

/** `<namespace>/<ksa>` the role's trust policy admits through its `:sub` condition, or ''. */
function trustedServiceAccount(env: TerraformJson, role: Block): string {
  const trust = (referencedPolicyDocument(env, role.assume_role_policy).statement as Block[])[0]!;
  const sub = (trust.condition as Array<{ variable: string; values: string[] }>).find((c) =>
    c.variable.endsWith(':sub'),
  );
  const ksa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(sub?.values[0] ?? '');
  return ksa ? `${ksa[1]}/${ksa[2]}` : '';
}

/** The S3 statements of the inline policies attached to the role the stack creates as `name`. */
function roleS3Statements(env: TerraformJson, name: string): Block[] {
  const policies = Object.values(resources(env, 'aws_iam_role_policy')).filter(
    (p) => p.role === `\${aws_iam_role.${name}.id}`,
  );
  const statements = policies.flatMap(
    (p) => referencedPolicyDocument(env, p.policy).statement as Block[],
  );
  return statements.filter((s) => (s.actions as string[]).some((a) => a.startsWith('s3:')));
}

/** bucket and prefix of the statements granting exactly `action` on objects (`arn:<partition>:s3:::bucket/prefix*`). */
function objectGrant(s3: Block[], action: string): { bucket: string; prefix: string } {
  const arns = s3
    .filter((s) => (s.actions as string[]).join() === action)
    .flatMap((s) => s.resources as string[]);
  const m = arns.length === 1 ? /^arn:[\w-]+:s3:::([^/]+)\/(.*)\*$/.exec(arns[0]!) : null;
  return m
    ? { bucket: m[1]!, prefix: m[2]! }
    : { bucket: `(resources: ${arns.join(', ')})`, prefix: '' };
}

/** The prefix each `s3:ListBucket` statement is bound to, if it is bound to one. */
function listPrefixes(s3: Block[]): string[] {
  return s3
    .filter((s) => (s.actions as string[]).join() === 's3:ListBucket')
    .map((s) =>
      (
        s.condition as Array<{ test: string; variable: string; values: string[] }> | undefined
      )?.find((c) => c.variable === 's3:prefix'),
    )
    .map((c) =>
      c?.test === 'StringLike' && c.values.length === 1
        ? c.values[0]!.replace(/\*$/, '')
        : '(unbound)',
    );
}

/** The role the stack creates as `name`: whom it trusts, and its S3 statements by action. */
function awsRole(env: TerraformJson, name: string): AwsRole {
  const role = resource(env, 'aws_iam_role', name);
  const ksa = trustedServiceAccount(env, role);
  const s3 = roleS3Statements(env, name);
  const list = listPrefixes(s3);
  const actions = [...new Set(s3.flatMap((s) => s.actions as string[]))].sort();
  return { ksa, objects: (action) => objectGrant(s3, action), list, actions };
}

/** The service's identity: reads its model, creates prediction logs, in one bucket. */
function awsWorkloadIdentity(service: AwsRole): Capabilities['workloadIdentity'] {
  const read = service.objects('s3:GetObject');
  const write = service.objects('s3:PutObject');
  return {
    kubernetesServiceAccount: service.ksa,
    bucket: [...new Set([read.bucket, write.bucket])].join(', '),
    readPrefix: read.prefix,
    writePrefix: write.prefix,
    access: (service.actions.join() === 's3:GetObject,s3:PutObject'
      ? 'read objects, create objects'
      : service.actions.join()) as 'read objects, create objects',
  };
}

/** The drift job's identity: reads and lists the prediction logs under one prefix. */
function awsDriftIdentity(drift: AwsRole): Capabilities['driftIdentity'] {
  const read = drift.objects('s3:GetObject');
  return {
    kubernetesServiceAccount: drift.ksa,
    bucket: read.bucket,
    readPrefix:
      drift.list.length === 1 && drift.list[0] === read.prefix
        ? drift.list[0]
        : '(read and list differ)',
    access: (drift.actions.join() === 's3:GetObject,s3:ListBucket'
      ? 'read and list objects'
      : drift.actions.join()) as 'read and list objects',
  };
}

/** The EKS cluster's network-policy enforcement (VPC CNI) and secrets encryption. */
function awsCluster(env: TerraformJson, cluster: Block): Capabilities['cluster'] {
  const cni = Object.values(resources(env, 'aws_eks_addon')).find(
    (a) => a.addon_name === 'vpc-cni',
  );
  return {
    networkPolicyEnforced:
      cni !== undefined &&
      JSON.parse(String(cni.configuration_values ?? '{}')).enableNetworkPolicy === 'true',
    secretsCustomerKey: cluster.encryption_config !== undefined,
  };
}

/** The S3 backend the stack keeps its state in, and whether it locks. */
function awsRemoteState(env: TerraformJson): Capabilities['remoteState'] {
  const backend = env.terraform.backend?.s3 as
    { bucket: string; key: string; use_lockfile?: boolean } | undefined;
  return {
    bucket: backend?.bucket ?? '',
    key: backend?.key ?? '',
    locked: backend?.use_lockfile === true,
  };
}
