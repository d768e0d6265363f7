/**
 * One environment's objects, as a cdk8s chart. Each object is built through its typed model from
 * `kubernetes-models` (a typo in a field is a compile error) and validated against the Kubernetes
 * OpenAPI schema when the app synthesizes (see `validate.ts`).
 */
import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyEgressRule } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyEgressRule';
import type { INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { runtime, service } from '../plan.js';
import type { Cidr, K8sEnvironment } from './config.js';
import { dashboard } from './dashboard.js';
import { alertGroups } from './alerts.js';
import { k8sNames } from './names.js';
import { addAdmissionPolicies } from './policies.js';
import { deployAccess } from './deploy-access.js';
import {
  configMaps,
  driftContainerName,
  driftPodLabels,
  driftPodSpec,
  inferencePodLabels,
  qualityContainerName,
  inferencePodSpec,
} from './workload.js';
import { driftBaseline, qualityFloors, shipperConfigKey, vectorConfig } from './prediction-logs.js';
import { analysisTemplate, canaryRelabeling, rollout, rolloutHashPodLabel } from './rollout.js';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';

/** Anything `kubernetes-models` builds: it serialises to a plain manifest. */
interface Model {
  toJSON(): unknown;
}

function add(scope: Construct, id: string, object: Model): ApiObject {
  return new ApiObject(scope, id, object.toJSON() as ConstructorParameters<typeof ApiObject>[2]);
}

/**
 * The identity annotation the cloud's webhook or metadata server reads: the service's identity
 * (reads its model, creates prediction logs) or the drift job's (reads prediction logs only).
 */
export function identityAnnotations(
  env: K8sEnvironment,
  who: 'service' | 'drift' = 'service',
): Record<string, string> {
  if (env.cloud === 'gcp') {
    const g = env.plan.gcp;
    if (!g) throw new Error(`${env.id}: no GCP names in deploy/plan.ts`);
    return {
      'iam.gke.io/gcp-service-account':
        who === 'service' ? g.serviceAccountEmail : g.driftServiceAccountEmail,
    };
  }
  const a = env.plan.aws;
  if (!a) throw new Error(`${env.id}: no AWS names in deploy/plan.ts`);
  return {
    'eks.amazonaws.com/role-arn': who === 'service' ? a.roleArn : a.driftRoleArn,
    'eks.amazonaws.com/sts-regional-endpoints': 'true',
  };
}

const dnsEgress: INetworkPolicyEgressRule = {
  to: [
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
      podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
    },
  ],
  ports: [
    { protocol: 'UDP', port: 53 },
    { protocol: 'TCP', port: 53 },
  ],
};

function cidrPeers(cidrs: readonly Cidr[]): INetworkPolicyPeer[] {
  return cidrs.map((c) => ({
    ipBlock: {
      cidr: c.cidr,
      ...(c.except && c.except.length > 0 ? { except: [...c.except] } : {}),
    },
  }));
}

/**
 * DNS, the object store on 443, and where the identity's token comes from: STS on EKS (IRSA), the
 * metadata server on GKE.
 */
function egressRules(env: K8sEnvironment): INetworkPolicyEgressRule[] {
  const rules: INetworkPolicyEgressRule[] = [
    dnsEgress,
    { to: cidrPeers(env.network.objectStoreEgress), ports: [{ protocol: 'TCP', port: 443 }] },
  ];
  if (env.network.tokenServiceEgress.length > 0) {
    rules.push({
      to: cidrPeers(env.network.tokenServiceEgress),
      ports: [{ protocol: 'TCP', port: 443 }],
    });
  }
  if (env.cloud === 'gcp') {
    rules.push(
      { to: [{ ipBlock: { cidr: '169.254.169.254/32' } }], ports: [{ protocol: 'TCP', port: 80 }] },
      {
        to: [{ ipBlock: { cidr: '169.254.169.252/32' } }],
        ports: [{ protocol: 'TCP', port: 988 }],
      },
    );
  }
  return rules;
}

