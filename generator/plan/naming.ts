/**
 * Every name the generated project uses, derived once. The Kubernetes manifests (cdk8s) and the
 * cloud stacks (cdktf) both read these, so the service account annotation always names the
 * identity the stack creates, and the bucket the init container reads is the bucket it creates.
 */
import { createHash } from 'node:crypto';
import type { Answers } from '../answers/schema.js';

export const stages = ['dev', 'staging', 'prod'] as const;
export type Stage = (typeof stages)[number];
export type Cloud = 'gcp' | 'aws';

/** Fits `s` into `max` characters, keeping it unique with a short hash when it has to cut. */
export function fit(s: string, max: number): string {
  if (s.length <= max) return s;
  const hash = createHash('sha256').update(s).digest('hex').slice(0, 6);
  return `${s.slice(0, max - 7).replace(/-+$/, '')}-${hash}`;
}

export interface ServiceNames {
  /** Deployment, Service, HPA, PDB, container and npm package name. */
  readonly service: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Prefix of every Prometheus metric the service exports. */
  readonly metricPrefix: string;
  /** Labels on every Kubernetes object; the pod selector is `selectorLabels`. */
  readonly labels: Readonly<Record<string, string>>;
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** Container registry repository (Artifact Registry / ECR). */
  readonly registryRepository: string;
}

export interface GcpNames {
  readonly project: string;
  readonly region: string;
  readonly cluster: string;
  readonly network: string;
  readonly serviceAccountId: string;
  readonly serviceAccountEmail: string;
  /** The IAM member that Workload Identity binds to the Kubernetes service account. */
  readonly workloadIdentityMember: string;
  readonly registryHost: string;
  readonly image: string;
  readonly modelBucket: string;
  readonly stateBucket: string;
  readonly statePrefix: string;
}

export interface AwsNames {
  readonly accountId: string;
  readonly region: string;
  readonly cluster: string;
  readonly vpc: string;
  readonly roleName: string;
  readonly roleArn: string;
  readonly registryHost: string;
  readonly image: string;
  readonly modelBucket: string;
  readonly stateBucket: string;
  readonly stateKey: string;
  readonly lockTable: string;
}

export function serviceNames(a: Answers): ServiceNames {
  const selectorLabels = {
    'app.kubernetes.io/name': a.name,
    'app.kubernetes.io/component': 'inference',
  };
  return {
    service: a.name,
    namespace: a.name,
    serviceAccount: a.name,
    metricPrefix: 'mlservice',
    selectorLabels,
    labels: {
      ...selectorLabels,
      'app.kubernetes.io/part-of': a.name,
      'app.kubernetes.io/managed-by': 'create-mlops-service',
      team: a.owner,
      'cost-center': a.costCenter,
    },
    registryRepository: a.registry ?? a.name,
  };
}

/** Object key of the model inside its bucket: versioned, so a rollback is a pointer change. */
export function modelObjectKey(modelName: string, modelVersion: string): string {
  return `models/${modelName}/${modelVersion}/model.onnx`;
}

export function gcpNames(a: Answers, stage: Stage): GcpNames {
  if (!a.gcpProject) throw new Error('gcpNames: gcpProject is required');
  const svc = serviceNames(a);
  const project = a.gcpProject;
  const serviceAccountId = fit(`${a.name}-${stage}`, 30);
  const registryHost = `${a.gcpRegion}-docker.pkg.dev`;
  return {
    project,
    region: a.gcpRegion,
    cluster: fit(`${a.name}-${stage}`, 40),
    network: fit(`${a.name}-${stage}`, 63),
    serviceAccountId,
    serviceAccountEmail: `${serviceAccountId}@${project}.iam.gserviceaccount.com`,
    workloadIdentityMember: `serviceAccount:${project}.svc.id.goog[${svc.namespace}/${svc.serviceAccount}]`,
    registryHost,
    image: `${registryHost}/${project}/${svc.registryRepository}/${a.name}`,
    modelBucket: fit(`${project}-${a.name}-${stage}-models`, 63),
    stateBucket: fit(`${project}-${a.name}-tfstate`, 63),
    statePrefix: `${a.name}/${stage}`,
  };
}

export function awsNames(a: Answers, stage: Stage): AwsNames {
  if (!a.awsAccountId) throw new Error('awsNames: awsAccountId is required');
  const svc = serviceNames(a);
  const roleName = fit(`${a.name}-${stage}-irsa`, 64);
  const registryHost = `${a.awsAccountId}.dkr.ecr.${a.awsRegion}.amazonaws.com`;
  return {
    accountId: a.awsAccountId,
    region: a.awsRegion,
    cluster: fit(`${a.name}-${stage}`, 100),
    vpc: fit(`${a.name}-${stage}`, 255),
    roleName,
    roleArn: `arn:aws:iam::${a.awsAccountId}:role/${roleName}`,
    registryHost,
    image: `${registryHost}/${svc.registryRepository}`,
    modelBucket: fit(`${a.name}-${stage}-models-${a.awsAccountId}`, 63),
    stateBucket: fit(`${a.name}-tfstate-${a.awsAccountId}`, 63),
    stateKey: `${a.name}/${stage}/terraform.tfstate`,
    lockTable: fit(`${a.name}-tfstate-lock`, 255),
  };
}
