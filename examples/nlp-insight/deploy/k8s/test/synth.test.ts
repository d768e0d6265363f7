/**
 * Every environment synthesizes, and every object is valid against the Kubernetes OpenAPI schema
 * (kubernetes-models) or, for ServiceMonitor and PrometheusRule, against its CRD's schema.
 */
import { describe, expect, it } from 'vitest';
import { environments } from '../../plan.js';
import { synthesize } from '../app.js';
import { clusterScoped, problemsOf, type Manifest } from '../validate.js';
import { all, defaults, envIds, find, one, workload, workloadKind } from './support.js';

describe('synthesis', () => {
  it('covers exactly the environments of deploy/plan.ts', () => {
    expect(envIds).toEqual(environments.map((e) => e.id));
    expect(envIds.length).toBeGreaterThan(0);
    for (const id of envIds) expect(id).toMatch(/^(gcp|aws)-(dev|staging|prod)$/);
  });

  it.each(envIds)('%s: every object is valid against its schema', (id) => {
    const s = all.find((x) => x.env.id === id)!;
    const problems = s.manifests.flatMap(problemsOf);
    expect(problems).toEqual([]);
    const kinds = new Set(s.manifests.map((m) => m.kind));
    for (const kind of [
      'Namespace',
      'ServiceAccount',
      'Service',
      workloadKind(s),
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'NetworkPolicy',
      'ConfigMap',
      'ServiceMonitor',
      'PrometheusRule',
      // The drift job exists only for a model with a drift baseline.
      ...(s.env.drift.enabled ? ['CronJob'] : []),
    ]) {
      expect(kinds, kind).toContain(kind);
    }
  });

  it('leaves the CRD objects out unless the flag is on', () => {
    for (const s of defaults) {
      // Canary delivery turns them on: its analysis reads the ServiceMonitor's series.
      if (s.env.delivery.canary) {
        expect(s.env.monitoring.prometheusOperator).toBe(true);
        continue;
      }
      expect(find(s, 'ServiceMonitor')).toEqual([]);
      expect(find(s, 'PrometheusRule')).toEqual([]);
      expect(s.manifests.flatMap(problemsOf)).toEqual([]);
    }
  });

  it('writes a kustomization that lists the manifests and leaves the service image for CI', () => {
    for (const s of all) {
      expect(s.kustomization.resources).toEqual(['manifests.yaml']);
      expect(s.kustomization.images).toEqual([{ name: s.env.image }]);
    }
  });

  it("splits each environment into the deploy identity's namespace and a cluster admin's part", () => {
    for (const s of all) {
      const where = (m: Manifest) => `${s.env.id} ${m.kind}/${m.metadata.name}`;
      // Nothing lost, nothing in both.
      expect(s.namespaced.length + s.cluster.manifests.length).toBe(s.manifests.length);
      expect(new Set([...s.namespaced, ...s.cluster.manifests]).size).toBe(s.manifests.length);
      // The deploy identity's part stays inside the stage's namespace and grants no rights.
      for (const m of s.namespaced) {
        expect(clusterScoped.has(m.kind), where(m)).toBe(false);
        expect(m.metadata.namespace, where(m)).toBe(s.env.namespace);
        expect(
          ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'],
          where(m),
        ).not.toContain(m.kind);
      }
      expect(find(s, workloadKind(s)).every((d) => s.namespaced.includes(d))).toBe(true);
      // The admin's part: the namespace and the admission policies (it also binds the deploy
      // identity on GKE, and holds the dashboard, which lives in Grafana's namespace).
      const adminKinds = new Set(s.cluster.manifests.map((m) => m.kind));
      for (const kind of [
        'Namespace',
        'ValidatingAdmissionPolicy',
        'ValidatingAdmissionPolicyBinding',
      ])
        expect(adminKinds, `${s.env.id} ${kind}`).toContain(kind);
      expect(s.cluster.kustomization.resources).toEqual(['manifests.yaml']);
    }
  });

  it("puts every namespaced object into its stage's namespace, the dashboard where Grafana looks", () => {
    for (const s of all) {
      const names = (s.env.plan.gcp ?? s.env.plan.aws)!;
      expect(s.env.namespace).toBe(names.namespace);
      expect(one(s, 'Namespace').metadata.name).toBe(names.namespace);
      for (const m of s.manifests) {
        const where = `${s.env.id} ${m.kind}/${m.metadata.name}`;
        if (clusterScoped.has(m.kind)) continue;
        const dashboard = m.kind === 'ConfigMap' && m.metadata.labels?.grafana_dashboard === '1';
        expect(m.metadata.namespace, where).toBe(
          dashboard ? s.env.monitoring.dashboardNamespace : names.namespace,
        );
      }
      // The network policies' peers name other namespaces, never another stage's.
      for (const p of find(s, 'NetworkPolicy') as any[]) {
        const peers = [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])].flatMap((r: any) => [
          ...(r.from ?? []),
          ...(r.to ?? []),
        ]);
        for (const peer of peers) {
          const ns = peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
          if (ns)
            expect(
              all.map((x) => x.env.namespace),
              where(p),
            ).not.toContain(ns);
        }
      }
    }
    function where(p: any): string {
      return `NetworkPolicy/${p.metadata.name}`;
    }
  });

  it('moves nothing with the kustomization: every namespaced object names its namespace', () => {
    for (const s of all) {
      expect(Object.keys(s.kustomization)).not.toContain('namespace');
      for (const m of s.manifests) {
        if (!clusterScoped.has(m.kind))
          expect(m.metadata.namespace, `${m.kind}/${m.metadata.name}`).toBeDefined();
      }
    }
  });

  it('synthesizes the same objects twice (deterministic)', () => {
    const id = envIds[0]!;
    expect(
      JSON.stringify(synthesize(id, { monitoring: { prometheusOperator: true } }).manifests),
    ).toBe(JSON.stringify(all[0]!.manifests));
  });
});

