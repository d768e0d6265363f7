/**
 * The Plan: the answers plus everything derived from them and from the model. It is the only input
 * every template reads, so no template computes a name or a number of its own.
 */
import type { Answers } from '../answers/schema.js';
import type { ModelContract } from '../model/contract.js';
import { generatorName, generatorVersion } from '../version.js';
import {
  type AwsNames,
  type Cloud,
  type GcpNames,
  type ServiceNames,
  type Stage,
  awsNames,
  environmentId,
  githubOidcSubject,
  hostedRunner,
  vpcRunner,
  gcpNames,
  modelObjectKey,
  predictionLogPrefix,
  serviceNames,
  stages,
} from './naming.js';
import { defaultMemory, modelFileMiB, serverMemoryMiB } from './memory.js';
import { type PolicyPlan, policyPlan } from './policies.js';

/** Node.js major version the generated image and CI target (the current LTS). */
export const targetNodeMajor = 24;

/**
 * The base image of the generated Dockerfile, pinned by digest (node:24.18.0-bookworm-slim; the
 * same digest is pinned in several public projects' Dockerfiles). Dependabot's docker ecosystem
 * (.github/dependabot.yml of the project) proposes newer digests; bump the major here with
 * `targetNodeMajor`.
 */
export const targetNodeImage = `node:${targetNodeMajor}-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d`;

export interface EnvironmentPlan {
  /** e.g. `gcp-prod` */
  readonly id: string;
  readonly cloud: Cloud;
  readonly stage: Stage;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** HPA CPU utilisation target, percent. */
  readonly cpuTarget: number;
  readonly nodePool: { readonly min: number; readonly max: number };
  /** `gs://...` or `s3://...` URI the init container fetches. */
  readonly modelUri: string;
  /** Where the prediction logs go and the drift job reads them (`gs://bucket/prediction-logs/`). */
  readonly predictionLogUri: string;
  /** The GitHub environment whose jobs deploy this environment (= `id`). */
  readonly githubEnvironment: string;
  /** The `sub` claim of those jobs' OIDC tokens: the one subject the deploy identity trusts. */
  readonly githubOidcSubject: string;
  readonly deploy: {
    /** `runs-on` of the deploy jobs: GitHub-hosted, or self-hosted in the VPC for a private API. */
    readonly runsOn: string | readonly string[];
  };
  readonly gcp?: GcpNames;
  readonly aws?: AwsNames;
}

export interface Plan {
  readonly generator: { readonly name: string; readonly version: string };
  /** The answers as recorded: `model` is the project-relative path of the copied model. */
  readonly answers: Answers;
  readonly service: {
    readonly name: string;
    readonly description: string;
    readonly owner: string;
    readonly costCenter: string;
  };
  readonly names: ServiceNames;
  readonly model: ModelContract;
  readonly runtime: {
    readonly nodeMajor: number;
    /** The image's base, by digest. */
    readonly nodeImage: string;
    readonly port: number;
    /** The port of the metrics listener in Kubernetes (`METRICS_PORT`): Prometheus scrapes it. */
    readonly metricsPort: number;
    /** The Open Inference Protocol over gRPC (`GRPC_PORT`; 8081 as MLServer's). */
    readonly grpcPort: number;
    readonly cpu: number;
    readonly cpuMillis: number;
    /** Memory per pod: the answer, or sized from the model (`defaultMemory`). */
    readonly memory: string;
    /** The server's parts besides the model, MiB: the environment check's budget (memory.ts). */
    readonly serverMemoryMiB: typeof serverMemoryMiB;
    /** Worker threads for inference: the CPU limit, rounded down, at least 1. */
    readonly poolSize: number;
    /** Where the model lives inside the generated project and the container. */
    readonly modelDir: string;
    readonly modelFile: string;
    /**
     * Canary delivery with Argo Rollouts (answer `progressiveDelivery`, docs/adr/0018): present only
     * when the answer is on, so a project without it renders exactly as before.
     */
    readonly progressiveDelivery?: true;
  };
  readonly clouds: {
    readonly gcp: boolean;
    readonly aws: boolean;
    readonly list: readonly Cloud[];
  };
  readonly environments: readonly EnvironmentPlan[];
  /** The repository whose workflows deploy (cloud projects only). */
  readonly github?: { readonly repository: string };
  /** The policy catalogue as it applies to this project (policies/, agent files, docs). */
  readonly policies: PolicyPlan;
  /**
   * The model file when it is over GitHub's 50 MiB warning size (a push is refused over 100 MiB):
   * the project keeps `lfsPattern` in Git LFS (`.gitattributes`, the pre-push hook, the first
   * commit, the workflows' checkouts), and the README says what that asks of its users (ADR 0026).
   */
  readonly largeModelFile?: {
    readonly path: string;
    readonly mib: number;
    readonly refused: boolean;
    /** The `.gitattributes` pattern of the files Git LFS stores: every model of `model/`. */
    readonly lfsPattern: string;
  };
}

/** GitHub warns on a pushed file over 50 MiB and refuses one over 100 MiB. */
export const gitHubFileMiB = { warn: 50, limit: 100 } as const;

