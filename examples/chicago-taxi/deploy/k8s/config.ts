/**
 * Typed configuration of each Kubernetes environment (gcp-dev ... aws-prod), instead of YAML patches.
 *
 * Everything that names something (namespace, service account, identity, bucket, image repository,
 * replicas, CPU target) comes from `deploy/plan.ts`, the file the cloud stacks read too: change it
 * through `.mlops-service/answers.json` and `npx create-mlops-service upgrade`, never here. What is
 * only Kubernetes' business (probe budgets, network peers, PSS levels, monitoring) has a default per
 * stage below and can be changed per environment in `overrides`.
 */
import { environments, model, runtime, service, type EnvironmentId } from '../plan.js';
import { projectHasChallenger } from './challenger.js';
import { awsCliImage, gcloudImage, type PinnedImage, vectorImage } from './images.js';

export type Cloud = 'gcp' | 'aws';
export type Stage = 'dev' | 'staging' | 'prod';
export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

/** The part of a `deploy/plan.ts` environment this app reads (structural: one cloud or both). */
export interface PlanEnvironment {
  readonly id: string;
  readonly cloud: Cloud;
  readonly stage: Stage;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly cpuTarget: number;
  readonly modelUri: string;
  /** `gs://<bucket>/prediction-logs/` or `s3://...`: where the pods ship their prediction logs. */
  readonly predictionLogUri: string;
  readonly gcp?: {
    /** The stage's own namespace: stages share the project's Workload Identity pool. */
    readonly namespace: string;
    readonly project: string;
    readonly region: string;
    readonly serviceAccountEmail: string;
    readonly workloadIdentityMember: string;
    readonly driftServiceAccountEmail: string;
    readonly driftWorkloadIdentityMember: string;
    readonly image: string;
    readonly modelBucket: string;
    /** The stage's deploy identity (GitHub Actions), bound to the deploy Role in the namespace. */
    readonly deployServiceAccountEmail: string;
  };
  readonly aws?: {
    readonly namespace: string;
    readonly accountId: string;
    readonly region: string;
    readonly partition: string;
    readonly roleArn: string;
    readonly irsaSubject: string;
    readonly driftRoleArn: string;
    readonly driftIrsaSubject: string;
    readonly image: string;
    readonly modelBucket: string;
  };
}

export const planEnvironments: readonly PlanEnvironment[] = environments;

export interface Cidr {
  readonly cidr: string;
  readonly except?: readonly string[];
}