/** The server's way to the JWT issuer's signing keys (`issuerEgress`), when it checks JWTs. */
function issuerEgress(env: K8sEnvironment): INetworkPolicyEgressRule[] {
  if (!env.auth.mode.includes('jwt') || !env.auth.jwt) return [];
  const port = urlPort(env.auth.jwt.jwksUrl);
  return [{ to: cidrPeers(env.network.issuerEgress), ports: [{ protocol: 'TCP', port }] }];
}

/** The TCP port a URL is served on: its own, else its scheme's. */
function urlPort(url: string): number {
  const { port, protocol } = new URL(url);
  return port ? Number(port) : protocol === 'http:' ? 80 : 443;
}

/** The monitoring job's way to the GitHub API, only when a finding dispatches a retraining. */
function retrainEgress(env: K8sEnvironment): INetworkPolicyEgressRule[] {
  const { repository, githubApiEgress } = env.quality.retrain;
  if (!repository) return [];
  if (githubApiEgress.length === 0) {
    throw new Error(
      `${env.id}: quality.retrain.repository is set but quality.retrain.githubApiEgress is empty: ` +
        'list the "api" ranges of https://api.github.com/meta in deploy/k8s/config.ts',
    );
  }
  return [{ to: cidrPeers(githubApiEgress), ports: [{ protocol: 'TCP', port: 443 }] }];
}

const byName = (ns: string): INetworkPolicyPeer => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
});

/** Who may call the service: the ingress controller's namespaces and the load balancer's addresses. */
const ingressPeers = (env: K8sEnvironment): INetworkPolicyPeer[] => [
  ...env.network.ingressNamespaces.map(byName),
  ...cidrPeers(env.network.ingressCidrs),
];

/**
 * The inference pods' template, one for the Deployment and the Rollout: `hashLabel` is the label
 * their controller puts on each version's pods (`pod-template-hash`, `rollouts-pod-template-hash`),
 * so the topology spread counts the pods of one version.
 */
export function inferencePodTemplate(env: K8sEnvironment, hashLabel: string): IPodTemplateSpec {
  const selector = { ...service.selectorLabels };
  return {
    metadata: {
      labels: inferencePodLabels,
      annotations: {
        'kubectl.kubernetes.io/default-container': k8sNames.container,
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(runtime.metricsPort),
        'prometheus.io/path': '/metrics',
      },
    },
    spec: {
      ...inferencePodSpec(env),
      topologySpreadConstraints: (
        [
          ['topology.kubernetes.io/zone', env.scheduling.spread.zone],
          ['kubernetes.io/hostname', env.scheduling.spread.node],
        ] as const
      ).map(([topologyKey, whenUnsatisfiable]) => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable,
        labelSelector: { matchLabels: selector },
        matchLabelKeys: [hashLabel],
      })),
    },
  };
}

export class ServiceChart extends Chart {
  constructor(scope: Construct, id: string, env: K8sEnvironment) {
    super(scope, id);
    addNamespaceAndIdentity(this, env);
    addService(this, env);
    addWorkload(this, env);
    addAutoscaler(this, env);
    addDisruptionBudget(this, env);
    addNetworkPolicies(this, env);
    if (env.drift.enabled) addMonitoringJob(this, env);
    if (env.monitoring.dashboard) addDashboard(this, env);
    if (env.monitoring.prometheusOperator) addPrometheusObjects(this, env);

    // What the stage's deploy identity may do in the namespace (a cluster admin applies it).
    for (const object of deployAccess(env))
      add(this, `deploy-${object.kind.toLowerCase()}`, object);

    // The policy catalogue (policies/kubernetes), bound to this namespace: Deny in prod, Warn elsewhere.
    addAdmissionPolicies(this, env, env.namespace);
  }
}

/** The plan's labels, a fresh copy for one group of objects. */
const planLabels = (): Record<string, string> => ({ ...service.labels });

/** The Service's selector labels, a fresh copy for one group of objects. */
const planSelector = (): Record<string, string> => ({ ...service.selectorLabels });

