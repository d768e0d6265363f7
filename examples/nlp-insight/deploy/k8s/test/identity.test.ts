/**
 * The joins between this layer and the cloud stacks (deploy/infra): both read deploy/plan.ts, and
 * these tests pin what the Kubernetes side does with it. The Python template this project learns
 * from broke Workload Identity because its two layers spelled these names differently.
 */
import { describe, expect, it } from 'vitest';
import { environments, model, service } from '../../plan.js';
import { mlNodePool } from '../config.js';
import { all, containersOf, find, isInference, one, podTemplates } from './support.js';

const envs = all.map((s) => [s.env.id, s] as const);

describe.each(envs)('%s', (_id, s) => {
  const plan = s.env.plan;
  const names = (plan.gcp ?? plan.aws)!;

  it('annotates the service account with the identity the cloud stack creates', () => {
    const sa = find(s, 'ServiceAccount', service.serviceAccount)[0]!;
    expect(sa.metadata.name).toBe(service.serviceAccount);
    expect(sa.metadata.namespace).toBe(names.namespace);
    if (plan.cloud === 'gcp') {
      expect(sa.metadata.annotations).toEqual({
        'iam.gke.io/gcp-service-account': plan.gcp!.serviceAccountEmail,
      });
      // The stack binds roles/iam.workloadIdentityUser to this member: it must name this very KSA.
      const member = /^serviceAccount:([^[]+)\.svc\.id\.goog\[([^/\]]+)\/([^\]]+)\]$/.exec(
        plan.gcp!.workloadIdentityMember,
      );
      expect(member, plan.gcp!.workloadIdentityMember).not.toBeNull();
      expect(member![1]).toBe(plan.gcp!.project);
      expect(`${member![2]}/${member![3]}`).toBe(`${sa.metadata.namespace}/${sa.metadata.name}`);
      expect(plan.gcp!.serviceAccountEmail).toMatch(
        new RegExp(`@${plan.gcp!.project}\\.iam\\.gserviceaccount\\.com$`),
      );
    } else {
      expect(sa.metadata.annotations?.['eks.amazonaws.com/role-arn']).toBe(plan.aws!.roleArn);
      expect(plan.aws!.roleArn).toMatch(
        new RegExp(`^arn:${plan.aws!.partition}:iam::${plan.aws!.accountId}:role/`),
      );
      expect(plan.aws!.irsaSubject).toBe(
        `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`,
      );
      expect(
        Object.keys(sa.metadata.annotations ?? {}).filter((k) => k.startsWith('iam.gke.io')),
      ).toEqual([]);
    }
  });

  it.runIf(s.env.drift.enabled)(
    'annotates the drift job service account with the drift identity, not the service one',
    () => {
      const sa = find(s, 'ServiceAccount', service.driftServiceAccount)[0]!;
      expect(sa.metadata.namespace).toBe(names.namespace);
      expect(sa.automountServiceAccountToken).toBe(false);
      if (plan.cloud === 'gcp') {
        expect(sa.metadata.annotations).toEqual({
          'iam.gke.io/gcp-service-account': plan.gcp!.driftServiceAccountEmail,
        });
        expect(plan.gcp!.driftServiceAccountEmail).not.toBe(plan.gcp!.serviceAccountEmail);
        expect(plan.gcp!.driftWorkloadIdentityMember).toBe(
          `serviceAccount:${plan.gcp!.project}.svc.id.goog[${sa.metadata.namespace}/${sa.metadata.name}]`,
        );
      } else {
        expect(sa.metadata.annotations).toEqual({
          'eks.amazonaws.com/role-arn': plan.aws!.driftRoleArn,
          'eks.amazonaws.com/sts-regional-endpoints': 'true',
        });
        expect(plan.aws!.driftRoleArn).not.toBe(plan.aws!.roleArn);
        expect(plan.aws!.driftIrsaSubject).toBe(
          `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`,
        );
      }
    },
  );

  it('runs the service pods as the service account and the drift job as its own', () => {
    for (const p of podTemplates(s)) {
      expect(p.spec.serviceAccountName, p.owner).toBe(
        p.owner.startsWith('CronJob/') ? service.driftServiceAccount : service.serviceAccount,
      );
    }
  });

  it('fetches the model from the bucket the stack creates, and checks its hash', () => {
    const bucket = plan.cloud === 'gcp' ? plan.gcp!.modelBucket : plan.aws!.modelBucket;
    const scheme = plan.cloud === 'gcp' ? 'gs' : 's3';
    const deployments = podTemplates(s).filter((p) => isInference(p.owner));
    expect(deployments).toHaveLength(1);
    for (const p of deployments) {
      // Init steps, not sidecars (restartPolicy: Always).
      const init = (p.spec.initContainers ?? []).filter((c) => c.restartPolicy !== 'Always');
      expect(init.length, p.owner).toBe(1);
      const env = Object.fromEntries((init[0]!.env ?? []).map((e) => [e.name, e.value]));
      expect(env.MODEL_URI).toBe(plan.modelUri);
      const uri = /^(gs|s3):\/\/([^/]+)\/(.+)$/.exec(env.MODEL_URI!);
      expect(uri?.[1]).toBe(scheme);
      expect(uri?.[2]).toBe(bucket);
      expect(uri?.[3]).toMatch(new RegExp(`/${model.version.replace(/\./g, '\\.')}/model\\.onnx$`));
      expect(env.MODEL_SHA256).toBe(model.sha256);
      const script = init[0]!.command!.join('\n');
      expect(script).toContain(
        plan.cloud === 'gcp'
          ? 'gcloud storage cp "$MODEL_URI"'
          : 'aws s3 cp --only-show-errors "$MODEL_URI"',
      );
      expect(script).toContain('sha256sum -c');
      // The identity may read objects, not list the bucket: fetch by name only.
      expect(init[0]!.command!.join('\n')).not.toMatch(/rsync|s3 sync/);
    }
  });

  it('never gives the drift job the model: it reads the prediction log and the baseline ConfigMap', () => {
    for (const p of podTemplates(s).filter((x) => x.owner.startsWith('CronJob/'))) {
      for (const c of containersOf(p.spec)) {
        const vars = (c.env ?? []).map((e) => e.name);
        expect(vars, `${p.owner} ${c.name}`).not.toContain('MODEL_URI');
        expect(JSON.stringify(c.command ?? []), `${p.owner} ${c.name}`).not.toContain('model.onnx');
      }
    }
  });

  it('deploys the image repository the stack creates', () => {
    const image = plan.cloud === 'gcp' ? plan.gcp!.image : plan.aws!.image;
    for (const p of podTemplates(s)) {
      const own = containersOf(p.spec).filter((c) => !(p.spec.initContainers ?? []).includes(c));
      for (const c of own) expect(c.image, p.owner).toBe(image);
    }
    expect(s.kustomization.images.map((i) => i.name)).toEqual([image]);
  });

  it('schedules on the node pool the stack creates for the service', () => {
    for (const p of podTemplates(s)) {
      expect(p.spec.nodeSelector?.[mlNodePool.key], p.owner).toBe(mlNodePool.value);
      expect(p.spec.tolerations, p.owner).toContainEqual({
        key: mlNodePool.key,
        operator: 'Equal',
        value: mlNodePool.value,
        effect: 'NoSchedule',
      });
    }
  });
});

describe('namespaces', () => {
  it('gives every stage its own namespace: the stages share one Workload Identity pool', () => {
    const byStage = new Map<string, Set<string>>();
    for (const s of all) {
      const ns = one(s, 'Namespace').metadata.name;
      expect(ns).toBe(s.env.namespace);
      byStage.set(s.env.stage, (byStage.get(s.env.stage) ?? new Set()).add(ns));
    }
    const perStage = [...byStage.values()].map((set) => [...set]);
    // One namespace per stage, the same on both clouds, and no two stages alike.
    for (const set of perStage) expect(set).toHaveLength(1);
    expect(new Set(perStage.flat()).size).toBe(byStage.size);
    expect(byStage.size).toBe(new Set(environments.map((e) => e.stage)).size);
  });
});
