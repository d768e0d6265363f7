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
  /** The service's Kubernetes service account (its pods and the log shipper beside them). */
  readonly serviceAccount: string;
  /** The drift CronJob's own Kubernetes service account: it reads prediction logs, not models. */
  readonly driftServiceAccount: string;
  /** Prefix of every Prometheus metric the service exports. */
  readonly metricPrefix: string;
  /** Labels on every Kubernetes object; the pod selector is `selectorLabels`. */
  readonly labels: Readonly<Record<string, string>>;
  readonly selectorLabels: Readonly<Record<string, string>>;
  /** Container registry repository (Artifact Registry / ECR). */
  readonly registryRepository: string;
  /** Label and taint of the ML node pool: the stacks set it on nodes, the pods tolerate and select it. */
  readonly mlNodePool: { readonly key: string; readonly value: string };
  /** Kubernetes object names beyond the service's own. */
  readonly k8s: {
    /** CronJob names are limited to 52 characters (the Job name gets an 11-character suffix). */
    readonly driftCronJob: string;
    readonly denyAllPolicy: string;
    readonly inferencePolicy: string;
    readonly driftPolicy: string;
    readonly dashboard: string;
    /** Grafana dashboard uids are at most 40 characters. */
    readonly dashboardUid: string;
    /** Role and RoleBinding of the stage's deploy identity in the namespace (GKE). */
    readonly deployRole: string;
    readonly deployGroup: string;
    /**
     * The Secret holding the API key hashes the pods mount (`API_KEYS_FILE`). Created out of band,
     * never by the manifests (MLOPS-024); the README says how.
     */
    readonly apiKeysSecret: string;
  };
}

export interface GcpNames {
  /**
   * The stage's namespace. Stages share the project's Workload Identity pool, so the namespace
   * differs per stage: otherwise a dev pod could act as the prod service account.
   */
  readonly namespace: string;
  readonly project: string;
  readonly region: string;
  readonly cluster: string;
  readonly network: string;
  readonly serviceAccountId: string;
  readonly serviceAccountEmail: string;
  /** The IAM member that Workload Identity binds to the Kubernetes service account. */
  readonly workloadIdentityMember: string;
  /** The drift job's own identity: reads the prediction logs only. */
  readonly driftServiceAccountId: string;
  readonly driftServiceAccountEmail: string;
  readonly driftWorkloadIdentityMember: string;
  readonly registryHost: string;
  readonly image: string;
  readonly modelBucket: string;
  readonly stateBucket: string;
  readonly statePrefix: string;
  /** State of the bootstrap stack (state bucket, registry), beside the environments' state. */
  readonly bootstrapStatePrefix: string;
  /** Names only the stack uses, derived here so every length limit is handled in one place. */
  readonly nodeServiceAccountId: string;
  readonly keyRing: string;
  readonly cryptoKey: string;
  readonly systemPool: string;
  readonly mlPool: string;
  /** The stage's deploy identity: GitHub Actions of the stage's environment impersonate it. */
  readonly deployServiceAccountId: string;
  readonly deployServiceAccountEmail: string;
  /** Workload Identity Federation pool of GitHub's tokens: one per project, in the bootstrap stack. */
  readonly workloadIdentityPool: string;
  readonly workloadIdentityProviderId: string;
  /**
   * `projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`, what
   * `google-github-actions/auth` takes; present only when the project number is an answer.
   */
  readonly workloadIdentityProvider?: string;
  /**
   * Custom role of the deploy identities on the project: get the cluster and connect to its
   * DNS endpoint, nothing else (Kubernetes RBAC grants the rest, in the stage's namespace).
   */
  readonly deployClusterRoleId: string;
}