/** The stage's namespace with its Pod Security levels, the service's identity and the shipper's config. */
function addNamespaceAndIdentity(scope: Construct, env: K8sEnvironment): void {
  // The stage's own namespace: the stages share the project's Workload Identity pool.
  const ns = env.namespace;
  const labels = planLabels();

  add(
    scope,
    'namespace',
    new Namespace({
      metadata: {
        name: ns,
        labels: {
          ...labels,
          'pod-security.kubernetes.io/enforce': env.podSecurity.enforce,
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/warn': env.podSecurity.warn,
          'pod-security.kubernetes.io/warn-version': 'latest',
          'pod-security.kubernetes.io/audit': env.podSecurity.audit,
          'pod-security.kubernetes.io/audit-version': 'latest',
        },
      },
    }),
  );

  add(
    scope,
    'service-account',
    new ServiceAccount({
      metadata: {
        name: service.serviceAccount,
        namespace: ns,
        labels,
        annotations: identityAnnotations(env),
      },
      automountServiceAccountToken: false,
    }),
  );

  // What the prediction log shipper beside the server does (prediction-logs.ts).
  add(
    scope,
    'log-shipper-config',
    new ConfigMap({
      metadata: { name: configMaps.logShipper, namespace: ns, labels },
      data: { [shipperConfigKey]: JSON.stringify(vectorConfig(env), null, 2) },
    }),
  );
}

