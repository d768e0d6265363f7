/**
 * The joins between the cloud stacks and the Kubernetes layer (deploy/k8s): the identity each
 * service account annotation names (the service's, the drift job's) is the identity the stack
 * creates and trusts exactly that service account, in the stage's namespace; the bucket the init
 * container reads is the bucket the stack creates and lets that identity read; the prediction log
 * shipper writes exactly where the stack lets the service identity create objects, and the drift
 * job reads exactly where its identity may read and list; the pods tolerate the ML node pool's
 * taint and fit the nodes the stack sizes. Both layers read deploy/plan.ts; these tests prove they
 * agree on what the stacks actually synthesize and the manifests actually say.
 */
import { describe, expect, it } from 'vitest';
import { synthesize } from '../../k8s/app.js';
import { driftBaselineFile } from '../../k8s/config.js';
import { runtime, service } from '../../plan.js';
import { awsEnvironments } from '../aws/environments.js';
import { gcpEnvironments } from '../gcp/environments.js';
import { memoryMiB, servicePod } from '../config.js';
import { modelLocation, overlap, predictionLogLocation } from '../lib/model-path.js';
import {
  type Block,
  type TerraformJson,
  referencedPolicyDocument,
  resource,
  resources,
  synthStack,
} from './support/synth.js';

type Manifest = {
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
} & Block;

interface Container {
  name: string;
  restartPolicy?: string;
  env?: Array<{ name: string; value?: string }>;
  resources?: { requests?: { cpu?: string; memory?: string } };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}

interface PodSpec {
  serviceAccountName?: string;
  tolerations?: Array<{ key?: string; operator?: string; value?: string; effect?: string }>;
  nodeSelector?: Record<string, string>;
  initContainers?: Container[];
  containers?: Container[];
  volumes?: Array<{ name: string; configMap?: { name: string } }>;
}

const mlNodeTaint = service.mlNodePool;

function servicePods(manifests: readonly Manifest[]): PodSpec[] {
  return manifests
    .filter((m) => m.kind === 'Deployment' && m.metadata.name === service.service)
    .map((m) => ((m.spec as Block).template as Block).spec as PodSpec);
}

function driftPods(manifests: readonly Manifest[]): PodSpec[] {
  return manifests
    .filter((m) => m.kind === 'CronJob')
    .map(
      (m) =>
        ((((m.spec as Block).jobTemplate as Block).spec as Block).template as Block)
          .spec as PodSpec,
    );
}

function serviceAccountOf(
  manifests: readonly Manifest[],
  name: string = service.serviceAccount,
): Manifest {
  const sa = manifests.find((m) => m.kind === 'ServiceAccount' && m.metadata.name === name);
  if (!sa) throw new Error(`no ServiceAccount ${name}`);
  return sa;
}

/** The ServiceAccount the pods run as: one for all of them. */
function podServiceAccount(manifests: readonly Manifest[], pods: PodSpec[]): Manifest {
  const names = [...new Set(pods.map((p) => p.serviceAccountName))];
  expect(names).toHaveLength(1);
  return serviceAccountOf(manifests, names[0]!);
}

/** Values of the variable `name` in every container of the pods. */
function envValues(pods: PodSpec[], name: string): string[] {
  return pods.flatMap((p) =>
    [...(p.initContainers ?? []), ...(p.containers ?? [])].flatMap((c) =>
      (c.env ?? []).filter((e) => e.name === name).map((e) => String(e.value)),
    ),
  );
}
const modelUris = (pods: PodSpec[]): string[] => envValues(pods, 'MODEL_URI');

/** Where the log shipper of the pods uploads: its sink's bucket and key prefix, from its ConfigMap. */
function shippedTo(
  manifests: readonly Manifest[],
  pods: PodSpec[],
): Array<{ type: string; bucket: string; keyPrefix: string }> {
  return pods.flatMap((p) =>
    (p.initContainers ?? [])
      .filter((c) => c.restartPolicy === 'Always')
      .flatMap((c) => {
        const mounted = (c.volumeMounts ?? []).map(
          (m) => p.volumes?.find((v) => v.name === m.name)?.configMap?.name,
        );
        const cm = manifests.find(
          (m) => m.kind === 'ConfigMap' && mounted.includes(m.metadata.name),
        );
        if (!cm) throw new Error(`sidecar ${c.name} mounts no ConfigMap`);
        const config = JSON.parse(Object.values(cm.data ?? {})[0]!) as {
          sinks: Record<string, { type: string; bucket: string; key_prefix: string }>;
        };
        return Object.values(config.sinks).map((k) => ({
          type: k.type,
          bucket: k.bucket,
          keyPrefix: k.key_prefix,
        }));
      }),
  );
}

