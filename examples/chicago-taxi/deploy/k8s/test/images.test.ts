/**
 * Images: prod runs only digests. The service image is left for CI to pin (`kustomize edit set
 * image`), the init images are pinned here, a tag or a placeholder never ships, and the
 * catalogue's MLOPS-016, emitted and bound Deny for prod, rejects a pod without digests (its CEL
 * evaluated here as the API server would, with @marcbachmann/cel-js).
 */
import { evaluate } from '@marcbachmann/cel-js';
import { describe, expect, it } from 'vitest';
import type { Synthesized } from '../app.js';
import { admissionPolicies, bindingName } from '../policies.js';
import {
  awsCliImage,
  gcloudImage,
  imageReference,
  pinnedReference,
  vectorImage,
} from '../images.js';
import type { Manifest } from '../validate.js';
import { all, containersOf, find, one, podTemplates } from './support.js';

type Entry = { name: string; newName?: string; newTag?: string; digest?: string };

/** What `kustomize build` does with an `images:` entry (the part CI relies on). */
function applyImages(manifests: readonly Manifest[], entries: readonly Entry[]): Manifest[] {
  const copy = structuredClone(manifests) as any[];
  const visit = (node: any): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    if (typeof node.image === 'string' && typeof node.name === 'string') {
      const m = /^(.*?)(?::([\w][\w.-]*))?(?:@(sha256:[a-f0-9]+))?$/.exec(node.image)!;
      const entry = entries.find((e) => e.name === m[1]);
      if (entry) {
        const tag = entry.digest
          ? `@${entry.digest}`
          : entry.newTag
            ? `:${entry.newTag}`
            : m[2]
              ? `:${m[2]}`
              : m[3]
                ? `@${m[3]}`
                : '';
        node.image = `${entry.newName ?? m[1]}${tag}`;
      }
    }
    Object.values(node).forEach(visit);
  };
  visit(copy);
  return copy;
}

const digestPolicy = admissionPolicies().find((p) => p.id === 'MLOPS-016')!;
const digestSpec = (digestPolicy.object as any).spec as {
  variables: Array<{ name: string; expression: string }>;
  validations: Array<{ expression: string }>;
};

/** MLOPS-016's verdict on one object, as the API server computes it: variables in order, then every validation. */
function admits(object: unknown): boolean {
  const variables: Record<string, unknown> = {};
  for (const v of digestSpec.variables) {
    variables[v.name] = evaluate(v.expression, { object, variables });
  }
  return digestSpec.validations.every(
    (v) => evaluate(v.expression, { object, variables }) === true,
  );
}

const digest = `sha256:${'3f'.repeat(32)}`;
const prods = all.filter((s) => s.env.stage === 'prod');
const others = all.filter((s) => s.env.stage !== 'prod');

function imagesOf(s: Synthesized): string[] {
  return podTemplates(s).flatMap((p) => containersOf(p.spec).map((c) => c.image!));
}

describe('init and sidecar images', () => {
  it('are pinned by a well-formed digest, never a placeholder', () => {
    for (const image of [gcloudImage, awsCliImage, vectorImage]) {
      const ref = imageReference(image);
      expect(ref).toMatch(pinnedReference);
      expect(image.digest).not.toMatch(/placeholder|^sha256:(0+|f+)$/);
      expect(image.tag).not.toMatch(/^latest$|^slim$|^stable$/);
    }
    for (const s of all) {
      for (const p of podTemplates(s)) {
        for (const c of p.spec.initContainers ?? [])
          expect(c.image, `${s.env.id} ${p.owner}`).toMatch(pinnedReference);
      }
    }
  });
});

