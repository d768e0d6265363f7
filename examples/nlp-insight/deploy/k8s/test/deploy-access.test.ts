/**
 * The deploy identity's rights in the cluster: the chart binds a Role in the namespace to the
 * deploy service account of deploy/plan.ts on GKE, to the Kubernetes group the deploy role's access
 * entry maps it to on EKS (deploy/infra). It covers every kind the deploy applies and the smoke
 * test's pod, log and NetworkPolicies, and nothing else (no wildcard, no Secrets, no other namespace).
 */
import { describe, expect, it } from 'vitest';
import { k8sNames } from '../names.js';
import { applyVerbs } from '../deploy-access.js';
import { all, find } from './support.js';

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };

/** API group of an apiVersion: `apps/v1` -> `apps`, `v1` -> ``. */
const groupOf = (apiVersion: string): string =>
  apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
/** The plural resource of a kind, as RBAC names it. */
const plural = (kind: string): string => {
  const lower = kind.toLowerCase();
  return lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`;
};
const allows = (rules: Rule[], group: string, resource: string, verb: string, name?: string) =>
  rules.some(
    (r) =>
      r.apiGroups.includes(group) &&
      r.resources.includes(resource) &&
      r.verbs.includes(verb) &&
      (r.resourceNames === undefined || (name !== undefined && r.resourceNames.includes(name))),
  );

describe.each(all.map((s) => [s.env.id, s] as const))('%s', (_id, s) => {
  const roles = find(s, 'Role');
  const bindings = find(s, 'RoleBinding');

  it("binds the deploy Role, in the service's namespace, to exactly the deploy identity of the plan", () => {
    expect(roles.map((r) => r.metadata.name)).toEqual([k8sNames.deployRole]);
    expect(bindings).toHaveLength(1);
    const binding = bindings[0] as unknown as {
      metadata: { namespace: string };
      roleRef: { kind: string; name: string };
      subjects: Array<{ kind: string; name: string }>;
    };
    expect(binding.metadata.namespace).toBe(s.env.namespace);
    expect(roles[0]!.metadata.namespace).toBe(s.env.namespace);
    expect(binding.roleRef).toMatchObject({ kind: 'Role', name: k8sNames.deployRole });
    expect(binding.subjects).toEqual([
      s.env.cloud === 'gcp'
        ? expect.objectContaining({ kind: 'User', name: s.env.plan.gcp!.deployServiceAccountEmail })
        : expect.objectContaining({ kind: 'Group', name: k8sNames.deployGroup }),
    ]);
  });

  it('lets it apply every namespaced object of the chart, and run the smoke test', () => {
    const rules = (roles[0] as unknown as { rules: Rule[] }).rules;
    expect(s.namespaced.length).toBeGreaterThan(5);
    for (const m of s.namespaced) {
      for (const verb of applyVerbs) {
        expect(
          allows(rules, groupOf(m.apiVersion), plural(m.kind), verb, m.metadata.name),
          `${verb} ${m.kind}/${m.metadata.name}`,
        ).toBe(true);
      }
    }
    for (const [group, resource, verb] of [
      ['', 'pods', 'create'],
      ['', 'pods', 'delete'],
      ['', 'pods/log', 'get'],
      ['networking.k8s.io', 'networkpolicies', 'delete'],
      ['apps', 'replicasets', 'list'],
    ] as const) {
      expect(allows(rules, group, resource, verb), `${verb} ${resource}`).toBe(true);
    }
  });

  it('and nothing broader: no wildcard, no Secrets, no escalation', () => {
    const rules = (roles[0] as unknown as { rules: Rule[] }).rules;
    for (const r of rules) {
      expect([...r.apiGroups, ...r.resources, ...r.verbs]).not.toContain('*');
      expect(r.verbs).not.toEqual(expect.arrayContaining(['escalate']));
      expect(r.verbs).not.toEqual(expect.arrayContaining(['bind']));
      expect(r.verbs).not.toEqual(expect.arrayContaining(['impersonate']));
    }
    expect(allows(rules, '', 'secrets', 'get')).toBe(false);
    expect(allows(rules, '', 'pods/exec', 'create')).toBe(false);
    // Its own Role is a cluster admin's (dist/<env>/cluster): it may not change it, nor any other.
    for (const resource of ['roles', 'rolebindings'])
      for (const verb of ['create', 'patch', 'update'])
        expect(
          allows(rules, 'rbac.authorization.k8s.io', resource, verb, k8sNames.deployRole),
          `${verb} ${resource}`,
        ).toBe(false);
  });
});
