import type { Capabilities } from './capabilities.js';
import { effectName, shortest } from './capabilities.js';
import {
  type Block,
  type TerraformJson,
  referencedPolicyDocument,
  resource,
  resources,
} from './synth.js';

/** Reads the capabilities back from an AWS environment stack and the AWS bootstrap stack. */
export function awsCapabilities(env: TerraformJson, bootstrap: TerraformJson): Capabilities {
  const registries = Object.values(resources(bootstrap, 'aws_ecr_repository'));
  if (registries.length !== 1)
    throw new Error(`expected one ECR repository, found ${registries.length}`);
  const registry = registries[0]!;
  const bucket = resource(env, 'aws_s3_bucket', 'model-bucket');
  const bucketRef = '${aws_s3_bucket.model-bucket.id}';
  const forBucket = (type: string): Block | undefined =>
    Object.values(resources(env, type)).find((r) => r.bucket === bucketRef);
  const versioning = forBucket('aws_s3_bucket_versioning');
  const sse = (
    forBucket('aws_s3_bucket_server_side_encryption_configuration')?.rule as Block[] | undefined
  )?.[0];
  const sseDefault = sse?.apply_server_side_encryption_by_default as Block | undefined;
  const publicAccess = forBucket('aws_s3_bucket_public_access_block');

  const groups = Object.values(resources(env, 'aws_eks_node_group'));
  const tainted = groups.filter((g) => g.taint);
  if (tainted.length !== 1)
    throw new Error(`expected one tainted node group, found ${tainted.length}`);
  const ml = tainted[0]!;
  const taint = (ml.taint as Array<{ key: string; value: string; effect: string }>)[0]!;
  const scaling = ml.scaling_config as { min_size: number; max_size: number };
  const subnets = resources(env, 'aws_subnet');
  const nodeSubnets = groups.flatMap((g) => g.subnet_ids as string[]);
  const privateNodes = nodeSubnets.every((ref) => {
    const name = /^\$\{aws_subnet\.([\w-]+)\.id\}$/.exec(ref)?.[1];
    const subnet = name ? subnets[name] : undefined;
    return (
      subnet !== undefined &&
      subnet.map_public_ip_on_launch !== true &&
      name!.startsWith('private-')
    );
  });
  const templates = Object.values(resources(env, 'aws_launch_template'));

  /** The role the stack creates as `name`: whom it trusts, and its S3 statements by action. */
  const roleOf = (name: string) => {
    const role = resource(env, 'aws_iam_role', name);
    const trust = (referencedPolicyDocument(env, role.assume_role_policy).statement as Block[])[0]!;
    const sub = (trust.condition as Array<{ variable: string; values: string[] }>).find((c) =>
      c.variable.endsWith(':sub'),
    );
    const ksa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(sub?.values[0] ?? '');
    const policies = Object.values(resources(env, 'aws_iam_role_policy')).filter(
      (p) => p.role === `\${aws_iam_role.${name}.id}`,
    );
    const statements = policies.flatMap(
      (p) => referencedPolicyDocument(env, p.policy).statement as Block[],
    );
    const s3 = statements.filter((s) => (s.actions as string[]).some((a) => a.startsWith('s3:')));
    /** bucket and prefix of the statements granting exactly `action` on objects (`arn:<partition>:s3:::bucket/prefix*`). */
    const objects = (action: string) => {
      const arns = s3
        .filter((s) => (s.actions as string[]).join() === action)
        .flatMap((s) => s.resources as string[]);
      const m = arns.length === 1 ? /^arn:[\w-]+:s3:::([^/]+)\/(.*)\*$/.exec(arns[0]!) : null;
      return m
        ? { bucket: m[1]!, prefix: m[2]! }
        : { bucket: `(resources: ${arns.join(', ')})`, prefix: '' };
    };
    /** The prefix `s3:ListBucket` is bound to, if it is bound to one. */
    const list = s3
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
    const actions = [...new Set(s3.flatMap((s) => s.actions as string[]))].sort();
    return { ksa: ksa ? `${ksa[1]}/${ksa[2]}` : '', objects, list, actions };
  };
  const service = roleOf('service-identity');
  const drift = roleOf('drift-identity');
  const lifecycle = Object.values(resources(env, 'aws_s3_bucket_lifecycle_configuration')).find(
    (r) => r.bucket === bucketRef,
  );
  const logExpiry = ((lifecycle?.rule as Block[] | undefined) ?? []).find((r) => r.expiration);
  const prefixOf = (r: Block): string =>
    String((r.filter as Array<{ prefix?: string }> | undefined)?.[0]?.prefix ?? '');
  const logPrefix = logExpiry ? prefixOf(logExpiry) : '';
  const logNoncurrentDays = shortest(
    ((lifecycle?.rule as Block[] | undefined) ?? [])
      .filter((r) => r.noncurrent_version_expiration && logPrefix.startsWith(prefixOf(r)))
      .map((r) =>
        Number(
          (r.noncurrent_version_expiration as Array<{ noncurrent_days: number }>)[0]!
            .noncurrent_days,
        ),
      ),
  );
  const cni = Object.values(resources(env, 'aws_eks_addon')).find(
    (a) => a.addon_name === 'vpc-cni',
  );
  const cluster = resource(env, 'aws_eks_cluster', 'cluster');
  const backend = env.terraform.backend?.s3 as
    { bucket: string; key: string; use_lockfile?: boolean } | undefined;

  return {
    registry: {
      repository: String(registry.name),
      immutableTags: registry.image_tag_mutability === 'IMMUTABLE',
      scanned: (registry.image_scanning_configuration as Block | undefined)?.scan_on_push === true,
    },
    modelBucket: {
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
      predictionLogDays: Number(
        (logExpiry?.expiration as Array<{ days?: number }> | undefined)?.[0]?.days ?? 0,
      ),
      predictionLogNoncurrentDays: logNoncurrentDays,
    },
    workloadIdentity: {
      kubernetesServiceAccount: service.ksa,
      bucket: [
        ...new Set([
          service.objects('s3:GetObject').bucket,
          service.objects('s3:PutObject').bucket,
        ]),
      ].join(', '),
      readPrefix: service.objects('s3:GetObject').prefix,
      writePrefix: service.objects('s3:PutObject').prefix,
      access: (service.actions.join() === 's3:GetObject,s3:PutObject'
        ? 'read objects, create objects'
        : service.actions.join()) as 'read objects, create objects',
    },
    driftIdentity: {
      kubernetesServiceAccount: drift.ksa,
      bucket: drift.objects('s3:GetObject').bucket,
      readPrefix:
        drift.list.length === 1 && drift.list[0] === drift.objects('s3:GetObject').prefix
          ? drift.list[0]
          : '(read and list differ)',
      access: (drift.actions.join() === 's3:GetObject,s3:ListBucket'
        ? 'read and list objects'
        : drift.actions.join()) as 'read and list objects',
    },
    nodePool: {
      min: scaling.min_size,
      max: scaling.max_size,
      taint: `${taint.key}=${taint.value}:${effectName[taint.effect] ?? taint.effect}`,
      privateNodes,
      nodeCredentialsHidden:
        templates.length === groups.length &&
        templates.every((t) => {
          const m = t.metadata_options as Block | undefined;
          return m?.http_tokens === 'required' && m.http_put_response_hop_limit === 1;
        }),
    },
    cluster: {
      networkPolicyEnforced:
        cni !== undefined &&
        JSON.parse(String(cni.configuration_values ?? '{}')).enableNetworkPolicy === 'true',
      secretsCustomerKey: cluster.encryption_config !== undefined,
    },
    remoteState: {
      bucket: backend?.bucket ?? '',
      key: backend?.key ?? '',
      locked: backend?.use_lockfile === true,
    },
  };
}