export interface AwsNames {
  /** The stage's namespace (see GcpNames.namespace). */
  readonly namespace: string;
  readonly accountId: string;
  readonly region: string;
  /** ARN partition of the region: `aws`, `aws-us-gov` or `aws-cn`. */
  readonly partition: string;
  readonly cluster: string;
  readonly vpc: string;
  readonly roleName: string;
  readonly roleArn: string;
  readonly registryHost: string;
  readonly image: string;
  readonly modelBucket: string;
  readonly stateBucket: string;
  readonly stateKey: string;
  readonly bootstrapStateKey: string;
  /** The drift job's own role: reads the prediction logs only. */
  readonly driftRoleName: string;
  readonly driftRoleArn: string;
  readonly driftIrsaSubject: string;
  /** The `sub` claim of the service account's OIDC token, which the IRSA role trusts. */
  readonly irsaSubject: string;
  readonly clusterRole: string;
  readonly nodeRole: string;
  readonly systemLaunchTemplate: string;
  readonly mlLaunchTemplate: string;
  readonly systemNodeGroup: string;
  readonly mlNodeGroup: string;
  readonly keyAlias: string;
  /** Fixed by EKS: the control plane's log group. */
  readonly clusterLogGroup: string;
  /** The stage's deploy role: GitHub Actions of the stage's environment assume it. */
  readonly deployRoleName: string;
  readonly deployRoleArn: string;
  /** GitHub's OIDC provider in the account (one per account and URL, created or existing). */
  readonly githubOidcProviderArn: string;
  /** Whether the bootstrap stack creates that provider or references the account's existing one. */
  readonly githubOidcProvider: 'create' | 'existing';
  /** The EKS API endpoint: public (IAM-authenticated, CIDR-limited) or private (VPC only). */
  readonly eksEndpoint: 'public' | 'private';
  /** Who may reach the public endpoint (unused when private). */
  readonly eksPublicAccessCidrs: readonly string[];
  /**
   * The Cluster Autoscaler's identity (EKS Pod Identity) and the service account it runs as: the
   * stack grants it the node groups of this cluster, the upstream chart runs it (ADR 0013).
   */
  readonly clusterAutoscaler: {
    readonly roleName: string;
    readonly namespace: string;
    readonly serviceAccount: string;
  };
}

/** Issuer of GitHub Actions' OIDC tokens. */
export const githubOidcIssuer = 'https://token.actions.githubusercontent.com';

/** Runner labels of deploy jobs: GitHub-hosted unless the cluster's API is private. */
export const hostedRunner = 'ubuntu-24.04';
export const vpcRunner = ['self-hosted', 'linux'] as const;

/** The id of an environment (`gcp-prod`): also its GitHub environment and its stack's id. */
export function environmentId(cloud: Cloud, stage: Stage): string {
  return `${cloud}-${stage}`;
}

/**
 * The `sub` claim of a GitHub Actions job that runs in `environment` of `repository` (GitHub's
 * default claim template): what the deploy identities trust, and nothing broader.
 */
export function githubOidcSubject(repository: string, environment: string): string {
  return `repo:${repository}:environment:${environment}`;
}

export function serviceNames(a: Answers): ServiceNames {
  const selectorLabels = {
    'app.kubernetes.io/name': a.name,
    'app.kubernetes.io/component': 'inference',
  };
  return {
    service: a.name,
    serviceAccount: a.name,
    driftServiceAccount: fit(`${a.name}-drift`, 63),
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
    mlNodePool: { key: 'workload-type', value: 'ml-inference' },
    k8s: {
      driftCronJob: fit(`${a.name}-drift`, 52),
      denyAllPolicy: fit(`${a.name}-default-deny`, 253),
      inferencePolicy: fit(`${a.name}-inference`, 253),
      driftPolicy: fit(`${a.name}-drift`, 253),
      dashboard: fit(`${a.name}-dashboard`, 253),
      dashboardUid: fit(`${a.name}-inference`, 40),
      deployRole: fit(`${a.name}-deploy`, 253),
      // The Kubernetes group EKS maps the deploy role to (its access entry); the RoleBinding names it.
      deployGroup: fit(`${a.name}-deployers`, 63),
      apiKeysSecret: fit(`${a.name}-api-keys`, 253),
    },
  };
}

/** Prefix, inside the model bucket, of the prediction logs the drift job reads. */
export const predictionLogPrefix = 'prediction-logs/';

/** The namespace of a stage: one per stage, in every cloud (see GcpNames.namespace). */
export function stageNamespace(a: Answers, stage: Stage): string {
  return fit(`${a.name}-${stage}`, 63);
}

/** ARN partition of an AWS region. */
export function awsPartition(region: string): string {
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('cn-')) return 'aws-cn';
  return 'aws';
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
  const cluster = fit(`${a.name}-${stage}`, 40);
  const namespace = stageNamespace(a, stage);
  const driftServiceAccountId = fit(`${a.name}-${stage}-drift`, 30);
  return {
    namespace,
    project,
    region: a.gcpRegion,
    cluster,
    network: fit(`${a.name}-${stage}`, 63),
    serviceAccountId,
    serviceAccountEmail: `${serviceAccountId}@${project}.iam.gserviceaccount.com`,
    workloadIdentityMember: `serviceAccount:${project}.svc.id.goog[${namespace}/${svc.serviceAccount}]`,
    driftServiceAccountId,
    driftServiceAccountEmail: `${driftServiceAccountId}@${project}.iam.gserviceaccount.com`,
    driftWorkloadIdentityMember: `serviceAccount:${project}.svc.id.goog[${namespace}/${svc.driftServiceAccount}]`,
    registryHost,
    image: `${registryHost}/${project}/${svc.registryRepository}/${a.name}`,
    modelBucket: fit(`${project}-${a.name}-${stage}-models`, 63),
    stateBucket: fit(`${project}-${a.name}-tfstate`, 63),
    statePrefix: `${a.name}/${stage}`,
    bootstrapStatePrefix: `${a.name}/bootstrap`,
    nodeServiceAccountId: fit(`${cluster}-nodes`, 30),
    keyRing: cluster,
    cryptoKey: 'data',
    systemPool: 'system',
    mlPool: 'ml',
    ...gcpDeployNames(a, stage),
  };
}

