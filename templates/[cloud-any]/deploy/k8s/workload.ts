/**
 * The pods: the inference Deployment's and the drift CronJob's. Both run as user 10001 with a
 * read-only root filesystem, no privilege escalation, no capabilities and the RuntimeDefault seccomp
 * profile (the restricted Pod Security Standard), and both fetch what they need from the bucket in
 * an init container that authenticates with the workload identity.
 */
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import { model, runtime, service } from '../plan.js';
import { type K8sEnvironment, modelArtifacts } from './config.js';
import { imageReference } from './images.js';
import { driftComponent, k8sNames } from './names.js';

export const user = 10001;
export const modelMount = '/models';
export const modelPath = `${modelMount}/model.onnx`;
export const predictionLogPath = '/tmp/predictions.jsonl';
const dataMount = '/data';

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

/** Yesterday's partition of the prediction log, concatenated into one JSONL file. */
const fetchLog = {
  gs: [
    'day="$(date -u -d yesterday +%F)"',
    'gcloud storage cat "${PREDICTION_LOG_URI}dt=${day}/*" > /data/predictions.jsonl',
  ],
  s3: [
    'day="$(date -u -d yesterday +%F)"',
    'aws s3 cp --recursive --only-show-errors "${PREDICTION_LOG_URI}dt=${day}/" /tmp/log/',
    'cat /tmp/log/* > /data/predictions.jsonl',
  ],
} as const;

const requireLog = [
  '[ -s /data/predictions.jsonl ] || { echo "no prediction log for $day under $PREDICTION_LOG_URI" >&2; exit 3; }',
];

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
  extraEnv: IEnvVar[],
  mounts: IContainer['volumeMounts'],
): IContainer {
  return {
    name,
    image: imageReference(env.initContainer.image),
    imagePullPolicy: 'IfNotPresent',
    command: ['/bin/sh', '-ec', ['set -eu', ...script].join('\n')],
    env: [
      { name: 'MODEL_URI', value: env.plan.modelUri },
      { name: 'MODEL_SHA256', value: model.sha256 },
      { name: 'MODEL_ARTIFACTS', value: modelArtifacts.join(' ') },
      ...extraEnv,
      ...cliEnv(env),
    ],
    resources: {
      requests: { cpu: cpu(env.initContainer.cpuMillis), memory: env.initContainer.memory },
      limits: { cpu: cpu(env.initContainer.cpuMillis), memory: env.initContainer.memory },
    },
    securityContext: containerSecurityContext,
    volumeMounts: mounts,
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

export function predictionLogUri(env: K8sEnvironment): string {
  return `${env.objectStoreScheme}://${env.modelBucket}/${env.drift.predictionLogPrefix}`;
}

function volumes(env: K8sEnvironment, extra: IVolume[] = []): IVolume[] {
  return [
    { name: 'tmp', emptyDir: { sizeLimit: env.storage.tmpSizeLimit } },
    { name: 'model', emptyDir: { sizeLimit: env.storage.modelSizeLimit } },
    ...extra,
  ];
}

function commonPodSpec(
  env: K8sEnvironment,
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
    serviceAccountName: service.serviceAccount,
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

/** Seconds the pod gets after deletion: preStop pause + the server's drain + a margin. */
export function terminationGraceSeconds(env: K8sEnvironment): number {
  return env.shutdown.preStopSeconds + env.shutdown.drainSeconds + env.shutdown.marginSeconds;
}

export function inferencePodSpec(env: K8sEnvironment): IPodSpec {
  const period = 5;
  return {
    ...commonPodSpec(env),
    terminationGracePeriodSeconds: terminationGraceSeconds(env),
    initContainers: [
      initContainer(
        env,
        'fetch-model',
        [...fetchModel[env.objectStoreScheme], ...verifyModel],
        [],
        [
          { name: 'model', mountPath: modelMount },
          { name: 'tmp', mountPath: '/tmp' },
        ],
      ),
    ],
    containers: [
      {
        name: k8sNames.container,
        image: env.image,
        imagePullPolicy: 'IfNotPresent',
        ports: [{ name: 'http', containerPort: runtime.port, protocol: 'TCP' }],
        env: [
          { name: 'PORT', value: String(runtime.port) },
          { name: 'MODEL_PATH', value: modelPath },
          // One process per pod; the inference pool gets one thread per whole core of the limit.
          { name: 'WORKERS', value: String(runtime.poolSize) },
          { name: 'PREDICTION_LOG_PATH', value: predictionLogPath },
          { name: 'SHUTDOWN_TIMEOUT_MS', value: String(env.shutdown.drainSeconds * 1000) },
          { name: 'LOG_LEVEL', value: env.logLevel },
          { name: 'NODE_ENV', value: 'production' },
        ],
        resources: {
          requests: { cpu: cpu(runtime.cpuMillis), memory: runtime.memory },
          limits: { cpu: cpu(runtime.cpuMillis), memory: runtime.memory },
        },
        startupProbe: {
          // Ready means every worker ran a warm-up inference: the whole model load fits this budget.
          httpGet: { path: '/readyz', port: 'http' },
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
        lifecycle: { preStop: { sleep: { seconds: env.shutdown.preStopSeconds } } },
        securityContext: containerSecurityContext,
        volumeMounts: [
          { name: 'tmp', mountPath: '/tmp' },
          { name: 'model', mountPath: modelMount, readOnly: true },
        ],
        terminationMessagePolicy: 'FallbackToLogsOnError',
      },
    ],
    volumes: volumes(env),
  };
}

export const driftContainerName = 'drift';

export function driftPodSpec(env: K8sEnvironment): IPodSpec {
  const driftCpu = Math.min(runtime.cpuMillis, 1000);
  return {
    ...commonPodSpec(env),
    restartPolicy: 'Never',
    initContainers: [
      initContainer(
        env,
        'fetch-model-and-log',
        [
          ...fetchModel[env.objectStoreScheme],
          ...verifyModel,
          ...fetchLog[env.objectStoreScheme],
          ...requireLog,
        ],
        [{ name: 'PREDICTION_LOG_URI', value: predictionLogUri(env) }],
        [
          { name: 'model', mountPath: modelMount },
          { name: 'data', mountPath: dataMount },
          { name: 'tmp', mountPath: '/tmp' },
        ],
      ),
    ],
    containers: [
      {
        name: driftContainerName,
        image: env.image,
        imagePullPolicy: 'IfNotPresent',
        command: ['node', 'dist/src/cli/drift.js', '--log', `${dataMount}/predictions.jsonl`],
        env: [
          { name: 'MODEL_PATH', value: modelPath },
          { name: 'LOG_LEVEL', value: env.logLevel },
          { name: 'NODE_ENV', value: 'production' },
        ],
        resources: {
          requests: { cpu: cpu(driftCpu), memory: runtime.memory },
          limits: { cpu: cpu(driftCpu), memory: runtime.memory },
        },
        securityContext: containerSecurityContext,
        volumeMounts: [
          { name: 'tmp', mountPath: '/tmp' },
          { name: 'model', mountPath: modelMount, readOnly: true },
          { name: 'data', mountPath: dataMount, readOnly: true },
        ],
        terminationMessagePolicy: 'FallbackToLogsOnError',
      },
    ],
    volumes: volumes(env, [{ name: 'data', emptyDir: { sizeLimit: env.storage.tmpSizeLimit } }]),
  };
}

export { driftComponent };
