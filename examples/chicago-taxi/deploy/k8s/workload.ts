/**
 * The pods: the inference Deployment's and the drift CronJob's. Both run as user 10001 with a
 * read-only root filesystem, no privilege escalation, no capabilities and the RuntimeDefault seccomp
 * profile (the restricted Pod Security Standard), and both fetch what they need from the bucket in
 * an init container that authenticates with the workload identity: the service's pods their model
 * (and a sidecar ships their prediction log back, see `prediction-logs.ts`), the drift job, under
 * its own identity, yesterday's prediction log.
 */
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import { model, runtime, service } from '../plan.js';
import { type K8sEnvironment, modelArtifacts } from './config.js';
import { challengerFor } from './challenger.js';
import { imageReference } from './images.js';
import { driftComponent, k8sNames } from './names.js';
import {
  baselineMount,
  challengerLogPath,
  driftBaseline,
  qualityFloors,
  feedbackFolder,
  feedbackLogPath,
  predictionLogPath,
  shipperConfigKey,
  shipperConfigMount,
  shipperDataMount,
  shipperSourceMount,
} from './prediction-logs.js';

export const user = 10001;
export const modelMount = '/models';
export const modelPath = `${modelMount}/model.onnx`;
/** Where the API key Secret is mounted; the server reads `API_KEYS_FILE` below it. */
export const apiKeysMount = '/etc/mlservice/api-keys';
/** The key of the Secret (`kubectl create secret generic ... --from-file=api-keys=...`). */
export const apiKeysSecretKey = 'api-keys';
export const apiKeysFile = `${apiKeysMount}/${apiKeysSecretKey}`;
export { predictionLogPath };
const dataMount = '/data';

/** The ConfigMaps the pods mount: the shipper's configuration, the drift baseline, the quality floors. */
export const configMaps = {
  /** Named after the Deployment whose pods read it. */
  logShipper: k8sNames.workload,
  /** Named after the CronJob whose pods read it. */
  driftBaseline: k8sNames.driftCronJob,
  /** The model's metrics.json for the same job's quality check. */
  qualityFloors: `${k8sNames.driftCronJob}-floors`,
} as const;

export const logShipperContainerName = 'ship-predictions';

/** Labels of the inference pods: the plan's labels, which include the Service's selector. */
export const inferencePodLabels: Readonly<Record<string, string>> = {
  ...service.labels,
  ...service.selectorLabels,
};

/** Labels of the drift job's pods: same service, another component, so no Service selects them. */
export const driftPodLabels: Readonly<Record<string, string>> = {
  ...service.labels,
  'app.kubernetes.io/component': driftComponent,
};

export const podSecurityContext = {
  runAsNonRoot: true,
  runAsUser: user,
  runAsGroup: user,
  fsGroup: user,
  fsGroupChangePolicy: 'OnRootMismatch',
  seccompProfile: { type: 'RuntimeDefault' },
} as const;