/** The deploy identity of a GCP stage and the project's GitHub Workload Identity pool. */
function gcpDeployNames(
  a: Answers,
  stage: Stage,
): Pick<
  GcpNames,
  | 'deployServiceAccountId'
  | 'deployServiceAccountEmail'
  | 'workloadIdentityPool'
  | 'workloadIdentityProviderId'
  | 'workloadIdentityProvider'
  | 'deployClusterRoleId'
> {
  const deployServiceAccountId = fit(`${a.name}-${stage}-deploy`, 30);
  // Pool ids: 4-32 characters, never starting with "gcp-"; the prefix keeps both true.
  const workloadIdentityPool = fit(`github-${a.name}`, 32);
  const workloadIdentityProviderId = 'github';
  // Custom role ids: letters, digits, "_" and ".", at most 64 characters.
  const deployClusterRoleId = fit(`${a.name}-deploy-cluster-connect`, 64).replace(/-/g, '_');
  return {
    deployClusterRoleId,
    deployServiceAccountId,
    deployServiceAccountEmail: `${deployServiceAccountId}@${a.gcpProject}.iam.gserviceaccount.com`,
    workloadIdentityPool,
    workloadIdentityProviderId,
    ...(a.gcpProjectNumber
      ? {
          workloadIdentityProvider: `projects/${a.gcpProjectNumber}/locations/global/workloadIdentityPools/${workloadIdentityPool}/providers/${workloadIdentityProviderId}`,
        }
      : {}),
  };
}

export function awsNames(a: Answers, stage: Stage): AwsNames {
  if (!a.awsAccountId) throw new Error('awsNames: awsAccountId is required');
  const svc = serviceNames(a);
  const roleName = fit(`${a.name}-${stage}-irsa`, 64);
  const registryHost = `${a.awsAccountId}.dkr.ecr.${a.awsRegion}.amazonaws.com`;
  const cluster = fit(`${a.name}-${stage}`, 100);
  const namespace = stageNamespace(a, stage);
  const partition = awsPartition(a.awsRegion);
  const driftRoleName = fit(`${a.name}-${stage}-drift`, 64);
  const deployRoleName = fit(`${a.name}-${stage}-deploy`, 64);
  return {
    namespace,
    accountId: a.awsAccountId,
    region: a.awsRegion,
    partition,
    cluster,
    vpc: fit(`${a.name}-${stage}`, 255),
    roleName,
    roleArn: `arn:${partition}:iam::${a.awsAccountId}:role/${roleName}`,
    registryHost,
    image: `${registryHost}/${svc.registryRepository}`,
    modelBucket: fit(`${a.name}-${stage}-models-${a.awsAccountId}`, 63),
    stateBucket: fit(`${a.name}-tfstate-${a.awsAccountId}`, 63),
    stateKey: `${a.name}/${stage}/terraform.tfstate`,
    bootstrapStateKey: `${a.name}/bootstrap/terraform.tfstate`,
    irsaSubject: `system:serviceaccount:${namespace}:${svc.serviceAccount}`,
    driftRoleName,
    driftRoleArn: `arn:${partition}:iam::${a.awsAccountId}:role/${driftRoleName}`,
    driftIrsaSubject: `system:serviceaccount:${namespace}:${svc.driftServiceAccount}`,
    clusterRole: fit(`${cluster}-cluster`, 64),
    nodeRole: fit(`${cluster}-node`, 64),
    systemLaunchTemplate: fit(`${cluster}-system`, 128),
    mlLaunchTemplate: fit(`${cluster}-ml`, 128),
    systemNodeGroup: 'system',
    mlNodeGroup: 'ml',
    keyAlias: `alias/${cluster}`,
    clusterLogGroup: `/aws/eks/${cluster}/cluster`,
    deployRoleName,
    deployRoleArn: `arn:${partition}:iam::${a.awsAccountId}:role/${deployRoleName}`,
    clusterAutoscaler: {
      roleName: fit(`${cluster}-autoscaler`, 64),
      namespace: 'kube-system',
      serviceAccount: 'cluster-autoscaler',
    },
    githubOidcProvider: a.awsGithubOidcProvider,
    eksEndpoint: a.eksEndpoint,
    eksPublicAccessCidrs: a.eksPublicAccessCidrs,
    githubOidcProviderArn: `arn:${partition}:iam::${a.awsAccountId}:oidc-provider/${githubOidcIssuer.replace('https://', '')}`,
  };
}
