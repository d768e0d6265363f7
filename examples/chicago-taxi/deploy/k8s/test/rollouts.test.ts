/**
 * Canary delivery (config.ts `delivery`, rollout.ts, docs/adr/0018): with it on, the Rollout runs
 * the very pod template the Deployment would (the parity guard the Python template lacked), the
 * HPA, PDB and NetworkPolicies follow it, the admission policies judge it like a Deployment, the
 * deploy identity may apply, promote and abort it; with it off, the Deployment is as before.
 */
import { describe, expect, it } from 'vitest';
import { evaluate, loadCatalogue } from '../../../scripts/check/check.js';
import { progressiveDelivery, resolveEnvironment } from '../config.js';
import { applyVerbs } from '../deploy-access.js';
import { admissionPolicies, policiesDir } from '../policies.js';
import {
  canaryHashArg,
  canaryHashLabel,
  canaryRelabeling,
  rolloutHashPodLabel,
} from '../rollout.js';
import type { Synthesized } from '../app.js';
import { canary, defaults, find, manifestModel, noCanary, one, selects } from './support.js';

/** The deploy job's own mapping of a manifest to the resource `kubectl auth can-i` asks about. */
const deployScript = new URL('../../../scripts/ci/deploy.mjs', import.meta.url).href;
const { resourceOf } = (await import(deployScript)) as {
  resourceOf(m: { apiVersion: string; kind: string }): string;
};

const pairs = canary.map((on) => {
  const off = noCanary.find((x) => x.env.id === on.env.id)!;
  return [on.env.id, on, off] as const;
});

const kinds = (s: Synthesized) => s.manifests.map((m) => `${m.apiVersion} ${m.kind}`).sort();

describe('without canary delivery', () => {
  it.each(noCanary.map((s) => [s.env.id, s] as const))(
    '%s: a Deployment as before: no Argo Rollouts kind, the HPA scales the Deployment',
    (_id, s) => {
      expect(kinds(s).filter((k) => k.startsWith('argoproj.io/'))).toEqual([]);
      expect(find(s, 'Deployment')).toHaveLength(1);
      expect((one(s, 'HorizontalPodAutoscaler') as any).spec.scaleTargetRef.kind).toBe(
        'Deployment',
      );
      const endpoint = (one(s, 'ServiceMonitor') as any).spec.endpoints[0];
      expect(endpoint.relabelings).toBeUndefined();
      const role = find(s, 'Role')[0] as any;
      expect(role.rules.flatMap((r: any) => r.apiGroups)).not.toContain('argoproj.io');
    },
  );

  it('is the default of a project generated without the answer', () => {
    if (progressiveDelivery) return;
    for (const s of defaults) {
      expect(s.env.delivery.canary).toBe(false);
      const off = noCanary.find((x) => x.env.id === s.env.id)!;
      // Same kinds as the explicit "off" synthesis, minus the CRD objects the defaults leave out.
      expect(kinds(s)).toEqual(kinds(off).filter((k) => !k.startsWith('monitoring.coreos.com/')));
    }
  });

  it('is replaced, kind for kind, by a Rollout and its AnalysisTemplate when on', () => {
    for (const [, on, off] of pairs) {
      const swap = (k: string) =>
        k === 'apps/v1 Deployment'
          ? ['argoproj.io/v1alpha1 AnalysisTemplate', 'argoproj.io/v1alpha1 Rollout']
          : [k];
      expect(kinds(on)).toEqual(kinds(off).flatMap(swap).sort());
    }
  });
});