describe('the validator is not vacuous', () => {
  const s = all[0]!;
  const mutate = (m: Manifest, f: (copy: any) => void): Manifest => {
    const copy = structuredClone(m) as any;
    f(copy);
    return copy as Manifest;
  };

  it('rejects a Deployment (or Rollout) whose container port is not a number', () => {
    const bad = mutate(workload(s), (d) => {
      d.spec.template.spec.containers[0].ports[0].containerPort = '8080';
    });
    expect(problemsOf(bad).join('\n')).toMatch(/containerPort must be integer/);
  });

  it('rejects an HPA without maxReplicas and a NetworkPolicy without podSelector', () => {
    expect(
      problemsOf(
        mutate(one(s, 'HorizontalPodAutoscaler'), (h) => delete h.spec.maxReplicas),
      ).join(),
    ).toMatch(/maxReplicas/);
    expect(
      problemsOf(mutate(find(s, 'NetworkPolicy')[0]!, (n) => delete n.spec.podSelector)).join(),
    ).toMatch(/podSelector/);
  });

  it('rejects CRD objects that break their schema', () => {
    expect(
      problemsOf(mutate(one(s, 'ServiceMonitor'), (m) => (m.spec.endpoints = 'http'))).length,
    ).toBeGreaterThan(0);
    expect(
      problemsOf(mutate(one(s, 'PrometheusRule'), (r) => delete r.spec.groups[0].name)).join(),
    ).toMatch(/name/);
  });

  it('rejects kinds it has no schema for, bad names and bad label values', () => {
    expect(
      problemsOf({
        apiVersion: 'example.com/v1',
        kind: 'Thing',
        metadata: { name: 'x', namespace: 'y' },
      }),
    ).toEqual(['Thing/x: no schema for example.com/v1 Thing']);
    expect(
      problemsOf(mutate(one(s, 'Service'), (x) => (x.metadata.name = 'Not_A_Name'))).join(),
    ).toMatch(/not a valid Service name/);
    expect(
      problemsOf(mutate(one(s, 'Service'), (x) => (x.metadata.labels.team = 'a b'))).join(),
    ).toMatch(/bad value of label team/);
    const cronJob = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'x'.repeat(53), namespace: 'y' },
      spec: {
        schedule: '0 3 * * *',
        jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }] } } } },
      },
    } as Manifest;
    expect(problemsOf(cronJob).join()).toMatch(/max 52/);
  });
});