/** The ClusterIP Service in front of the inference pods: HTTP, gRPC and metrics ports. */
function addService(scope: Construct, env: K8sEnvironment): void {
  add(
    scope,
    'service',
    new Service({
      metadata: { name: k8sNames.workload, namespace: env.namespace, labels: planLabels() },
      spec: {
        type: 'ClusterIP',
        selector: planSelector(),
        ports: [
          { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
          // gRPC clients (KServe/Triton) call <service>:<grpcPort>; appProtocol tells meshes
          // and load balancers it is HTTP/2.
          {
            name: 'grpc',
            port: runtime.grpcPort,
            targetPort: 'grpc',
            protocol: 'TCP',
            appProtocol: 'kubernetes.io/h2c',
          },
          // For the ServiceMonitor, which selects Services and scrapes the named port.
          {
            name: 'metrics',
            port: runtime.metricsPort,
            targetPort: 'metrics',
            protocol: 'TCP',
          },
        ],
      },
    }),
  );
}

/** The inference pods' owner: a Rollout and its analysis with canary delivery, else a Deployment. */
function addWorkload(scope: Construct, env: K8sEnvironment): void {
  const progressDeadlineSeconds = Math.max(600, env.startupBudgetSeconds * 2);
  if (env.delivery.canary) {
    // Canary delivery (rollout.ts, docs/adr/0018): the same pod template, in a Rollout.
    add(
      scope,
      'rollout',
      rollout(env, inferencePodTemplate(env, rolloutHashPodLabel), progressDeadlineSeconds),
    );
    add(scope, 'analysis-template', analysisTemplate(env));
  } else {
    add(
      scope,
      'deployment',
      new Deployment({
        metadata: { name: k8sNames.workload, namespace: env.namespace, labels: planLabels() },
        spec: {
          // No `replicas`: the HPA owns the count, and an apply must not reset it.
          selector: { matchLabels: planSelector() },
          revisionHistoryLimit: 5,
          progressDeadlineSeconds,
          strategy: {
            type: 'RollingUpdate',
            rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' },
          },
          template: inferencePodTemplate(env, 'pod-template-hash'),
        },
      }),
    );
  }
}

/** The HorizontalPodAutoscaler of the inference workload, on CPU only. */
function addAutoscaler(scope: Construct, env: K8sEnvironment): void {
  const a = env.autoscaling;
  add(
    scope,
    'hpa',
    new HorizontalPodAutoscaler({
      metadata: { name: k8sNames.workload, namespace: env.namespace, labels: planLabels() },
      spec: {
        scaleTargetRef: env.delivery.canary
          ? { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: k8sNames.workload }
          : { apiVersion: 'apps/v1', kind: 'Deployment', name: k8sNames.workload },
        minReplicas: a.minReplicas,
        maxReplicas: a.maxReplicas,
        // CPU only: see docs/adr/0001-cpu-only-autoscaling.md.
        metrics: [
          {
            type: 'Resource',
            resource: {
              name: 'cpu',
              target: { type: 'Utilization', averageUtilization: a.cpuUtilization },
            },
          },
        ],
        behavior: {
          scaleUp: {
            stabilizationWindowSeconds: a.scaleUp.stabilizationSeconds,
            selectPolicy: 'Max',
            policies: [
              {
                type: 'Percent',
                value: a.scaleUp.percent,
                periodSeconds: a.scaleUp.periodSeconds,
              },
              { type: 'Pods', value: a.scaleUp.pods, periodSeconds: a.scaleUp.periodSeconds },
            ],
          },
          scaleDown: {
            stabilizationWindowSeconds: a.scaleDown.stabilizationSeconds,
            selectPolicy: 'Max',
            policies: [
              {
                type: 'Percent',
                value: a.scaleDown.percent,
                periodSeconds: a.scaleDown.periodSeconds,
              },
            ],
          },
        },
      },
    }),
  );
}

/** The PodDisruptionBudget: one inference pod at a time may be evicted. */
function addDisruptionBudget(scope: Construct, env: K8sEnvironment): void {
  add(
    scope,
    'pdb',
    new PodDisruptionBudget({
      metadata: { name: k8sNames.workload, namespace: env.namespace, labels: planLabels() },
      spec: {
        maxUnavailable: 1,
        selector: { matchLabels: planSelector() },
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    }),
  );
}

/** The namespace's deny-all NetworkPolicy and the inference pods' own allowances. */
function addNetworkPolicies(scope: Construct, env: K8sEnvironment): void {
  const ns = env.namespace;
  const labels = planLabels();

  // Deny everything, then allow exactly what each kind of pod needs.
  add(
    scope,
    'deny-all',
    new NetworkPolicy({
      metadata: { name: k8sNames.denyAllPolicy, namespace: ns, labels },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    }),
  );

  add(
    scope,
    'inference-policy',
    new NetworkPolicy({
      metadata: { name: k8sNames.inferencePolicy, namespace: ns, labels },
      spec: {
        podSelector: { matchLabels: planSelector() },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          // An empty `from` would admit everyone: no callers configured, no rule.
          ...(ingressPeers(env).length > 0
            ? [
                {
                  from: ingressPeers(env),
                  ports: [
                    { protocol: 'TCP' as const, port: 'http' },
                    { protocol: 'TCP' as const, port: 'grpc' },
                  ],
                },
              ]
            : []),
          // Prometheus reaches the metrics port only, never the API.
          {
            from: [byName(env.network.prometheusNamespace)],
            ports: [{ protocol: 'TCP', port: 'metrics' }],
          },
        ],
        egress: [...egressRules(env), ...issuerEgress(env)],
      },
    }),
  );
}

/** The daily monitoring job (drift, live quality): its identity, its inputs, its policy, its CronJob. */
function addMonitoringJob(scope: Construct, env: K8sEnvironment): void {
  addMonitoringJobInputs(scope, env);
  addMonitoringJobPolicy(scope, env);
  addMonitoringJobCronJob(scope, env);
}

/** The drift job's service account and the ConfigMaps it reads: the baseline and quality floors. */
function addMonitoringJobInputs(scope: Construct, env: K8sEnvironment): void {
  const ns = env.namespace;
  // The drift job's own identity: it reads the prediction logs, never the model.
  add(
    scope,
    'drift-service-account',
    new ServiceAccount({
      metadata: {
        name: service.driftServiceAccount,
        namespace: ns,
        labels: driftPodLabels,
        annotations: identityAnnotations(env, 'drift'),
      },
      automountServiceAccountToken: false,
    }),
  );

  const baseline = driftBaseline();
  add(
    scope,
    'drift-baseline',
    new ConfigMap({
      metadata: { name: configMaps.driftBaseline, namespace: ns, labels: driftPodLabels },
      data: { [baseline.file]: baseline.text },
    }),
  );
  if (env.quality.enabled) {
    add(
      scope,
      'quality-floors',
      new ConfigMap({
        metadata: { name: configMaps.qualityFloors, namespace: ns, labels: driftPodLabels },
        data: { [qualityFloors().file]: qualityFloors().text },
      }),
    );
  }
}

/** The drift job's NetworkPolicy: egress to the object store, and to GitHub when it retrains. */
function addMonitoringJobPolicy(scope: Construct, env: K8sEnvironment): void {
  add(
    scope,
    'drift-policy',
    new NetworkPolicy({
      metadata: { name: k8sNames.driftPolicy, namespace: env.namespace, labels: driftPodLabels },
      spec: {
        podSelector: {
          matchLabels: {
            'app.kubernetes.io/name': driftPodLabels['app.kubernetes.io/name']!,
            'app.kubernetes.io/component': driftPodLabels['app.kubernetes.io/component']!,
          },
        },
        policyTypes: ['Ingress', 'Egress'],
        egress: [...egressRules(env), ...retrainEgress(env)],
      },
    }),
  );
}

/** The drift job's CronJob: a finding (exit 1) fails the job without retrying. */
function addMonitoringJobCronJob(scope: Construct, env: K8sEnvironment): void {
  add(
    scope,
    'drift-cronjob',
    new CronJob({
      metadata: { name: k8sNames.driftCronJob, namespace: env.namespace, labels: driftPodLabels },
      spec: {
        schedule: env.drift.schedule,
        timeZone: env.drift.timeZone,
        concurrencyPolicy: 'Forbid',
        startingDeadlineSeconds: 3600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
          metadata: { labels: driftPodLabels },
          spec: {
            backoffLimit: 2,
            activeDeadlineSeconds: env.drift.activeDeadlineSeconds,
            ttlSecondsAfterFinished: 7 * 24 * 3600,
            // Exit 1 means "drift found" or "quality below its floor": a verdict, not a crash, so
            // the job fails without retrying.
            podFailurePolicy: {
              rules: [
                ...[driftContainerName, ...(env.quality.enabled ? [qualityContainerName] : [])].map(
                  (containerName) => ({
                    action: 'FailJob' as const,
                    onExitCodes: { containerName, operator: 'In' as const, values: [1] },
                  }),
                ),
                {
                  action: 'Ignore',
                  onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }],
                },
              ],
            },
            template: {
              metadata: { labels: driftPodLabels },
              spec: driftPodSpec(env),
            },
          },
        },
      },
    }),
  );
}