describe('an environment with canary delivery is refused when its analysis would see no data', () => {
  const id = canary[0]!.env.id;
  it('without the ServiceMonitor that labels the series with their version', () => {
    expect(() =>
      resolveEnvironment(id, {
        delivery: { canary: true },
        monitoring: { prometheusOperator: false },
        network: { prometheusNamespace: 'monitoring' },
      }),
    ).toThrow(/delivery.canary needs monitoring.prometheusOperator/);
  });

  it('when the Prometheus it queries is not the one allowed to scrape the pods', () => {
    expect(() =>
      resolveEnvironment(id, {
        delivery: { canary: true },
        monitoring: { prometheusOperator: true },
        network: { prometheusNamespace: 'gmp-system' },
      }),
    ).toThrow(/prometheusAddress is in namespace monitoring, but network.prometheusNamespace/);
  });

  it('with weights that do not increase, or a failure limit that can never be reached', () => {
    const base = {
      monitoring: { prometheusOperator: true },
      network: { prometheusNamespace: 'monitoring' },
    };
    expect(() =>
      resolveEnvironment(id, { ...base, delivery: { canary: true, weights: [50, 10] } }),
    ).toThrow(/delivery.weights/);
    expect(() =>
      resolveEnvironment(id, {
        ...base,
        delivery: { canary: true, analysis: { count: 2, failureLimit: 2 } },
      }),
    ).toThrow(/failureLimit must be below count/);
  });
});