export interface Toleration {
  readonly key: string;
  readonly operator: 'Equal' | 'Exists';
  readonly value?: string;
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** The Kubernetes-only settings of an environment. */
export interface EnvironmentSettings {
  /** Pod Security Standards labels of the namespace. */
  readonly podSecurity: {
    readonly enforce: PodSecurityLevel;
    readonly warn: PodSecurityLevel;
    readonly audit: PodSecurityLevel;
  };
  readonly autoscaling: {
    readonly minReplicas: number;
    readonly maxReplicas: number;
    /** Average CPU utilisation of the requests, percent: the HPA's only metric. */
    readonly cpuUtilization: number;
    readonly scaleUp: {
      readonly stabilizationSeconds: number;
      readonly percent: number;
      readonly pods: number;
      readonly periodSeconds: number;
    };
    readonly scaleDown: {
      readonly stabilizationSeconds: number;
      readonly percent: number;
      readonly periodSeconds: number;
    };
  };
  /** How long a pod may take from start to its first ready answer (model download, load, warm-up). */
  readonly startupBudgetSeconds: number;
  readonly shutdown: {
    /** Pause before SIGTERM so endpoints and load balancers stop sending first. */
    readonly preStopSeconds: number;
    /** The server's drain budget (`SHUTDOWN_TIMEOUT_MS`). */
    readonly drainSeconds: number;
    /** Added to preStop + drain to get the termination grace period. */
    readonly marginSeconds: number;
  };
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Who may call the service (the server's AUTH_MODE; README "Authentication and exposure"). Prod
   * authenticates (policy MLOPS-026). `api-key` mounts the key hashes from the Secret named in
   * deploy/plan.ts (`service.k8s.apiKeysSecret`), which you create (the README says how): the
   * manifests never hold it (MLOPS-024), and the pods do not start without it.
   */
  readonly auth: {
    readonly mode: 'none' | 'api-key' | 'jwt' | 'api-key,jwt';
    /** `jwt`: where the issuer publishes its keys, and what a token must say. */
    readonly jwt?: {
      readonly jwksUrl: string;
      readonly issuer: string;
      readonly audience: string;
    };
    /** Requests per minute per client and pod (`RATE_LIMIT_PER_MINUTE`); 0: no limit. */
    readonly rateLimitPerMinute: number;
  };
  /** Memory of the pod's server process, in MiB, beyond the model (see `memoryBudgetMiB`). */
  readonly memory: {
    /** V8 heap of the explanation worker (`EXPLAIN_MAX_HEAP_MB`). */
    readonly explainHeapMiB: number;
    /** Prediction log lines held while the disk catches up (`PREDICTION_LOG_BUFFER_BYTES`). */
    readonly predictionLogBufferMiB: number;
  };
  readonly network: {
    /**
     * Namespaces whose pods may call the service (the ingress controller's). GKE: none, its
     * Ingress is Google's load balancer, outside the cluster (see `ingressCidrs`). EKS:
     * `ingress-nginx`; with the AWS Load Balancer Controller in IP mode, list the VPC's public
     * subnets in `ingressCidrs` instead.
     */
    readonly ingressNamespaces: readonly string[];
    /**
     * Ingress sources by address. GKE: the Google front ends and health checkers that reach pods
     * through container-native load balancing (`35.191.0.0/16`, `130.211.0.0/22`).
     */
    readonly ingressCidrs: readonly Cidr[];
    /**
     * Namespace of the Prometheus that scrapes `/metrics`: GKE's Managed Service for Prometheus
     * collects from `gmp-system`; on EKS, kube-prometheus-stack's usual `monitoring`.
     */
    readonly prometheusNamespace: string;
    /**
     * Where the object store answers on 443. NetworkPolicy cannot name a host, so the default is
     * any public address; narrow it when the cluster reaches the store on known ranges (Private
     * Google Access `199.36.153.8/30`, an S3 prefix list's ranges).
     */
    readonly objectStoreEgress: readonly Cidr[];
    /**
     * EKS: where STS answers on 443 (`sts.<region>.amazonaws.com`, public addresses unless the VPC
     * has an STS interface endpoint). IRSA exchanges the pod's token there before any S3 call, so
     * it is its own rule: narrowing `objectStoreEgress` to S3's ranges must not cut it. GKE hands
     * out tokens through the node's metadata server instead (always allowed).
     */
    readonly tokenServiceEgress: readonly Cidr[];
    /**
     * With `auth.mode` jwt: where the issuer publishes its signing keys (`auth.jwt.jwksUrl`, on its
     * URL's port). The server fetches them there, so without this rule every token is refused
     * with 503. Any public address by default; name the issuer's ranges, or the private range of
     * an issuer inside your network (Keycloak, Dex).
     */
    readonly issuerEgress: readonly Cidr[];
  };
  readonly scheduling: {
    readonly nodeSelector: Readonly<Record<string, string>>;
    readonly tolerations: readonly Toleration[];
    /**
     * How strictly replicas spread over zones and nodes (topology spread, skew 1). Prod refuses to
     * put two replicas on one node (DoNotSchedule): a node loss never takes every replica; zones
     * stay best effort, as a zone may lack capacity.
     */
    readonly spread: {
      readonly zone: 'ScheduleAnyway' | 'DoNotSchedule';
      readonly node: 'ScheduleAnyway' | 'DoNotSchedule';
    };
  };
  readonly storage: {
    readonly modelSizeLimit: string;
    readonly tmpSizeLimit: string;
  };
  readonly initContainer: {
    readonly image: PinnedImage;
    readonly cpuMillis: number;
    readonly memory: string;
  };
  /**
   * The sidecar that ships the prediction log (`PREDICTION_LOG_PATH`) to the environment's
   * `predictionLogUri`, with the pod's workload identity (create-only on that prefix).
   */
  readonly logShipper: {
    readonly image: PinnedImage;
    readonly cpuMillis: number;
    readonly memory: string;
    /** Seconds a batch may wait before it is uploaded: one object per pod and batch. */
    readonly batchSeconds: number;
    /** Seconds it has, after the server stopped, to upload what is left (part of the grace period). */
    readonly flushSeconds: number;
    /** Its checkpoints (how far the log was shipped), an emptyDir. */
    readonly dataSizeLimit: string;
  };
  readonly monitoring: {
    /** Emit ServiceMonitor and PrometheusRule (needs the prometheus-operator CRDs). */
    readonly prometheusOperator: boolean;
    /** Labels your Prometheus selects ServiceMonitors and rules by. */
    readonly selectorLabels: Readonly<Record<string, string>>;
    readonly scrapeInterval: `${number}s`;
    /** Grafana dashboard ConfigMap (label `grafana_dashboard: "1"`). */
    readonly dashboard: boolean;
    /** Namespace the Grafana sidecar watches; the service's own by default. */
    readonly dashboardNamespace: string;
    readonly slo: {
      /** Fraction of requests that must not fail (5xx), e.g. 0.995. */
      readonly availability: number;
      /** p99 latency objective of the prediction routes, seconds. */
      readonly latencyP99Seconds: number;
    };
    /** Fraction of requests shed (503) above which the shed alert fires. */
    readonly shedRatio: number;
    /** PSI above which a feature counts as drifted. */
    readonly driftPsi: number;
    /** Hours without a successful drift check before the heartbeat alert fires. */
    readonly driftHeartbeatHours: number;
  };
  /**
   * The daily drift check: yesterday's partition (`dt=YYYY-MM-DD/`) of the environment's
   * `predictionLogUri` against the model's drift baseline. It runs as its own service account, whose
   * identity may read the prediction logs and nothing else (not the model).
   */
  readonly drift: {
    readonly enabled: boolean;
    readonly schedule: string;
    readonly timeZone: string;
    readonly activeDeadlineSeconds: number;
  };
  /**
   * The same daily job also measures live quality offline (`npm run monitor`): the last
   * `lookbackDays` days of the prediction log joined with the feedback log shipped beside it
   * (`feedback/dt=YYYY-MM-DD/`), held to the floors of the model's metrics.json (a ConfigMap: the
   * job's identity cannot read the model). On only with a drift job, a metrics.json and a task with
   * ground truth (not `tensor`).
   */
  readonly quality: {
    readonly enabled: boolean;
    readonly lookbackDays: number;
    /**
     * A breach found by the job (drift or quality) sends `repository_dispatch` to this training
     * repository (`owner/name`; empty: none). The token is read from the Secret `tokenSecret`
     * (key `token`), which an admin creates (never in the repository); the job reaches the GitHub
     * API only through `githubApiEgress` (the `api` ranges of https://api.github.com/meta).
     */
    readonly retrain: {
      readonly repository: string;
      readonly tokenSecret: string;
      readonly githubApiEgress: readonly Cidr[];
    };
  };
  /**
   * Progressive delivery (the answer `progressiveDelivery`, docs/adr/0018): with `canary` on, the
   * chart emits an Argo Rollouts `Rollout` instead of the Deployment (same pod template), whose
   * canary goes through `weights` and, after each, a pause and an analysis (rollout.ts) over
   * Prometheus: the 5xx ratio, the p99 latency objective and live quality of the canary's own pods.
   * The cluster needs the Argo Rollouts controller and the prometheus-operator (ServiceMonitor).
   */
  readonly delivery: {
    readonly canary: boolean;
    /** Percent of the replicas on the new version at each step, increasing; 100 follows the last. */
    readonly weights: readonly number[];
    /** Pause after each weight before its analysis starts: the window must see canary traffic. */
    readonly pauseSeconds: number;
    readonly analysis: {
      /**
       * Where the Argo Rollouts controller queries Prometheus: the in-cluster service of
       * kube-prometheus-stack (release `kube-prometheus-stack`, as `monitoring.selectorLabels`).
       */
      readonly prometheusAddress: string;
      /** Rate window of the queries, e.g. `2m` (at least four scrapes). */
      readonly window: `${number}m`;
      readonly interval: `${number}s`;
      /** Measurements per analysis; `failureLimit` of them may fail before the canary aborts. */
      readonly count: number;
      readonly failureLimit: number;
      /** The largest 5xx ratio of the canary's traffic that passes. */
      readonly maxErrorRatio: number;
    };
  };
  readonly images: {
    /**
     * Only digests may run: the main image is left for CI to pin, a tag is an error. Admission
     * enforces it through the catalogue's MLOPS-016 (policies/kubernetes), bound Deny in prod.
     */
    readonly requireDigest: boolean;
  };
}

type DeepPartial<T> = {
  -readonly [K in keyof T]?: T[K] extends readonly unknown[]
    ? T[K]
    : T[K] extends object
      ? DeepPartial<T[K]>
      : T[K];
};
export type EnvironmentOverrides = DeepPartial<EnvironmentSettings>;

/**
 * Your changes, per environment. For example, to turn on the Prometheus operator objects in prod:
 *
 *   'gcp-prod': { monitoring: { prometheusOperator: true } },
 */
export const overrides: { readonly [K in EnvironmentId]?: EnvironmentOverrides } = {};

/** Defaults per stage: dev is cheap and permissive to debug, prod is locked down. */
export function defaultSettings(plan: PlanEnvironment): EnvironmentSettings {
  const prod = plan.stage === 'prod';
  return {
    podSecurity: prod
      ? { enforce: 'restricted', warn: 'restricted', audit: 'restricted' }
      : { enforce: 'baseline', warn: 'restricted', audit: 'restricted' },
    autoscaling: defaultAutoscaling(plan),
    ...defaultServerSettings(plan),
    network: defaultNetwork(plan),
    scheduling: defaultScheduling(plan),
    ...defaultPodResources(plan),
    monitoring: defaultMonitoring(plan),
    ...defaultMonitoringJob(),
    delivery: defaultDelivery(plan),
    images: { requireDigest: prod },
  };
}

/** The HPA's defaults: the plan's replicas and CPU target, fast up, slow down. */
function defaultAutoscaling(plan: PlanEnvironment): EnvironmentSettings['autoscaling'] {
  return {
    minReplicas: plan.minReplicas,
    maxReplicas: plan.maxReplicas,
    cpuUtilization: plan.cpuTarget,
    scaleUp: { stabilizationSeconds: 0, percent: 100, pods: 4, periodSeconds: 15 },
    scaleDown: { stabilizationSeconds: 300, percent: 50, periodSeconds: 60 },
  };
}

/** The server's defaults: start and stop budgets, log level, authentication and memory sizes. */
function defaultServerSettings(
  plan: PlanEnvironment,
): Pick<EnvironmentSettings, 'startupBudgetSeconds' | 'shutdown' | 'logLevel' | 'auth' | 'memory'> {
  return {
    startupBudgetSeconds: 300,
    shutdown: { preStopSeconds: 5, drainSeconds: 20, marginSeconds: 10 },
    logLevel: plan.stage === 'dev' ? 'debug' : 'info',
    auth: { mode: plan.stage === 'prod' ? 'api-key' : 'none', rateLimitPerMinute: 0 },
    memory: {
      // A quarter of the container's memory, within the bounds create-mlops-service sized it by.
      explainHeapMiB: Math.max(
        runtime.serverMemoryMiB.explainHeapMin,
        Math.min(runtime.serverMemoryMiB.explainHeapMax, Math.floor(memoryMiB(runtime.memory) / 4)),
      ),
      predictionLogBufferMiB: runtime.serverMemoryMiB.predictionLogBuffer,
    },
  };
}

/** The network peers per cloud: who calls the service, who scrapes it, where the pods may go. */
function defaultNetwork(plan: PlanEnvironment): EnvironmentSettings['network'] {
  return {
    ...(plan.cloud === 'gcp'
      ? {
          ingressNamespaces: [],
          ingressCidrs: googleFrontEnds.map((cidr) => ({ cidr })),
          // The canary analysis queries kube-prometheus-stack's Prometheus, which scrapes too.
          prometheusNamespace: progressiveDelivery ? 'monitoring' : 'gmp-system',
        }
      : {
          ingressNamespaces: ['ingress-nginx'],
          ingressCidrs: [],
          prometheusNamespace: 'monitoring',
        }),
    objectStoreEgress: [{ cidr: '0.0.0.0/0', except: privateRanges }],
    tokenServiceEgress: plan.cloud === 'aws' ? [{ cidr: '0.0.0.0/0', except: privateRanges }] : [],
    issuerEgress: [{ cidr: '0.0.0.0/0', except: privateRanges }],
  };
}

/** Where the pods run: the service's node pool, spread over zones and (in prod strictly) nodes. */
function defaultScheduling(plan: PlanEnvironment): EnvironmentSettings['scheduling'] {
  return {
    nodeSelector: {
      [mlNodePool.key]: mlNodePool.value,
      // GKE: only nodes running the metadata server can hand out the Workload Identity token.
      ...(plan.cloud === 'gcp' ? { 'iam.gke.io/gke-metadata-server-enabled': 'true' } : {}),
    },
    tolerations: [
      { key: mlNodePool.key, operator: 'Equal', value: mlNodePool.value, effect: 'NoSchedule' },
    ],
    spread: {
      zone: 'ScheduleAnyway',
      node: plan.stage === 'prod' ? 'DoNotSchedule' : 'ScheduleAnyway',
    },
  };
}

/** The pods' volumes and their helper containers: the cloud CLI and the log shipper. */
function defaultPodResources(
  plan: PlanEnvironment,
): Pick<EnvironmentSettings, 'storage' | 'initContainer' | 'logShipper'> {
  return {
    storage: { modelSizeLimit: `${modelVolumeGiB()}Gi`, tmpSizeLimit: '1Gi' },
    initContainer: {
      image: plan.cloud === 'gcp' ? gcloudImage : awsCliImage,
      cpuMillis: 500,
      memory: '512Mi',
    },
    logShipper: {
      image: vectorImage,
      cpuMillis: 100,
      memory: '128Mi',
      batchSeconds: 300,
      flushSeconds: 15,
      dataSizeLimit: '64Mi',
    },
  };
}

/** Monitoring: the prometheus-operator objects, the dashboard and the alerts' thresholds. */
function defaultMonitoring(plan: PlanEnvironment): EnvironmentSettings['monitoring'] {
  return {
    // The canary analysis needs the ServiceMonitor that labels each series with its pod's hash.
    prometheusOperator: progressiveDelivery,
    selectorLabels: { release: 'kube-prometheus-stack' },
    scrapeInterval: '30s',
    dashboard: true,
    dashboardNamespace: planNames(plan).namespace,
    slo: { availability: 0.995, latencyP99Seconds: 0.5 },
    shedRatio: 0.01,
    driftPsi: 0.25,
    driftHeartbeatHours: 26,
  };
}

/** The daily monitoring job: drift when the model ships a baseline, quality when it also has metrics. */
function defaultMonitoringJob(): Pick<EnvironmentSettings, 'drift' | 'quality'> {
  return {
    drift: {
      enabled: driftBaselineFile !== undefined,
      schedule: '17 3 * * *',
      timeZone: 'Etc/UTC',
      activeDeadlineSeconds: 1800,
    },
    quality: {
      enabled:
        driftBaselineFile !== undefined &&
        metricsFile !== undefined &&
        (model.task as string) !== 'tensor',
      lookbackDays: 7,
      retrain: { repository: '', tokenSecret: 'retrain-dispatch', githubApiEgress: [] },
    },
  };
}

/** Canary delivery, when the answers ask for it: the steps and the analysis that gates them. */
function defaultDelivery(plan: PlanEnvironment): EnvironmentSettings['delivery'] {
  const prod = plan.stage === 'prod';
  return {
    canary: progressiveDelivery,
    weights: [10, 50],
    pauseSeconds: prod ? 300 : 120,
    analysis: {
      prometheusAddress:
        'http://kube-prometheus-stack-prometheus.monitoring.svc.cluster.local:9090',
      window: '2m',
      interval: '30s',
      count: prod ? 10 : 4,
      failureLimit: 1,
      maxErrorRatio: 0.01,
    },
  };
}

/**
 * The answer `progressiveDelivery` as deploy/plan.ts records it: `runtime.progressiveDelivery` is
 * there only when it is on.
 */
export const progressiveDelivery =
  (runtime as { readonly progressiveDelivery?: boolean }).progressiveDelivery === true;

/**
 * Label and taint of the node pool the cloud stack creates for the service (deploy/infra): its pods
 * select the label and tolerate the taint, nothing else schedules there. `test/identity.test.ts`
 * fails if the stack's value differs.
 */
export const mlNodePool = service.mlNodePool;

/**
 * Files beside `model.onnx` that the service reads, fetched by the init container. Read from the
 * plan's model: its sidecar and the artifacts the sidecar names.
 */
export const modelArtifacts: readonly string[] = (() => {
  const listed: Readonly<Record<string, string | undefined>> = model.artifacts;
  const { driftBaseline, background, golden, metrics } = listed;
  // A model without a sidecar has neither it nor artifacts: the service serves without them.
  return [
    model.described ? 'model.schema.json' : undefined,
    driftBaseline,
    background,
    golden,
    metrics,
  ].filter((f): f is string => typeof f === 'string' && f.length > 0);
})();

/**
 * The model's drift baseline (deploy/plan.ts `model.artifacts.driftBaseline`), which the drift job
 * compares the prediction log with; undefined when the model ships none (the job is then off).
 */
export const driftBaselineFile: string | undefined = (
  model.artifacts as Readonly<Record<string, string | undefined>>
).driftBaseline;

/** The model's metrics.json (headline metrics, the floors of live quality), if it ships one. */
export const metricsFile: string | undefined = (
  model.artifacts as Readonly<Record<string, string | undefined>>
).metrics;

/** MiB of a Kubernetes memory quantity in Mi or Gi (the answers allow only those). */
export function memoryMiB(quantity: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`memory "${quantity}" is not a quantity in Mi or Gi`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

/**
 * Nominal memory of the server's parts, MiB: the main thread with Fastify and its buffers, and each
 * worker thread (a V8 isolate and an onnxruntime session without its weights), as
 * create-mlops-service sized the pod by (`runtime.serverMemoryMiB`). The container's limit must
 * hold them, a copy of the model per worker thread (`modelMiB`), the explanation heap and the
 * prediction log's buffer: `checkEnvironment` refuses an environment where it does not.
 */
export const nominalMiB = {
  process: runtime.serverMemoryMiB.process,
  worker: runtime.serverMemoryMiB.worker,
} as const;

/**
 * The model's weights as one session holds them, MiB: the file's size. Every thread that loads
 * the model holds a session; onnxruntime may keep a second, repacked copy of some weights, and
 * may share file pages between sessions, so this is the floor a pod cannot go under, not a
 * measurement (`npm run bench:cost` measures the memory per worker).
 */
export function modelMiB(): number {
  return Math.ceil(model.bytes / 2 ** 20);
}

/**
 * The model volume the init container fills, GiB: the model, a challenger of its size beside it
 * (`model/challenger/`) and their artifacts; at least 2. A pod whose files outgrow the volume's
 * `sizeLimit` is evicted by the kubelet.
 */
export function modelVolumeGiB(): number {
  return Math.max(2, Math.ceil((2 * modelMiB() + 512) / 1024));
}

/** Worker threads of the server: the prediction pool, the explanation worker, a challenger's. */
export function workerThreads(): number {
  return runtime.poolSize + 1 + (projectHasChallenger() ? 1 : 0);
}

export function memoryBudgetMiB(env: Pick<EnvironmentSettings, 'memory'>): number {
  return (
    nominalMiB.process +
    workerThreads() * (nominalMiB.worker + modelMiB()) +
    env.memory.explainHeapMiB +
    env.memory.predictionLogBufferMiB
  );
}

/** Google front ends and health checkers: the sources of container-native load balancing. */
export const googleFrontEnds: readonly string[] = ['35.191.0.0/16', '130.211.0.0/22'];

/** RFC 1918, carrier-grade NAT and link-local (cloud metadata) ranges: never "the object store". */
export const privateRanges: readonly string[] = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '169.254.0.0/16',
];

/** The cloud names of a plan environment (`gcp` or `aws`, whichever it is on). */
export function planNames(
  plan: PlanEnvironment,
): NonNullable<PlanEnvironment['gcp'] | PlanEnvironment['aws']> {
  const names = plan.cloud === 'gcp' ? plan.gcp : plan.aws;
  if (!names) throw new Error(`${plan.id}: deploy/plan.ts has no ${plan.cloud} names`);
  return names;
}

/** An environment as the chart builds it: the plan's names plus the resolved settings. */
export interface K8sEnvironment extends EnvironmentSettings {
  readonly id: string;
  readonly cloud: Cloud;
  readonly stage: Stage;
  readonly plan: PlanEnvironment;
  /** The stage's namespace (deploy/plan.ts): every namespaced object of the service lives there. */
  readonly namespace: string;
  /** Repository of the service image (no tag: CI pins the digest). */
  readonly image: string;
  readonly region: string;
  readonly modelBucket: string;
  /** `gs://` or `s3://`. */
  readonly objectStoreScheme: 'gs' | 's3';
}

export function environmentIds(): string[] {
  return planEnvironments.map((e) => e.id);
}

export function resolveEnvironment(id: string, extra: EnvironmentOverrides = {}): K8sEnvironment {
  const plan = planEnvironments.find((e) => e.id === id);
  if (!plan) {
    throw new Error(
      `unknown environment "${id}"; deploy/plan.ts has ${environmentIds().join(', ')}`,
    );
  }
  const own = (overrides as Readonly<Record<string, EnvironmentOverrides | undefined>>)[id] ?? {};
  const settings = merge(merge(defaultSettings(plan), own), extra);
  const names = planNames(plan);
  const env: K8sEnvironment = {
    ...settings,
    id: plan.id,
    cloud: plan.cloud,
    stage: plan.stage,
    plan,
    namespace: names.namespace,
    image: names.image,
    region: names.region,
    modelBucket: names.modelBucket,
    objectStoreScheme: plan.cloud === 'gcp' ? 'gs' : 's3',
  };
  const problems = checkEnvironment(env);
  if (problems.length > 0) throw new Error(`${id}: ${problems.join('; ')}`);
  return env;
}

/** The rules an environment must keep whatever the overrides say. */
export function checkEnvironment(env: K8sEnvironment): string[] {
  return [
    ...autoscalingProblems(env),
    ...prodProblems(env),
    ...serverProblems(env),
    ...(env.delivery.canary ? canaryProblems(env) : []),
    ...lifecycleProblems(env),
    ...modelProblems(env),
  ];
}

/** The HPA: a CPU target in 50-70%, a range of replicas, two at least outside dev. */
function autoscalingProblems(env: K8sEnvironment): string[] {
  const p: string[] = [];
  const a = env.autoscaling;
  if (a.cpuUtilization < 50 || a.cpuUtilization > 70) {
    p.push(`autoscaling.cpuUtilization ${a.cpuUtilization} is outside 50-70%`);
  }
  if (env.stage !== 'dev' && a.minReplicas < 2) {
    p.push(`autoscaling.minReplicas must be at least 2 outside dev (is ${a.minReplicas})`);
  }
  if (a.minReplicas < 1 || a.maxReplicas < a.minReplicas) {
    p.push(`autoscaling replicas ${a.minReplicas}..${a.maxReplicas} are not a range`);
  }
  return p;
}

/** What prod never gives up: restricted pods, one replica per node, digests, authentication. */
function prodProblems(env: K8sEnvironment): string[] {
  const p: string[] = [];
  if (env.stage === 'prod' && env.podSecurity.enforce !== 'restricted') {
    p.push('prod must enforce the restricted Pod Security Standard');
  }
  if (env.stage === 'prod' && env.scheduling.spread.node !== 'DoNotSchedule') {
    p.push(
      'prod must never schedule two replicas on one node (scheduling.spread.node DoNotSchedule)',
    );
  }
  if (env.stage === 'prod' && !env.images.requireDigest) {
    p.push('prod must require image digests');
  }
  if (env.stage === 'prod' && env.auth.mode === 'none') {
    p.push('prod must authenticate its callers (auth.mode api-key or jwt; policy MLOPS-026)');
  }
  return p;
}

/** The server: JWT settings when it checks JWTs, and a memory budget the container holds. */
function serverProblems(env: K8sEnvironment): string[] {
  const p: string[] = [];
  if (env.auth.mode.includes('jwt') && !env.auth.jwt) {
    p.push(`auth.mode ${env.auth.mode} needs auth.jwt (jwksUrl, issuer, audience)`);
  }
  if (memoryBudgetMiB(env) > memoryMiB(runtime.memory)) {
    p.push(
      `the server needs about ${memoryBudgetMiB(env)} MiB (explanation heap ${env.memory.explainHeapMiB}, ${workerThreads()} worker threads each holding the ${modelMiB()} MiB model, log buffer ${env.memory.predictionLogBufferMiB}) but the container has ${runtime.memory}: raise memory in .mlops-service/answers.json or lower memory.explainHeapMiB`,
    );
  }
  return p;
}

/** Canary delivery: the ServiceMonitor it needs, sane steps and analysis, a reachable Prometheus. */
function canaryProblems(env: K8sEnvironment): string[] {
  const p: string[] = [];
  const d = env.delivery;
  if (!env.monitoring.prometheusOperator) {
    p.push(
      'delivery.canary needs monitoring.prometheusOperator: the ServiceMonitor labels each series with its pod template hash, which the canary analysis selects',
    );
  }
  if (
    d.weights.length === 0 ||
    d.weights.some(
      (w, i) => !Number.isInteger(w) || w < 1 || w > 99 || (i > 0 && w <= d.weights[i - 1]!),
    )
  ) {
    p.push(
      `delivery.weights ${JSON.stringify(d.weights)} must be increasing whole percents in 1..99`,
    );
  }
  if (
    d.analysis.count < 1 ||
    d.analysis.failureLimit < 0 ||
    d.analysis.failureLimit >= d.analysis.count
  ) {
    p.push('delivery.analysis: failureLimit must be below count, count at least 1');
  }
  if (!(d.analysis.maxErrorRatio >= 0 && d.analysis.maxErrorRatio < 1)) {
    p.push('delivery.analysis.maxErrorRatio must be in [0, 1)');
  }
  return [...p, ...prometheusAddressProblems(env)];
}

/** The canary analysis's Prometheus: an http(s) address, in the namespace allowed to scrape. */
function prometheusAddressProblems(env: K8sEnvironment): string[] {
  const p: string[] = [];
  const address = env.delivery.analysis.prometheusAddress;
  // An in-cluster Prometheus must be the one the NetworkPolicy lets scrape the pods, or the
  // analysis sees no data.
  const inCluster = /^https?:\/\/[^./:]+\.([^./:]+)\.svc(\.cluster\.local)?(:\d+)?\/?$/.exec(
    address,
  );
  if (inCluster && inCluster[1] !== env.network.prometheusNamespace) {
    p.push(
      `delivery.analysis.prometheusAddress is in namespace ${inCluster[1]}, but network.prometheusNamespace (who may scrape the pods) is ${env.network.prometheusNamespace}`,
    );
  }
  if (!/^https?:\/\/[^\s/]+(:\d+)?\/?$/.test(address)) {
    p.push(`delivery.analysis.prometheusAddress "${address}" is not an http(s) address`);
  }
  return p;
}

/** Start and stop: time after the drain, a startup budget for the model load, a worker pool. */
function lifecycleProblems(env: K8sEnvironment): string[] {
  const p: string[] = [];
  if (env.shutdown.marginSeconds < 1) {
    p.push('shutdown.marginSeconds must leave time after the drain');
  }
  if (env.startupBudgetSeconds < 30) p.push('startupBudgetSeconds must tolerate the model load');
  if (runtime.poolSize < 1) p.push('runtime.poolSize must be at least 1');
  return p;
}

/**
 * The model's files: a volume that holds the model and a challenger of its size, a drift baseline
 * when drift is on, plain relative artifact paths.
 */
function modelProblems(env: K8sEnvironment): string[] {
  const p: string[] = [];
  if (memoryMiB(env.storage.modelSizeLimit) < 2 * modelMiB()) {
    p.push(
      `storage.modelSizeLimit ${env.storage.modelSizeLimit} cannot hold the ${modelMiB()} MiB model and a challenger of its size: raise it to ${modelVolumeGiB()}Gi`,
    );
  }
  if (env.drift.enabled && driftBaselineFile === undefined) {
    p.push('drift.enabled needs a drift baseline beside the model (model.artifacts.driftBaseline)');
  }
  for (const f of modelArtifacts) {
    if (!/^[\w.-]+(\/[\w.-]+)*$/.test(f) || f.split('/').includes('..')) {
      p.push(`model artifact "${f}" is not a plain relative path`);
    }
  }
  return p;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Label maps an override replaces whole, so a default label can be dropped. */
const replacedWhole = new Set(['nodeSelector', 'selectorLabels', 'image']);

/** Objects merge key by key; arrays, scalars and `replacedWhole` maps replace. */
function merge<T>(base: T, patch: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(patch)) return (patch ?? base) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    out[k] =
      !replacedWhole.has(k) && isPlainObject(v) && isPlainObject(out[k]) ? merge(out[k], v) : v;
  }
  return out as T;
}
