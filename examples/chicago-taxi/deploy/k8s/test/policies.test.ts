/**
 * The policy catalogue in the cluster: every environment emits the admission policies of
 * policies/kubernetes exactly as written (the objects `npm run check` evaluates), bound to the
 * environment's namespace with Deny in prod and Warn elsewhere, and the API server's verdict on
 * every synthesized object (the same CEL, evaluated by scripts/check) is "admitted".
 */
import { describe, expect, it } from 'vitest';
import { evaluate, loadCatalogue } from '../../../scripts/check/check.js';
import { synthesize } from '../app.js';
import { admissionPolicies, policiesDir } from '../policies.js';
import { defaults, envIds, manifestModel } from './support.js';

const policies = admissionPolicies();
const catalogue = loadCatalogue(policiesDir().replace(/[\\/]kubernetes$/, ''));
const admission = catalogue.policies.filter((p) => p.kind === 'admission');

describe('admission policies', () => {
  it('are the catalogue: one per policies/kubernetes file', () => {
    expect(policies.map((p) => p.id)).toEqual(admission.map((p) => p.id));
    expect(policies.length).toBeGreaterThan(0);
  });

  it.each(envIds)('%s: emits each policy of its stage unchanged, bound to its namespace', (id) => {
    const s = defaults.find((x) => x.env.id === id)!;
    const namespace = s.manifests.find((m) => m.kind === 'Namespace')!.metadata.name;
    for (const policy of policies) {
      const emitted = s.manifests.filter(
        (m) => m.kind === 'ValidatingAdmissionPolicy' && m.metadata.name === policy.name,
      );
      const bindings = s.manifests.filter(
        (m) =>
          m.kind === 'ValidatingAdmissionPolicyBinding' &&
          (m.spec as { policyName: string }).policyName === policy.name,
      );
      if (!policy.stages.includes(s.env.stage)) {
        expect([emitted.length, bindings.length], policy.id).toEqual([0, 0]);
        continue;
      }
      expect(emitted, policy.id).toEqual([policy.object]);
      expect(
        bindings.map((b) => b.spec),
        policy.id,
      ).toEqual([
        {
          policyName: policy.name,
          validationActions: s.env.stage === 'prod' ? ['Deny'] : ['Warn'],
          matchResources: {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
          },
        },
      ]);
    }
  });

  it('admit every object of every environment', () => {
    const { findings } = evaluate(admission, manifestModel(defaults));
    expect(findings).toEqual([]);
  });

  it('refuse what they are for: a memory metric in the HPA (MLOPS-010)', () => {
    const prod = defaults.filter((s) => s.env.stage === 'prod').slice(0, 1);
    const model = manifestModel(prod);
    const hpa = model.manifests![0]!.objects.find((o) => o.kind === 'HorizontalPodAutoscaler');
    hpa.spec.metrics.push({
      type: 'Resource',
      resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } },
    });
    const { findings } = evaluate(admission, model);
    expect(findings.map((f) => f.policy)).toEqual(['MLOPS-010']);
  });

  it('resynthesize the same objects (the files are read on every synthesis)', () => {
    const again = synthesize(envIds[0]!);
    const first = defaults.find((s) => s.env.id === envIds[0])!;
    expect(again.manifests.filter((m) => m.kind.startsWith('ValidatingAdmission'))).toEqual(
      first.manifests.filter((m) => m.kind.startsWith('ValidatingAdmission')),
    );
  });
});