describe.each(pairs)('%s with canary delivery', (_id, on, off) => {
  const rollout = one(on, 'Rollout') as any;
  const deployment = one(off, 'Deployment') as any;
  const template = one(on, 'AnalysisTemplate') as any;
  const steps: any[] = rollout.spec.strategy.canary.steps;

  it('runs the pod template of the Deployment: init containers, model check, probes, identity', () => {
    const hashKey = (t: any, key: string) =>
      JSON.parse(JSON.stringify(t).replaceAll(`"${key}"`, '"<hash>"'));
    expect(hashKey(rollout.spec.template, rolloutHashPodLabel)).toEqual(
      hashKey(deployment.spec.template, 'pod-template-hash'),
    );
    const init = rollout.spec.template.spec.initContainers.map((c: any) => c.name);
    expect(init).toEqual(deployment.spec.template.spec.initContainers.map((c: any) => c.name));
    const fetch = rollout.spec.template.spec.initContainers.find((c: any) =>
      (c.env ?? []).some((e: any) => e.name === 'MODEL_SHA256'),
    );
    expect([...(fetch.command ?? []), ...(fetch.args ?? [])].join('\n')).toMatch(/sha256sum -c/);
    // Spread counts the pods of one version, by the label Argo Rollouts puts on them.
    for (const c of rollout.spec.template.spec.topologySpreadConstraints)
      expect(c.matchLabelKeys).toEqual([rolloutHashPodLabel]);
  });

  it('keeps the selector, the history and leaves the replica count to the HPA', () => {
    expect(rollout.spec.selector).toEqual(deployment.spec.selector);
    expect(rollout.spec.revisionHistoryLimit).toBe(deployment.spec.revisionHistoryLimit);
    expect(rollout.spec.progressDeadlineSeconds).toBe(deployment.spec.progressDeadlineSeconds);
    expect(rollout.spec.progressDeadlineAbort).toBe(true);
    expect(rollout.spec.replicas).toBeUndefined();
    expect(rollout.spec.workloadRef).toBeUndefined();
    expect(selects(rollout.spec.selector, rollout.spec.template.metadata.labels)).toBe(true);
  });

  it('the HPA scales the Rollout; the PDB, the Service and the NetworkPolicies select its pods', () => {
    const hpa = one(on, 'HorizontalPodAutoscaler') as any;
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: rollout.apiVersion,
      kind: 'Rollout',
      name: rollout.metadata.name,
    });
    const labels = rollout.spec.template.metadata.labels;
    expect(selects((one(on, 'PodDisruptionBudget') as any).spec.selector, labels)).toBe(true);
    expect(selects({ matchLabels: (one(on, 'Service') as any).spec.selector }, labels)).toBe(true);
    const policies = find(on, 'NetworkPolicy') as any[];
    const ofPods = (list: any[]) =>
      list
        .filter(
          (p) =>
            selects(p.spec.podSelector, labels) || Object.keys(p.spec.podSelector).length === 0,
        )
        .map((p) => p.metadata.name)
        .sort();
    // Exactly the policies that select the Deployment's pods when off.
    expect(ofPods(policies)).toEqual(ofPods(find(off, 'NetworkPolicy') as any[]));
    expect(policies.map((p) => p.spec)).toEqual(find(off, 'NetworkPolicy').map((p: any) => p.spec));
  });

  it('admits no caller but the ingress and Prometheus: the controller queries Prometheus, never the pods', () => {
    const from = (find(on, 'NetworkPolicy') as any[])
      .flatMap((p) => p.spec.ingress ?? [])
      .flatMap((r: any) => r.from ?? [])
      .map((peer: any) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'])
      .filter(Boolean);
    expect(from).not.toContain('argo-rollouts');
    expect(from).toContain(on.env.network.prometheusNamespace);
  });

  it('goes through every weight, each followed by a pause and an analysis of the canary', () => {
    expect(steps.filter((x) => 'setWeight' in x).map((x) => x.setWeight)).toEqual(
      on.env.delivery.weights,
    );
    const weights = on.env.delivery.weights;
    expect(weights.every((w, i) => i === 0 || w > weights[i - 1]!)).toBe(true);
    steps.forEach((step, i) => {
      if (!('setWeight' in step)) return;
      expect(steps[i + 1]).toEqual({ pause: { duration: `${on.env.delivery.pauseSeconds}s` } });
      expect(steps[i + 2].analysis.templates).toEqual([{ templateName: template.metadata.name }]);
      expect(steps[i + 2].analysis.args).toEqual([
        { name: canaryHashArg, valueFrom: { podTemplateHashValue: 'Latest' } },
      ]);
    });
    expect(template.metadata.namespace).toBe(rollout.metadata.namespace);
    expect(template.spec.args).toEqual([{ name: canaryHashArg }]);
  });

  it("analyses the canary's own series: the ServiceMonitor copies the pods' hash onto them", () => {
    const endpoint = (one(on, 'ServiceMonitor') as any).spec.endpoints[0];
    expect(endpoint.relabelings).toEqual([
      {
        sourceLabels: [`__meta_kubernetes_pod_label_${rolloutHashPodLabel.replaceAll('-', '_')}`],
        targetLabel: canaryHashLabel,
        action: 'replace',
      },
    ]);
    expect(canaryRelabeling.targetLabel).toBe(canaryHashLabel);
    for (const metric of template.spec.metrics) {
      const q: string = metric.provider.prometheus.query;
      expect(q, metric.name).toContain(`${canaryHashLabel}="{{args.${canaryHashArg}}}"`);
      expect(q, metric.name).toContain(`namespace="${on.env.namespace}"`);
      expect(metric.provider.prometheus.address).toBe(on.env.delivery.analysis.prometheusAddress);
    }
    const names = template.spec.metrics.map((x: any) => x.name);
    expect(names).toEqual(expect.arrayContaining(['error-ratio', 'latency-p99']));
  });

  it('fails on errors and slowness, and never passes on no data (NaN is inconclusive)', () => {
    const byName = Object.fromEntries(template.spec.metrics.map((x: any) => [x.name, x]));
    const err = byName['error-ratio'];
    expect(err.successCondition).toBe(
      `!isNaN(result[0]) && result[0] <= ${on.env.delivery.analysis.maxErrorRatio}`,
    );
    expect(err.failureCondition).toBe(
      `!isNaN(result[0]) && result[0] > ${on.env.delivery.analysis.maxErrorRatio}`,
    );
    expect(err.provider.prometheus.query).toMatch(/status=~"5\.\."/);
    const p99 = byName['latency-p99'];
    expect(p99.provider.prometheus.query).toMatch(/^histogram_quantile\(0\.99, /);
    expect(p99.successCondition).toContain(`<= ${on.env.monitoring.slo.latencyP99Seconds}`);
    for (const metric of template.spec.metrics) {
      expect(metric.failureLimit).toBeLessThan(metric.count);
      expect(metric.interval).toBe(on.env.delivery.analysis.interval);
    }
  });

  it('lets the deploy identity apply it, watch it, promote and abort it', () => {
    const role = find(on, 'Role')[0] as any;
    const may = (resource: string, verb: string) =>
      role.rules.some(
        (r: any) =>
          r.apiGroups.includes('argoproj.io') &&
          r.resources.includes(resource) &&
          r.verbs.includes(verb),
      );
    for (const resource of ['rollouts', 'analysistemplates'])
      for (const verb of applyVerbs) expect(may(resource, verb), `${verb} ${resource}`).toBe(true);
    // promote and abort patch the Rollout and its status; status reads the AnalysisRuns.
    expect(may('rollouts/status', 'patch')).toBe(true);
    for (const verb of ['get', 'list', 'watch']) expect(may('analysisruns', verb)).toBe(true);
    expect(role.rules.flatMap((r: any) => r.verbs)).not.toContain('*');
  });

  it("the deploy job's preflight asks for exactly the kinds it applies, Rollout included", () => {
    const resources = [...new Set(on.namespaced.map((m) => resourceOf(m)))];
    expect(resources).toEqual(
      expect.arrayContaining(['rollouts.argoproj.io', 'analysistemplates.argoproj.io']),
    );
    expect(resources).not.toContain('deployments.apps');
  });
});

