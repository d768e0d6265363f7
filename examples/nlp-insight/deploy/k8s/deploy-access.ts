/**
 * What the stage's deploy identity may do in the cluster: a Role in the service's namespace, bound
 * on GKE to the deploy service account the GCP bootstrap stack creates (deploy/plan.ts
 * `gcp.deployServiceAccountEmail`; GKE names Google identities as users by their email), on EKS to
 * the Kubernetes group the deploy role's access entry maps it to (deploy/infra, `k8s.deployGroup`).
 * It can apply what this chart puts in the namespace, watch the rollout, roll back, and run the
 * smoke test (a pod, its log, two NetworkPolicies that exist during the test); nothing outside the
 * namespace, no Secrets.
 *
 * Cluster-scoped objects of the chart (the Namespace, the admission policies and their bindings),
 * objects in other namespaces and this Role itself are the environment's cluster part
 * (`dist/<env>/cluster`, see app.ts), applied once by a cluster admin (README, "Kubernetes"); the
 * deploy job checks with `kubectl auth can-i` that they are there before it applies.
 */
import type { IPolicyRule } from 'kubernetes-models/rbac.authorization.k8s.io/v1/PolicyRule';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { service } from '../plan.js';
import type { K8sEnvironment } from './config.js';
import { k8sNames } from './names.js';

/** What `kubectl apply` needs of an object it owns. */
export const applyVerbs = ['get', 'list', 'watch', 'create', 'patch', 'update'] as const;
const readVerbs = ['get', 'list', 'watch'] as const;

/** The rules of the deploy Role: the kinds the chart applies in the namespace, and the smoke test's. */
export function deployRules(env: K8sEnvironment): IPolicyRule[] {
  const rules: IPolicyRule[] = [
    {
      apiGroups: [''],
      resources: ['services', 'configmaps', 'serviceaccounts'],
      verbs: [...applyVerbs],
    },
    { apiGroups: ['apps'], resources: ['deployments'], verbs: [...applyVerbs] },
    { apiGroups: ['apps'], resources: ['replicasets'], verbs: [...readVerbs] },
    { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: [...applyVerbs] },
    { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: [...applyVerbs] },
    { apiGroups: ['batch'], resources: ['cronjobs'], verbs: [...applyVerbs] },
    { apiGroups: ['batch'], resources: ['jobs'], verbs: [...readVerbs] },
    // The smoke test's pod and its two temporary NetworkPolicies come and go.
    {
      apiGroups: ['networking.k8s.io'],
      resources: ['networkpolicies'],
      verbs: [...applyVerbs, 'delete'],
    },
    { apiGroups: [''], resources: ['pods'], verbs: [...readVerbs, 'create', 'delete'] },
    { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
    { apiGroups: [''], resources: ['events'], verbs: [...readVerbs] },
  ];
  if (env.delivery.canary) {
    // The Rollout and its AnalysisTemplate are applied; `kubectl argo rollouts promote|abort|status`
    // patch the Rollout and its status, and read its ReplicaSets, AnalysisRuns and pods.
    rules.push(
      {
        apiGroups: ['argoproj.io'],
        resources: ['rollouts', 'analysistemplates'],
        verbs: [...applyVerbs],
      },
      {
        apiGroups: ['argoproj.io'],
        resources: ['rollouts/status'],
        verbs: ['get', 'patch', 'update'],
      },
      {
        apiGroups: ['argoproj.io'],
        resources: ['analysisruns', 'experiments'],
        verbs: [...readVerbs],
      },
    );
  }
  if (env.monitoring.prometheusOperator) {
    rules.push({
      apiGroups: ['monitoring.coreos.com'],
      resources: ['servicemonitors', 'prometheusrules'],
      verbs: [...applyVerbs],
    });
  }
  return rules;
}

/** The deploy identity's Role and RoleBinding: to the GKE user or the EKS group of the plan. */
export function deployAccess(env: K8sEnvironment): Array<Role | RoleBinding> {
  const metadata = { name: k8sNames.deployRole, namespace: env.namespace, labels: service.labels };
  const g = env.plan.gcp;
  if (env.cloud === 'gcp' && !g) throw new Error(`${env.id}: no GCP names in deploy/plan.ts`);
  const subject =
    env.cloud === 'gcp'
      ? { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: g!.deployServiceAccountEmail }
      : { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: k8sNames.deployGroup };
  return [
    new Role({ metadata, rules: deployRules(env) }),
    new RoleBinding({
      metadata,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: k8sNames.deployRole },
      subjects: [subject],
    }),
  ];
}