/** The Grafana dashboard, a ConfigMap the dashboard sidecar picks up in its namespace. */
function addDashboard(scope: Construct, env: K8sEnvironment): void {
  add(
    scope,
    'dashboard',
    new ConfigMap({
      metadata: {
        name: k8sNames.dashboard,
        namespace: env.monitoring.dashboardNamespace,
        labels: { ...planLabels(), grafana_dashboard: '1' },
      },
      data: { [`${service.service}.json`]: JSON.stringify(dashboard(env), null, 2) },
    }),
  );
}

/** The prometheus-operator objects: the ServiceMonitor that scrapes the pods and the alert rules. */
function addPrometheusObjects(scope: Construct, env: K8sEnvironment): void {
  const ns = env.namespace;
  const monitoringLabels = { ...planLabels(), ...env.monitoring.selectorLabels };
  add(
    scope,
    'service-monitor',
    new ServiceMonitor({
      metadata: { name: k8sNames.workload, namespace: ns, labels: monitoringLabels },
      spec: {
        selector: { matchLabels: planSelector() },
        namespaceSelector: { matchNames: [ns] },
        endpoints: [
          {
            port: 'metrics',
            path: '/metrics',
            interval: env.monitoring.scrapeInterval,
            // The canary analysis tells the versions apart by their pods' hash (rollout.ts).
            ...(env.delivery.canary
              ? {
                  relabelings: [
                    { ...canaryRelabeling, sourceLabels: [...canaryRelabeling.sourceLabels] },
                  ],
                }
              : {}),
          },
        ],
      },
    }),
  );
  add(
    scope,
    'prometheus-rule',
    new PrometheusRule({
      metadata: { name: k8sNames.workload, namespace: ns, labels: monitoringLabels },
      spec: { groups: alertGroups(env) },
    }),
  );
}