const millis = (q: string): number => (q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000);

/** What the scheduler reserves for a pod: its containers and sidecars, or its largest init step. */
function podRequest(p: PodSpec): { cpuMillis: number; memoryMiB: number } {
  const req = (c: Container) => ({
    cpuMillis: millis(c.resources?.requests?.cpu ?? '0'),
    memoryMiB: memoryMiB(c.resources?.requests?.memory ?? '0Mi'),
  });
  const running = [
    ...(p.containers ?? []),
    ...(p.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
  ].map(req);
  const steps = (p.initContainers ?? []).filter((c) => c.restartPolicy !== 'Always').map(req);
  const sum = running.reduce(
    (a, b) => ({ cpuMillis: a.cpuMillis + b.cpuMillis, memoryMiB: a.memoryMiB + b.memoryMiB }),
    {
      cpuMillis: 0,
      memoryMiB: 0,
    },
  );
  return {
    cpuMillis: Math.max(sum.cpuMillis, ...steps.map((s) => s.cpuMillis)),
    memoryMiB: Math.max(sum.memoryMiB, ...steps.map((s) => s.memoryMiB)),
  };
}

/** The namespace every namespaced object of the manifests is in (the dashboard may sit elsewhere). */
function namespacesOf(manifests: readonly Manifest[]): string[] {
  return [
    ...new Set(
      manifests
        .filter((m) => m.metadata.namespace !== undefined)
        .filter(
          (m) =>
            !(
              m.kind === 'ConfigMap' &&
              (m.metadata as { labels?: Record<string, string> }).labels?.grafana_dashboard
            ),
        )
        .map((m) => m.metadata.namespace!),
    ),
  ];
}

/** Whether the pods' requests fit what the stack sized each ML node's share for. */
function fitsSizedPod(pods: PodSpec[]): void {
  const sized = servicePod(runtime);
  expect(pods.length).toBeGreaterThan(0);
  for (const p of pods) {
    const r = podRequest(p);
    expect(r.cpuMillis).toBeLessThanOrEqual(sized.cpuMillis);
    expect(r.memoryMiB).toBeLessThanOrEqual(memoryMiB(sized.memory));
  }
}

/** Whether the pods tolerate the ML node pool's taint and select its label. */
function runOnMlPool(pods: PodSpec[]): boolean {
  return (
    pods.length > 0 &&
    pods.every(
      (p) =>
        (p.tolerations ?? []).some(
          (t) =>
            t.key === mlNodeTaint.key &&
            t.effect === 'NoSchedule' &&
            (t.operator === 'Exists' || (t.operator === 'Equal' && t.value === mlNodeTaint.value)),
        ) && p.nodeSelector?.[mlNodeTaint.key] === mlNodeTaint.value,
    )
  );
}

const manifestsOf = (id: string): Manifest[] => synthesize(id).manifests as unknown as Manifest[];
/** Only a model with a drift baseline has a drift job (deploy/k8s/config.ts). */
const hasDriftJob = driftBaselineFile !== undefined;

describe.each(gcpEnvironments.map((env) => [env.id, env] as const))(
  '%s: GKE and GCP',
  (id, env) => {
    const g = env.gcp;
    const tf: TerraformJson = synthStack(id).tf;
    const manifests = manifestsOf(id);
    const pods = servicePods(manifests);
    const drift = driftPods(manifests);
    const emailOf = (identity: string): string => {
      const created = resource(tf, 'google_service_account', identity);
      return `${String(created.account_id)}@${String(created.project)}.iam.gserviceaccount.com`;
    };
    /** The Workload Identity member bound to the service account the stack creates as `identity`. */
    const trustedMember = (identity: string): string => {
      const bindings = Object.values(resources(tf, 'google_service_account_iam_member')).filter(
        (r) =>
          r.role === 'roles/iam.workloadIdentityUser' &&
          r.service_account_id === `\${google_service_account.${identity}.name}`,
      );
      expect(bindings).toHaveLength(1);
      return String(bindings[0]!.member);
    };
    const pool = (): string =>
      (
        resource(tf, 'google_container_cluster', 'cluster').workload_identity_config as {
          workload_pool: string;
        }
      ).workload_pool;
    /** Bucket grants of a service account by email: role, and the object or list prefix its condition allows. */
    const grantsOf = (email: string) =>
      Object.values(resources(tf, 'google_storage_bucket_iam_member'))
        .filter((r) => r.member === `serviceAccount:${email}`)
        .map((r) => {
          const condition = String((r.condition as Block | undefined)?.expression ?? '');
          return {
            role: String(r.role),
            objects: /objects\/([^"]*)"\)$/.exec(condition)?.[1],
            list: /objectListPrefix", ""\)\.startsWith\("([^"]*)"\)$/.exec(condition)?.[1],
            unconditional: condition === '',
          };
        });
    const readable = (email: string, key: string): boolean =>
      grantsOf(email).some(
        (gr) =>
          gr.unconditional ||
          (gr.role === 'roles/storage.objectViewer' &&
            gr.objects !== undefined &&
            key.startsWith(gr.objects)),
      );

    it('the service account annotation names the service account the stack creates', () => {
      const email = emailOf('service-identity');
      expect(
        serviceAccountOf(manifests).metadata.annotations?.['iam.gke.io/gcp-service-account'],
      ).toBe(email);
      expect(email).toBe(g.serviceAccountEmail);
    });

    it('that identity trusts exactly the Kubernetes service account the pods run as', () => {
      const sa = podServiceAccount(manifests, pods);
      expect(sa.metadata.name).toBe(service.serviceAccount);
      expect(trustedMember('service-identity')).toBe(
        `serviceAccount:${pool()}[${sa.metadata.namespace}/${sa.metadata.name}]`,
      );
    });

    it.runIf(hasDriftJob)(
      "the drift CronJob's service account names the drift identity the stack creates, which trusts exactly it",
      () => {
        const sa = podServiceAccount(manifests, drift);
        expect(sa.metadata.name).toBe(service.driftServiceAccount);
        const email = emailOf('drift-identity');
        expect(sa.metadata.annotations?.['iam.gke.io/gcp-service-account']).toBe(email);
        expect(email).toBe(g.driftServiceAccountEmail);
        expect(email).not.toBe(emailOf('service-identity'));
        expect(trustedMember('drift-identity')).toBe(
          `serviceAccount:${pool()}[${sa.metadata.namespace}/${sa.metadata.name}]`,
        );
      },
    );

    it('every namespaced object is in the one namespace the identities trust', () => {
      expect(namespacesOf(manifests)).toEqual([g.namespace]);
      expect(trustedMember('service-identity')).toContain(`[${g.namespace}/`);
      expect(trustedMember('drift-identity')).toContain(`[${g.namespace}/`);
    });

    it('the init container reads the bucket the stack creates, under the path the identity may read', () => {
      const bucket = String(resource(tf, 'google_storage_bucket', 'model-bucket').name);
      const uris = modelUris(pods);
      expect(uris.length).toBeGreaterThan(0);
      for (const uri of uris) {
        const location = modelLocation(uri);
        expect(location.bucket).toBe(bucket);
        expect(readable(g.serviceAccountEmail, location.key)).toBe(true);
      }
    });

    it('the sidecar ships to exactly the prediction log folder the stack lets the service identity create objects in', () => {
      const bucket = String(resource(tf, 'google_storage_bucket', 'model-bucket').name);
      const logs = predictionLogLocation(env.predictionLogUri);
      const creates = grantsOf(g.serviceAccountEmail).filter(
        (gr) => gr.role === 'roles/storage.objectCreator',
      );
      expect(creates.map((gr) => gr.objects)).toEqual([logs.prefix]);
      const sinks = shippedTo(manifests, pods);
      // Three logs per pod: predictions, feedback (POST /feedback), the challenger's outputs.
      expect(sinks.length).toBe(pods.length * 3);
      for (const sink of sinks) {
        expect(sink.type).toBe('gcp_cloud_storage');
        expect(sink.bucket).toBe(bucket);
        expect(sink.keyPrefix.startsWith(logs.prefix)).toBe(true);
      }
    });

    it.runIf(hasDriftJob)(
      'the drift job reads the prediction log folder its identity may read and list, and nothing else',
      () => {
        const logs = predictionLogLocation(env.predictionLogUri);
        const grants = grantsOf(g.driftServiceAccountEmail);
        expect(grants.filter((gr) => gr.objects !== undefined).map((gr) => gr.objects)).toEqual([
          logs.prefix,
        ]);
        expect(grants.filter((gr) => gr.list !== undefined).map((gr) => gr.list)).toEqual([
          logs.prefix,
        ]);
        expect(modelUris(drift)).toEqual([]);
        const uris = envValues(drift, 'PREDICTION_LOG_URI');
        expect(uris.length).toBeGreaterThan(0);
        for (const uri of uris) expect(uri).toBe(env.predictionLogUri);
      },
    );

    it('the service identity cannot read the prediction logs; the drift identity cannot read the model', () => {
      const logs = predictionLogLocation(env.predictionLogUri);
      const model = modelLocation(env.modelUri);
      expect(overlap(logs.prefix, model.readPrefix)).toBe(false);
      expect(readable(g.serviceAccountEmail, `${logs.prefix}dt=2030-01-01/x.jsonl`)).toBe(false);
      expect(grantsOf(g.serviceAccountEmail).some((gr) => gr.list !== undefined)).toBe(false);
      expect(readable(g.driftServiceAccountEmail, model.key)).toBe(false);
      for (const f of ['model.onnx', 'drift_baseline.json']) {
        expect(readable(g.driftServiceAccountEmail, `${model.readPrefix}x/${f}`)).toBe(false);
      }
    });

    it('the image lives in the Artifact Registry repository the bootstrap stack creates', () => {
      const repo = Object.values(
        resources(synthStack('gcp-bootstrap').tf, 'google_artifact_registry_repository'),
      )[0]!;
      expect(
        g.image.startsWith(
          `${String(repo.location)}-docker.pkg.dev/${g.project}/${String(repo.repository_id)}/`,
        ),
      ).toBe(true);
    });

    it('the pods tolerate the ML node pool taint and select its label, and fit the share the pool is sized for', () => {
      expect(runOnMlPool(pods)).toBe(true);
      fitsSizedPod(pods);
    });
  },
);

describe.each(awsEnvironments.map((env) => [env.id, env] as const))(
  '%s: EKS and AWS',
  (id, env) => {
    const a = env.aws;
    const tf: TerraformJson = synthStack(id).tf;
    const manifests = manifestsOf(id);
    const pods = servicePods(manifests);
    const drift = driftPods(manifests);
    const arnOf = (role: string): string =>
      `arn:${a.partition}:iam::${a.accountId}:role/${String(resource(tf, 'aws_iam_role', role).name)}`;
    /** The `sub` the role the stack creates as `role` trusts. */
    const trustedSubject = (role: string): string[] | undefined => {
      const trust = (
        referencedPolicyDocument(tf, resource(tf, 'aws_iam_role', role).assume_role_policy)
          .statement as Block[]
      )[0]!;
      return (trust.condition as Array<{ variable: string; values: string[] }>).find((c) =>
        c.variable.endsWith(':sub'),
      )?.values;
    };
    /** The S3 statements of a role: actions, resources and conditions. */
    const s3Of = (role: string): Block[] =>
      Object.values(resources(tf, 'aws_iam_role_policy'))
        .filter((p) => p.role === `\${aws_iam_role.${role}.id}`)
        .flatMap((p) => referencedPolicyDocument(tf, p.policy).statement as Block[])
        .filter((st) => (st.actions as string[]).some((x) => x.startsWith('s3:')));
    const objectArn = (bucket: string, key: string): string =>
      `arn:${a.partition}:s3:::${bucket}/${key}`;
    const allows = (role: string, action: string, arn: string): boolean =>
      s3Of(role).some(
        (st) =>
          ((st.actions as string[]).includes(action) ||
            (st.actions as string[]).includes('s3:*')) &&
          (st.resources as string[]).some((r) =>
            r.endsWith('*') ? arn.startsWith(r.slice(0, -1)) : arn === r,
          ),
      );

    it('the service account annotation names the IAM role the stack creates', () => {
      const arn = arnOf('service-identity');
      expect(serviceAccountOf(manifests).metadata.annotations?.['eks.amazonaws.com/role-arn']).toBe(
        arn,
      );
      expect(arn).toBe(a.roleArn);
    });

    it('that role trusts exactly the Kubernetes service account the pods run as', () => {
      const sa = podServiceAccount(manifests, pods);
      expect(sa.metadata.name).toBe(service.serviceAccount);
      expect(trustedSubject('service-identity')).toEqual([
        `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`,
      ]);
    });

    it.runIf(hasDriftJob)(
      "the drift CronJob's service account names the drift role the stack creates, which trusts exactly it",
      () => {
        const sa = podServiceAccount(manifests, drift);
        expect(sa.metadata.name).toBe(service.driftServiceAccount);
        const arn = arnOf('drift-identity');
        expect(sa.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBe(arn);
        expect(arn).toBe(a.driftRoleArn);
        expect(arn).not.toBe(a.roleArn);
        expect(trustedSubject('drift-identity')).toEqual([
          `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`,
        ]);
      },
    );

    it('every namespaced object is in the one namespace the roles trust', () => {
      expect(namespacesOf(manifests)).toEqual([a.namespace]);
      expect(trustedSubject('service-identity')?.[0]).toContain(`:${a.namespace}:`);
      expect(trustedSubject('drift-identity')?.[0]).toContain(`:${a.namespace}:`);
    });

    it('the init container reads the bucket the stack creates, under the path the role may read', () => {
      const bucket = String(resource(tf, 'aws_s3_bucket', 'model-bucket').bucket);
      const uris = modelUris(pods);
      expect(uris.length).toBeGreaterThan(0);
      for (const uri of uris) {
        const location = modelLocation(uri);
        expect(location.bucket).toBe(bucket);
        expect(
          allows('service-identity', 's3:GetObject', objectArn(location.bucket, location.key)),
        ).toBe(true);
      }
    });

    it('the sidecar ships to exactly the prediction log folder the stack lets the service role put objects in', () => {
      const bucket = String(resource(tf, 'aws_s3_bucket', 'model-bucket').bucket);
      const logs = predictionLogLocation(env.predictionLogUri);
      const puts = s3Of('service-identity').filter((st) =>
        (st.actions as string[]).includes('s3:PutObject'),
      );
      expect(puts.flatMap((st) => st.resources as string[])).toEqual([
        objectArn(bucket, `${logs.prefix}*`),
      ]);
      const sinks = shippedTo(manifests, pods);
      // Three logs per pod: predictions, feedback (POST /feedback), the challenger's outputs.
      expect(sinks.length).toBe(pods.length * 3);
      for (const sink of sinks) {
        expect(sink.type).toBe('aws_s3');
        expect(sink.bucket).toBe(bucket);
        expect(sink.keyPrefix.startsWith(logs.prefix)).toBe(true);
      }
    });

    it.runIf(hasDriftJob)(
      'the drift job reads the prediction log folder its role may read and list, and nothing else',
      () => {
        const bucket = String(resource(tf, 'aws_s3_bucket', 'model-bucket').bucket);
        const logs = predictionLogLocation(env.predictionLogUri);
        expect(
          allows(
            'drift-identity',
            's3:GetObject',
            objectArn(bucket, `${logs.prefix}dt=2030-01-01/x.jsonl`),
          ),
        ).toBe(true);
        const list = s3Of('drift-identity').filter((st) =>
          (st.actions as string[]).includes('s3:ListBucket'),
        );
        expect(list.map((st) => st.condition)).toEqual([
          [{ test: 'StringLike', variable: 's3:prefix', values: [`${logs.prefix}*`] }],
        ]);
        expect(modelUris(drift)).toEqual([]);
        const uris = envValues(drift, 'PREDICTION_LOG_URI');
        expect(uris.length).toBeGreaterThan(0);
        for (const uri of uris) expect(uri).toBe(env.predictionLogUri);
      },
    );

    it('the service role cannot read the prediction logs; the drift role cannot read the model', () => {
      const bucket = String(resource(tf, 'aws_s3_bucket', 'model-bucket').bucket);
      const logs = predictionLogLocation(env.predictionLogUri);
      const model = modelLocation(env.modelUri);
      expect(overlap(logs.prefix, model.readPrefix)).toBe(false);
      expect(
        allows(
          'service-identity',
          's3:GetObject',
          objectArn(bucket, `${logs.prefix}dt=2030-01-01/x.jsonl`),
        ),
      ).toBe(false);
      expect(
        s3Of('service-identity').some((st) =>
          (st.actions as string[]).some((x) => /List|Delete/.test(x)),
        ),
      ).toBe(false);
      expect(allows('drift-identity', 's3:GetObject', objectArn(bucket, model.key))).toBe(false);
      expect(
        allows(
          'drift-identity',
          's3:GetObject',
          objectArn(bucket, `${model.readPrefix}x/drift_baseline.json`),
        ),
      ).toBe(false);
      expect(
        s3Of('drift-identity').some((st) =>
          (st.actions as string[]).some((x) => /Put|Delete/.test(x)),
        ),
      ).toBe(false);
    });

    it('the image lives in the ECR repository the bootstrap stack creates', () => {
      const repo = Object.values(
        resources(synthStack('aws-bootstrap').tf, 'aws_ecr_repository'),
      )[0]!;
      expect(a.image).toBe(`${a.accountId}.dkr.ecr.${a.region}.amazonaws.com/${String(repo.name)}`);
    });

    it('the pods tolerate the ML node group taint and select its label, and fit the share the group is sized for', () => {
      expect(runOnMlPool(pods)).toBe(true);
      fitsSizedPod(pods);
    });
  },
);
