/**
 * The joins between this layer and the cloud stacks (deploy/infra): both read deploy/plan.ts, and
 * these tests pin what the Kubernetes side does with it. The Python template this project learns
 * from broke Workload Identity because its two layers spelled these names differently.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { model, service } from '../../plan.js';
import { mlNodePool } from '../config.js';
import { all, containersOf, one, podTemplates } from './support.js';

const envs = all.map((s) => [s.env.id, s] as const);

describe.each(envs)('%s', (_id, s) => {
  const plan = s.env.plan;

  it('annotates the service account with the identity the cloud stack creates', () => {
    const sa = one(s, 'ServiceAccount');
    expect(sa.metadata.name).toBe(service.serviceAccount);
    expect(sa.metadata.namespace).toBe(service.namespace);
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
      expect(plan.aws!.roleArn).toMatch(new RegExp(`^arn:aws:iam::${plan.aws!.accountId}:role/`));
      expect(
        Object.keys(sa.metadata.annotations ?? {}).filter((k) => k.startsWith('iam.gke.io')),
      ).toEqual([]);
    }
  });

  it('runs every pod as that service account', () => {
    for (const p of podTemplates(s))
      expect(p.spec.serviceAccountName, p.owner).toBe(service.serviceAccount);
  });

  it('fetches the model from the bucket the stack creates, and checks its hash', () => {
    const bucket = plan.cloud === 'gcp' ? plan.gcp!.modelBucket : plan.aws!.modelBucket;
    const scheme = plan.cloud === 'gcp' ? 'gs' : 's3';
    for (const p of podTemplates(s)) {
      const init = p.spec.initContainers ?? [];
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

// When the cloud stacks are in this project, join with their own constants rather than with a copy.
const localNames = fileURLToPath(new URL('../../infra/lib/local-names.ts', import.meta.url));
describe.runIf(existsSync(localNames))('deploy/infra', () => {
  it('taints and labels the ML node pool the way these pods tolerate and select', async () => {
    const infra = (await import(pathToFileURL(localNames).href)) as {
      mlNodeTaint?: { key: string; value: string };
    };
    expect(infra.mlNodeTaint).toEqual(mlNodePool);
  });
});