export const containerSecurityContext: ISecurityContext = {
  runAsNonRoot: true,
  runAsUser: user,
  runAsGroup: user,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  privileged: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

const cpu = (millis: number) => `${millis}m`;

/**
 * The model and its artifacts, object by object: the identity may read its model's objects but not
 * list the bucket. `MODEL_URI` names `model.onnx`; the artifacts sit beside it. A missing artifact
 * is reported, not fatal: the service decides at start what it cannot run without.
 */
const fetchModel = {
  gs: [
    'dir="${MODEL_URI%/*}"',
    'gcloud storage cp "$MODEL_URI" /models/model.onnx',
    'for f in $MODEL_ARTIFACTS; do',
    '  gcloud storage cp "$dir/$f" "/models/$f" || echo "artifact $f: not fetched" >&2',
    'done',
  ],
  s3: [
    'dir="${MODEL_URI%/*}"',
    'aws s3 cp --only-show-errors "$MODEL_URI" /models/model.onnx',
    'for f in $MODEL_ARTIFACTS; do',
    '  aws s3 cp --only-show-errors "$dir/$f" "/models/$f" || echo "artifact $f: not fetched" >&2',
    'done',
  ],
} as const;

const verifyModel = ['printf \'%s  %s\\n\' "$MODEL_SHA256" /models/model.onnx | sha256sum -c -'];

/**
 * The challenger (deploy/k8s/challenger.ts), when the project has one: into `/models/challenger/`,
 * where the server looks for it, every file required and the model's sha256 verified.
 */
const fetchChallenger = {
  gs: (from: string, to: string) => `gcloud storage cp "${from}" "${to}"`,
  s3: (from: string, to: string) => `aws s3 cp --only-show-errors "${from}" "${to}"`,
} as const;

function challengerScript(scheme: 'gs' | 's3'): string[] {
  const cp = fetchChallenger[scheme];
  return [
    'mkdir -p /models/challenger',
    'cdir="${CHALLENGER_URI%/*}"',
    cp('$CHALLENGER_URI', '/models/challenger/model.onnx'),
    'for f in $CHALLENGER_ARTIFACTS; do',
    `  ${cp('$cdir/$f', '/models/challenger/$f')}`,
    'done',
    'printf \'%s  %s\\n\' "$CHALLENGER_SHA256" /models/challenger/model.onnx | sha256sum -c -',
  ];
}

/**
 * The logs the monitoring job reads, one JSONL file per day under `/data/logs/`: the prediction
 * log's partitions (the shipper writes `dt=YYYY-MM-DD/`, UTC) and the feedback log's
 * (`feedback/dt=YYYY-MM-DD/`) of the last LOOKBACK_DAYS days and today. Yesterday's predictions
 * are required (the drift check reads them, as `/data/predictions.jsonl`); another day without
 * objects is simply absent. Listing that prefix is the job identity's only list permission.
 */
const fetchDay = {
  gs: (from: string, to: string) => `gcloud storage cat "${from}*" > "${to}" || rm -f "${to}"`,
  s3: (from: string, to: string) =>
    `{ aws s3 cp --recursive --only-show-errors "${from}" /tmp/day/ && cat /tmp/day/* > "${to}"; } || rm -f "${to}"; rm -rf /tmp/day`,
} as const;

function fetchLogs(scheme: 'gs' | 's3'): string[] {
  const get = fetchDay[scheme];
  return [
    'mkdir -p /data/logs/predictions /data/logs/feedback',
    'i=0',
    'while [ "$i" -le "$LOOKBACK_DAYS" ]; do',
    '  d="$(date -u -d "$i days ago" +%F)"',
    `  ${get('${PREDICTION_LOG_URI}dt=${d}/', '/data/logs/predictions/${d}.jsonl')}`,
    `  ${get('${PREDICTION_LOG_URI}${FEEDBACK_FOLDER}dt=${d}/', '/data/logs/feedback/${d}.jsonl')}`,
    '  i=$((i + 1))',
    'done',
    'day="$(date -u -d yesterday +%F)"',
    '[ -s "/data/logs/predictions/${day}.jsonl" ] || { echo "no prediction log for $day under ${PREDICTION_LOG_URI}dt=${day}/" >&2; exit 3; }',
    'cp "/data/logs/predictions/${day}.jsonl" /data/predictions.jsonl',
  ];
}

/** Environment of the cloud CLI: writable config under /tmp, only the workload identity's credentials. */
function cliEnv(env: K8sEnvironment): IEnvVar[] {
  if (env.cloud === 'gcp') {
    return [
      { name: 'HOME', value: '/tmp' },
      { name: 'CLOUDSDK_CONFIG', value: '/tmp/gcloud' },
      { name: 'CLOUDSDK_CORE_DISABLE_PROMPTS', value: '1' },
      { name: 'CLOUDSDK_CORE_PROJECT', value: env.plan.gcp?.project ?? '' },
    ];
  }
  return [
    { name: 'HOME', value: '/tmp' },
    { name: 'AWS_REGION', value: env.region },
    { name: 'AWS_DEFAULT_REGION', value: env.region },
    { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
    // Never fall back to the node's instance role: the pod's IRSA role or nothing.
    { name: 'AWS_EC2_METADATA_DISABLED', value: 'true' },
  ];
}

function initContainer(
  env: K8sEnvironment,
  name: string,
  script: readonly string[],
  ownEnv: IEnvVar[],
  mounts: IContainer['volumeMounts'],
): IContainer {
  return {
    name,
    image: imageReference(env.initContainer.image),
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/sh', '-ec', ['set -eu', ...script].join('\n')],
    env: [...ownEnv, ...cliEnv(env)],
    resources: {
      requests: { cpu: cpu(env.initContainer.cpuMillis), memory: env.initContainer.memory },
      limits: { cpu: cpu(env.initContainer.cpuMillis), memory: env.initContainer.memory },
    },
    securityContext: containerSecurityContext,
    volumeMounts: mounts,
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

/**
 * The prediction log shipper, a native sidecar (an init container that keeps running): it starts
 * before the server and stops after it, so the last lines the server writes while it drains are
 * still shipped. Same restricted security context as the server; it reads the pod's /tmp only.
 */
function logShipper(env: K8sEnvironment): IContainer {
  const s = env.logShipper;
  return {
    name: logShipperContainerName,
    image: imageReference(s.image),
    imagePullPolicy: 'IfNotPresent',
    restartPolicy: 'Always',
    args: [
      '--config-json',
      `${shipperConfigMount}/${shipperConfigKey}`,
      '--graceful-shutdown-limit-secs',
      String(s.flushSeconds),
    ],
    env: [
      { name: 'VECTOR_LOG', value: env.logLevel },
      ...(env.cloud === 'aws'
        ? [
            { name: 'AWS_REGION', value: env.region },
            { name: 'AWS_STS_REGIONAL_ENDPOINTS', value: 'regional' },
            // The pod's IRSA role or nothing: never the node's instance role.
            { name: 'AWS_EC2_METADATA_DISABLED', value: 'true' },
          ]
        : []),
    ],
    resources: {
      requests: { cpu: cpu(s.cpuMillis), memory: s.memory },
      limits: { cpu: cpu(s.cpuMillis), memory: s.memory },
    },
    securityContext: containerSecurityContext,
    volumeMounts: [
      { name: 'tmp', mountPath: shipperSourceMount, readOnly: true },
      { name: 'log-shipper', mountPath: shipperDataMount },
      { name: 'log-shipper-config', mountPath: shipperConfigMount, readOnly: true },
    ],
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

function commonPodSpec(
  env: K8sEnvironment,
  serviceAccountName: string,
): Pick<
  IPodSpec,
  | 'serviceAccountName'
  | 'automountServiceAccountToken'
  | 'enableServiceLinks'
  | 'securityContext'
  | 'nodeSelector'
  | 'tolerations'
> {
  return {
    serviceAccountName,
    // Workload Identity (metadata server) and IRSA (its own projected token) need no API token.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: podSecurityContext,
    ...(Object.keys(env.scheduling.nodeSelector).length > 0
      ? { nodeSelector: { ...env.scheduling.nodeSelector } }
      : {}),
    ...(env.scheduling.tolerations.length > 0
      ? { tolerations: env.scheduling.tolerations.map((t) => ({ ...t })) }
      : {}),
  };
}

/**
 * Seconds the pod gets after deletion: preStop pause + the server's drain + the shipper's last
 * upload (it stops after the server) + a margin.
 */
export function terminationGraceSeconds(env: K8sEnvironment): number {
  return (
    env.shutdown.preStopSeconds +
    env.shutdown.drainSeconds +
    env.logShipper.flushSeconds +
    env.shutdown.marginSeconds
  );
}

/** The server's authentication and exposure settings (README "Authentication and exposure"). */
function authEnv(env: K8sEnvironment): IEnvVar[] {
  const { mode, jwt, rateLimitPerMinute } = env.auth;
  return [
    { name: 'AUTH_MODE', value: mode },
    ...(mode.includes('api-key') ? [{ name: 'API_KEYS_FILE', value: apiKeysFile }] : []),
    ...(mode.includes('jwt') && jwt
      ? [
          { name: 'JWT_JWKS_URL', value: jwt.jwksUrl },
          { name: 'JWT_ISSUER', value: jwt.issuer },
          { name: 'JWT_AUDIENCE', value: jwt.audience },
        ]
      : []),
    ...(rateLimitPerMinute > 0
      ? [{ name: 'RATE_LIMIT_PER_MINUTE', value: String(rateLimitPerMinute) }]
      : []),
  ];
}

const usesApiKeys = (env: K8sEnvironment) => env.auth.mode.includes('api-key');

/** The inference pods' spec: the model fetch, the log shipper, the server and their volumes. */
export function inferencePodSpec(env: K8sEnvironment): IPodSpec {
  return {
    ...commonPodSpec(env, service.serviceAccount),
    terminationGracePeriodSeconds: terminationGraceSeconds(env),
    initContainers: [fetchModelContainer(env), logShipper(env)],
    containers: [inferenceContainer(env)],
    volumes: inferenceVolumes(env),
  };
}

/** The init container that fetches and verifies the model, its artifacts and any challenger. */
function fetchModelContainer(env: K8sEnvironment): IContainer {
  const challenger = challengerFor(env.plan.modelUri);
  return initContainer(
    env,
    'fetch-model',
    [
      ...fetchModel[env.objectStoreScheme],
      ...verifyModel,
      ...(challenger ? challengerScript(env.objectStoreScheme) : []),
    ],
    [
      { name: 'MODEL_URI', value: env.plan.modelUri },
      { name: 'MODEL_SHA256', value: model.sha256 },
      { name: 'MODEL_ARTIFACTS', value: modelArtifacts.join(' ') },
      ...(challenger
        ? [
            { name: 'CHALLENGER_URI', value: challenger.uri },
            { name: 'CHALLENGER_SHA256', value: challenger.sha256 },
            { name: 'CHALLENGER_ARTIFACTS', value: challenger.artifacts.join(' ') },
          ]
        : []),
    ],
    [
      { name: 'model', mountPath: modelMount },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  );
}

/** The server's container: ports, environment, resources, probes, shutdown and mounts. */
function inferenceContainer(env: K8sEnvironment): IContainer {
  return {
    name: k8sNames.container,
    image: env.image,
    imagePullPolicy: 'IfNotPresent',
    ports: [
      { name: 'http', containerPort: runtime.port, protocol: 'TCP' },
      // /metrics alone, without authentication: only Prometheus's namespace may reach it.
      { name: 'metrics', containerPort: runtime.metricsPort, protocol: 'TCP' },
      // The Open Inference Protocol over gRPC (src/grpc/), beside REST.
      { name: 'grpc', containerPort: runtime.grpcPort, protocol: 'TCP' },
    ],
    env: serverEnv(env),
    resources: {
      requests: { cpu: cpu(runtime.cpuMillis), memory: runtime.memory },
      limits: { cpu: cpu(runtime.cpuMillis), memory: runtime.memory },
    },
    ...inferenceProbes(env),
    lifecycle: { preStop: { sleep: { seconds: env.shutdown.preStopSeconds } } },
    securityContext: containerSecurityContext,
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'model', mountPath: modelMount, readOnly: true },
      ...(usesApiKeys(env) ? [{ name: 'api-keys', mountPath: apiKeysMount, readOnly: true }] : []),
    ],
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

/** The server's environment variables: ports, paths, shutdown, log level, auth and memory sizes. */
function serverEnv(env: K8sEnvironment): IEnvVar[] {
  return [
    { name: 'PORT', value: String(runtime.port) },
    { name: 'METRICS_PORT', value: String(runtime.metricsPort) },
    { name: 'GRPC_PORT', value: String(runtime.grpcPort) },
    { name: 'MODEL_PATH', value: modelPath },
    // One process per pod; the inference pool gets one thread per whole core of the limit.
    { name: 'WORKERS', value: String(runtime.poolSize) },
    { name: 'PREDICTION_LOG_PATH', value: predictionLogPath },
    { name: 'FEEDBACK_LOG_PATH', value: feedbackLogPath },
    { name: 'CHALLENGER_LOG_PATH', value: challengerLogPath },
    { name: 'SHUTDOWN_TIMEOUT_MS', value: String(env.shutdown.drainSeconds * 1000) },
    { name: 'LOG_LEVEL', value: env.logLevel },
    { name: 'NODE_ENV', value: 'production' },
    ...authEnv(env),
    // Sized from the container's memory (config.ts `memory`, `memoryBudgetMiB`).
    { name: 'EXPLAIN_MAX_HEAP_MB', value: String(env.memory.explainHeapMiB) },
    {
      name: 'PREDICTION_LOG_BUFFER_BYTES',
      value: String(env.memory.predictionLogBufferMiB * 1024 * 1024),
    },
  ];
}

/**
 * Probes: readiness and liveness stay HTTP (/readyz, /healthz). gRPC health reports the same
 * readiness (SERVING only when /readyz is 200), but it has no liveness meaning (NOT_SERVING while
 * warming up would restart a loading pod), and one readiness probe is all a container gets. The
 * startup probe is Kubernetes' native gRPC probe: it passes when the service is ready, exactly as
 * /readyz would, and also proves the gRPC listener answers.
 */
function inferenceProbes(
  env: K8sEnvironment,
): Pick<IContainer, 'startupProbe' | 'readinessProbe' | 'livenessProbe'> {
  const period = 5;
  return {
    startupProbe: {
      // Ready means every worker ran a warm-up inference: the whole model load fits this budget.
      grpc: { port: runtime.grpcPort, service: 'inference.GRPCInferenceService' },
      periodSeconds: period,
      timeoutSeconds: 2,
      failureThreshold: Math.ceil(env.startupBudgetSeconds / period),
    },
    readinessProbe: {
      httpGet: { path: '/readyz', port: 'http' },
      periodSeconds: period,
      timeoutSeconds: 2,
      failureThreshold: 2,
      successThreshold: 1,
    },
    livenessProbe: {
      httpGet: { path: '/healthz', port: 'http' },
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 3,
    },
  };
}

/** The inference pod's volumes: scratch, the model, the shipper's buffer and config, the API keys. */
function inferenceVolumes(env: K8sEnvironment): NonNullable<IPodSpec['volumes']> {
  return [
    { name: 'tmp', emptyDir: { sizeLimit: env.storage.tmpSizeLimit } },
    { name: 'model', emptyDir: { sizeLimit: env.storage.modelSizeLimit } },
    { name: 'log-shipper', emptyDir: { sizeLimit: env.logShipper.dataSizeLimit } },
    { name: 'log-shipper-config', configMap: { name: configMaps.logShipper } },
    ...(usesApiKeys(env)
      ? [
          {
            name: 'api-keys',
            // Created out of band (README), never in these manifests; a pod without it waits.
            secret: {
              secretName: k8sNames.apiKeysSecret,
              optional: false,
              defaultMode: 0o440,
              items: [{ key: apiKeysSecretKey, path: apiKeysSecretKey }],
            },
          },
        ]
      : []),
  ];
}

export const driftContainerName = 'drift';
export const qualityContainerName = 'quality';
/** Where the job's ConfigMap puts the model's metrics.json (the floors of live quality). */
export const floorsMount = '/floors';
const retrainTokenMount = '/var/run/secrets/retrain';

/**
 * The daily monitoring job (successor of the drift check): an init container fetches the logs,
 * then two containers read them side by side, the drift check (yesterday against the baseline) and,
 * when `quality.enabled`, live quality offline (`npm run monitor` over the last days' predictions
 * and feedback). Each exits 1 on a finding, which fails the job without retries.
 */
export function driftPodSpec(env: K8sEnvironment): IPodSpec {
  const retrain = env.quality.retrain;
  return {
    ...commonPodSpec(env, service.driftServiceAccount),
    restartPolicy: 'Never',
    initContainers: [
      initContainer(
        env,
        'fetch-log',
        fetchLogs(env.objectStoreScheme),
        [
          { name: 'PREDICTION_LOG_URI', value: env.plan.predictionLogUri },
          { name: 'FEEDBACK_FOLDER', value: feedbackFolder },
          {
            name: 'LOOKBACK_DAYS',
            value: String(env.quality.enabled ? env.quality.lookbackDays : 1),
          },
        ],
        [
          { name: 'data', mountPath: dataMount },
          { name: 'tmp', mountPath: '/tmp' },
        ],
      ),
    ],
    containers: [
      // The baseline from the ConfigMap, not the model's folder: this identity cannot read it.
      monitoringContainer(env, driftContainerName, [
        'dist/src/cli/drift.js',
        '--log',
        `${dataMount}/predictions.jsonl`,
        '--baseline',
        `${baselineMount}/${driftBaseline().file}`,
      ]),
      ...(env.quality.enabled
        ? [
            monitoringContainer(env, qualityContainerName, [
              'dist/src/cli/monitor.js',
              '--predictions',
              `${dataMount}/logs/predictions`,
              '--feedback',
              `${dataMount}/logs/feedback`,
              '--metrics',
              `${floorsMount}/${qualityFloors().file}`,
            ]),
          ]
        : []),
    ],
    volumes: [
      { name: 'tmp', emptyDir: { sizeLimit: env.storage.tmpSizeLimit } },
      { name: 'data', emptyDir: { sizeLimit: env.storage.tmpSizeLimit } },
      { name: 'baseline', configMap: { name: configMaps.driftBaseline } },
      ...(env.quality.enabled
        ? [{ name: 'floors', configMap: { name: configMaps.qualityFloors } }]
        : []),
      ...(retrain.repository
        ? [{ name: 'retrain-token', secret: { secretName: retrain.tokenSecret, optional: true } }]
        : []),
    ],
  };
}

/** One check of the monitoring job: the image's CLI, the fetched logs read-only, its verdict as exit code. */
function monitoringContainer(env: K8sEnvironment, name: string, args: string[]): IContainer {
  // The checks share what the drift check alone had (at most one core).
  const jobCpu = Math.max(250, Math.min(runtime.cpuMillis, 1000) / (env.quality.enabled ? 2 : 1));
  const retrain = env.quality.retrain;
  return {
    name,
    image: env.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['node', ...args],
    env: [
      { name: 'LOG_LEVEL', value: env.logLevel },
      { name: 'NODE_ENV', value: 'production' },
      // A finding sends repository_dispatch to the training repository (src/monitoring/retrain-dispatch.ts).
      ...(retrain.repository
        ? [
            { name: 'RETRAIN_DISPATCH_REPOSITORY', value: retrain.repository },
            { name: 'RETRAIN_DISPATCH_TOKEN_FILE', value: `${retrainTokenMount}/token` },
          ]
        : []),
    ],
    resources: {
      requests: { cpu: cpu(jobCpu), memory: runtime.memory },
      limits: { cpu: cpu(jobCpu), memory: runtime.memory },
    },
    securityContext: containerSecurityContext,
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'data', mountPath: dataMount, readOnly: true },
      name === driftContainerName
        ? { name: 'baseline', mountPath: baselineMount, readOnly: true }
        : { name: 'floors', mountPath: floorsMount, readOnly: true },
      ...(retrain.repository
        ? [{ name: 'retrain-token', mountPath: retrainTokenMount, readOnly: true }]
        : []),
    ],
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

export { driftComponent };