/** The admission policies of the catalogue, evaluated as `npm run check` and the API server do. */
const catalogue = loadCatalogue(policiesDir().replace(/[\\/]kubernetes$/, ''));
const admission = catalogue.policies.filter((p) => p.kind === 'admission');

const prod = canary.filter((s) => s.env.stage === 'prod').slice(0, 1);
const edited = (edit: (rollout: any) => void): string[] => {
  const model = manifestModel(prod);
  edit(model.manifests![0]!.objects.find((o) => o.kind === 'Rollout'));
  return [...new Set(evaluate(admission, model).findings.map((f) => f.policy))].sort();
};

describe('admission policies and the Rollout', () => {
  it('every policy that judges Deployments judges Rollouts too (same pod template paths)', () => {
    const rules = (p: any) => p.object.spec.matchConstraints.resourceRules as any[];
    const matches = (p: any, group: string, resource: string) =>
      rules(p).some((r) => r.apiGroups.includes(group) && r.resources.includes(resource));
    const forDeployments = admissionPolicies().filter((p) => matches(p, 'apps', 'deployments'));
    expect(forDeployments.length).toBeGreaterThan(3);
    for (const p of forDeployments) expect(matches(p, 'argoproj.io', 'rollouts'), p.id).toBe(true);
  });

  it('admit every object of every environment with canary delivery on, the HPA on a Rollout included', () => {
    expect(evaluate(admission, manifestModel(canary)).findings).toEqual([]);
  });

  it('refuse a prod Rollout whose canary runs no analysis (MLOPS-027)', () => {
    expect(prod).toHaveLength(1);
    expect(
      edited(
        (r) =>
          (r.spec.strategy.canary.steps = r.spec.strategy.canary.steps.filter(
            (s: any) => !s.analysis,
          )),
      ),
    ).toEqual(['MLOPS-027']);
    expect(edited((r) => (r.spec.strategy.canary.steps = [{ setWeight: 50 }]))).toEqual([
      'MLOPS-027',
    ]);
    expect(edited((r) => (r.spec.strategy = { blueGreen: { activeService: 'x' } }))).toEqual([
      'MLOPS-027',
    ]);
  });

  it('accept background analysis instead of analysis steps (MLOPS-027)', () => {
    expect(
      edited((r) => {
        r.spec.strategy.canary.steps = [{ setWeight: 50 }, { pause: { duration: '5m' } }];
        r.spec.strategy.canary.analysis = { templates: [{ templateName: r.metadata.name }] };
      }),
    ).toEqual([]);
  });

  it('judge the Rollout like a Deployment: an unpinned image, AUTH_MODE none in prod', () => {
    const c = (r: any) => r.spec.template.spec.containers[0];
    expect(edited((r) => (c(r).image = 'example.com/x:latest'))).toEqual(['MLOPS-016']);
    expect(
      edited((r) =>
        c(r)
          .env.filter((e: any) => e.name === 'AUTH_MODE')
          .forEach((e: any) => (e.value = 'none')),
      ),
    ).toEqual(['MLOPS-026']);
    expect(edited((r) => delete c(r).readinessProbe)).toEqual(['MLOPS-013']);
  });
});