function largeModelFile(bytes: number): Plan['largeModelFile'] {
  const mib = modelFileMiB(bytes);
  if (mib <= gitHubFileMiB.warn) return undefined;
  return {
    path: projectModelFile,
    mib,
    refused: mib > gitHubFileMiB.limit,
    lfsPattern: `${projectModelDir}/**/*.onnx`,
  };
}

/** Folder of the generated project that holds the model and its artifacts. */
export const projectModelDir = 'model';
export const projectModelFile = `${projectModelDir}/model.onnx`;

export function buildPlan(answers: Answers, model: ModelContract): Plan {
  const clouds: Cloud[] = [];
  if (answers.cloud === 'gcp' || answers.cloud === 'both') clouds.push('gcp');
  if (answers.cloud === 'aws' || answers.cloud === 'both') clouds.push('aws');
  const large = largeModelFile(model.bytes);
  return {
    generator: { name: generatorName, version: generatorVersion },
    answers,
    service: {
      name: answers.name,
      description:
        answers.description ?? `Inference service for the ${model.name} model (${model.task}).`,
      owner: answers.owner,
      costCenter: answers.costCenter,
    },
    names: serviceNames(answers),
    model,
    runtime: runtimeOf(answers, model, clouds),
    clouds: { gcp: clouds.includes('gcp'), aws: clouds.includes('aws'), list: clouds },
    environments: environmentsOf(answers, model, clouds),
    ...(answers.githubRepo ? { github: { repository: answers.githubRepo } } : {}),
    policies: policyPlan(clouds.length > 0),
    ...(large ? { largeModelFile: large } : {}),
  };
}

/** The process and its pod: image, ports, CPU, memory (sized from the model when not answered). */
function runtimeOf(
  answers: Answers,
  model: ModelContract,
  clouds: readonly Cloud[],
): Plan['runtime'] {
  const poolSize = Math.max(1, Math.floor(answers.cpu));
  return {
    nodeMajor: targetNodeMajor,
    nodeImage: targetNodeImage,
    port: 8080,
    metricsPort: 9090,
    grpcPort: 8081,
    cpu: answers.cpu,
    cpuMillis: Math.round(answers.cpu * 1000),
    memory: answers.memory ?? defaultMemory(model.bytes, poolSize),
    serverMemoryMiB,
    poolSize,
    modelDir: projectModelDir,
    modelFile: projectModelFile,
    ...(answers.progressiveDelivery && clouds.length > 0
      ? { progressiveDelivery: true as const }
      : {}),
  };
}

/** One environment per cloud and stage: its names, sizes, model and log paths, deploy runner. */
function environmentsOf(
  answers: Answers,
  model: ModelContract,
  clouds: readonly Cloud[],
): EnvironmentPlan[] {
  const objectKey = modelObjectKey(model.name, model.version);
  return clouds.flatMap((cloud) =>
    stages.map((stage): EnvironmentPlan => {
      const sizing = stageSizing(answers, stage);
      const id = environmentId(cloud, stage);
      const github = {
        githubEnvironment: id,
        githubOidcSubject: githubOidcSubject(answers.githubRepo ?? '', id),
        deploy: {
          runsOn:
            cloud === 'aws' && answers.eksEndpoint === 'private' ? [...vpcRunner] : hostedRunner,
        },
      };
      if (cloud === 'gcp') {
        const gcp = gcpNames(answers, stage);
        return {
          id,
          cloud,
          stage,
          ...sizing,
          ...github,
          modelUri: `gs://${gcp.modelBucket}/${objectKey}`,
          predictionLogUri: `gs://${gcp.modelBucket}/${predictionLogPrefix}`,
          gcp,
        };
      }
      const aws = awsNames(answers, stage);
      return {
        id,
        cloud,
        stage,
        ...sizing,
        ...github,
        modelUri: `s3://${aws.modelBucket}/${objectKey}`,
        predictionLogUri: `s3://${aws.modelBucket}/${predictionLogPrefix}`,
        aws,
      };
    }),
  );
}

/** Replicas, HPA target and node pool per stage: dev < staging < prod. */
function stageSizing(
  a: Answers,
  stage: Stage,
): Pick<EnvironmentPlan, 'minReplicas' | 'maxReplicas' | 'cpuTarget' | 'nodePool'> {
  switch (stage) {
    case 'dev':
      return {
        minReplicas: 1,
        maxReplicas: Math.min(2, a.maxReplicas),
        cpuTarget: 70,
        nodePool: { min: 1, max: 2 },
      };
    case 'staging': {
      const min = Math.max(2, Math.min(a.minReplicas, a.maxReplicas));
      return {
        minReplicas: min,
        maxReplicas: Math.max(min, Math.ceil(a.maxReplicas / 2)),
        cpuTarget: 65,
        nodePool: { min: 1, max: 3 },
      };
    }
    case 'prod': {
      const min = Math.max(2, a.minReplicas);
      return {
        minReplicas: min,
        maxReplicas: Math.max(min, a.maxReplicas),
        cpuTarget: 60,
        // At least two ML nodes, spread over zones: losing one node or zone leaves a replica serving.
        nodePool: { min: 2, max: 5 },
      };
    }
  }
}