describe.each(prods.map((s) => [s.env.id, s] as const))('%s', (_id, s) => {
  it('has no tag-only image: each is a digest or the service repository left for CI to pin', () => {
    const entries = s.kustomization.images;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toEqual({ name: s.env.image });
    expect(entries[0]!.newTag).toBeUndefined();
    for (const image of imagesOf(s)) {
      const leftForCi = image === entries[0]!.name;
      expect(leftForCi || pinnedReference.test(image), image).toBe(true);
      expect(image, 'no tag on the service image').not.toMatch(new RegExp(`^${s.env.image}:`));
    }
  });

  it("emits the catalogue's digest policy (MLOPS-016), bound to the namespace, denying", () => {
    const policy = one(s, 'ValidatingAdmissionPolicy', digestPolicy.name) as any;
    expect(policy.spec).toEqual((digestPolicy.object as any).spec);
    const resources = policy.spec.matchConstraints.resourceRules
      .flatMap((r: any) => r.resources)
      .sort();
    expect(resources).toEqual(expect.arrayContaining(['cronjobs', 'deployments', 'jobs', 'pods']));
    const namespace = one(s, 'Namespace').metadata.name;
    const binding = one(
      s,
      'ValidatingAdmissionPolicyBinding',
      bindingName(digestPolicy, namespace),
    ) as any;
    expect(binding.spec.policyName).toBe(policy.metadata.name);
    expect(binding.spec.validationActions).toEqual(['Deny']);
    expect(binding.spec.matchResources.namespaceSelector.matchLabels).toEqual({
      'kubernetes.io/metadata.name': namespace,
    });
  });

  const workloads = () => [...find(s, 'Deployment'), ...find(s, 'Rollout'), ...find(s, 'CronJob')];
  const asPod = (m: Manifest) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: (m.spec as any).template.spec,
  });

  it('admission rejects the manifests as synthesized: CI has not pinned the service image yet', () => {
    for (const w of workloads()) expect(admits(w), `${w.kind}/${w.metadata.name}`).toBe(false);
  });

  it('admission rejects a tag and a placeholder digest', () => {
    for (const pin of [
      { newTag: '1.2.3' },
      { newTag: 'latest' },
      { digest: 'sha256:placeholder' },
    ]) {
      const pinned = applyImages(workloads(), [{ name: s.env.image, ...pin }]);
      for (const w of pinned) expect(admits(w), `${w.kind} ${JSON.stringify(pin)}`).toBe(false);
    }
  });

  it('admission accepts the manifests once CI pinned the digest (kustomize edit set image)', () => {
    const entry = { name: s.env.image, newName: s.env.image, digest };
    const pinned = applyImages(workloads(), [entry]);
    for (const w of pinned) {
      expect(admits(w), `${w.kind}/${w.metadata.name}`).toBe(true);
      if (w.kind === 'Deployment' || w.kind === 'Rollout') expect(admits(asPod(w))).toBe(true);
    }
    expect(
      imagesOf({ ...s, manifests: applyImages(s.manifests, [entry]) }).every((i) =>
        pinnedReference.test(i),
      ),
    ).toBe(true);
  });
});

describe('dev and staging', () => {
  it('leave the service image for CI too, without the digest admission policy', () => {
    for (const s of others) {
      expect(s.kustomization.images).toEqual([{ name: s.env.image }]);
      expect(find(s, 'ValidatingAdmissionPolicy', digestPolicy.name)).toEqual([]);
    }
  });
});

it('has a prod environment per cloud', () => {
  expect(prods.map((s) => s.env.cloud).sort()).toEqual(
    [...new Set(all.map((s) => s.env.cloud))].sort(),
  );
});

describe('registries', () => {
  it('EKS pulls no image from Docker Hub that ECR Public publishes (the AWS CLI)', () => {
    expect(awsCliImage.repository.startsWith('public.ecr.aws/')).toBe(true);
    for (const s of all.filter((x) => x.env.cloud === 'aws')) {
      for (const pod of podTemplates(s)) {
        for (const c of containersOf(pod.spec)) {
          if (c.image?.includes('aws-cli')) expect(c.image).toBe(imageReference(awsCliImage));
        }
      }
    }
  });
});
