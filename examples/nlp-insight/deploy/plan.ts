/**
 * The names and sizes of every environment of this service, derived once by create-mlops-service
 * from its answers. The Kubernetes manifests (deploy/k8s) and the cloud stacks (deploy/infra) both
 * import this file, so the identity a service account names is the identity the stack creates, and
 * the bucket the init container reads is the bucket the stack creates. Generated: change
 * `.mlops-service/answers.json` and run `npx create-mlops-service upgrade` instead of editing.
 */

export const service = {
  "service": "nlp-insight",
  "serviceAccount": "nlp-insight",
  "driftServiceAccount": "nlp-insight-drift",
  "metricPrefix": "mlservice",
  "selectorLabels": {
    "app.kubernetes.io/name": "nlp-insight",
    "app.kubernetes.io/component": "inference"
  },
  "labels": {
    "app.kubernetes.io/name": "nlp-insight",
    "app.kubernetes.io/component": "inference",
    "app.kubernetes.io/part-of": "nlp-insight",
    "app.kubernetes.io/managed-by": "create-mlops-service",
    "team": "market-intelligence",
    "cost-center": "research"
  },
  "registryRepository": "nlp-insight",
  "mlNodePool": {
    "key": "workload-type",
    "value": "ml-inference"
  },
  "k8s": {
    "driftCronJob": "nlp-insight-drift",
    "denyAllPolicy": "nlp-insight-default-deny",
    "inferencePolicy": "nlp-insight-inference",
    "driftPolicy": "nlp-insight-drift",
    "dashboard": "nlp-insight-dashboard",
    "dashboardUid": "nlp-insight-inference",
    "deployRole": "nlp-insight-deploy",
    "deployGroup": "nlp-insight-deployers",
    "apiKeysSecret": "nlp-insight-api-keys"
  }
} as const;

export const runtime = {
  "nodeMajor": 24,
  "nodeImage": "node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d",
  "port": 8080,
  "metricsPort": 9090,
  "grpcPort": 8081,
  "cpu": 1,
  "cpuMillis": 1000,
  "memory": "1Gi",
  "serverMemoryMiB": {
    "process": 128,
    "worker": 64,
    "predictionLogBuffer": 16,
    "explainHeapMin": 16,
    "explainHeapMax": 256
  },
  "poolSize": 1,
  "modelDir": "model",
  "modelFile": "model/model.onnx"
} as const;

export const model = {
  name: "nlp-insight",
  version: "1.0.0",
  sha256: "7f2f339515ab265ef8c15e63912a9fb5f4fcc8d885c85b33d53485cdde3e86f7",
  /** Size of model.onnx: every thread that loads it holds a session of it. */
  bytes: 483434,
  task: "text-classification",
  features: ["text"],
  /** Whether model.schema.json describes the model (it then ships beside model.onnx). */
  described: true,
  /** Artifact files shipped beside model.onnx (drift baseline, background, golden...). */
  artifacts: {"driftBaseline":"drift_baseline.json","background":"background.json","golden":"golden.json","metrics":"metrics.json","modelCard":"MODEL_CARD.md","lineage":"lineage.json"},
} as const;

export const owner = "market-intelligence";
export const costCenter = "research";

/** The GitHub repository whose workflows deploy: the deploy identities trust only its environments. */
export const github = {
  "repository": "acme-ml/nlp-insight"
} as const;

export const environments = [
  {
    "id": "aws-dev",
    "cloud": "aws",
    "stage": "dev",
    "minReplicas": 1,
    "maxReplicas": 2,
    "cpuTarget": 70,
    "nodePool": {
      "min": 1,
      "max": 2
    },
    "githubEnvironment": "aws-dev",
    "githubOidcSubject": "repo:acme-ml/nlp-insight:environment:aws-dev",
    "deploy": {
      "runsOn": "ubuntu-24.04"
    },
    "modelUri": "s3://nlp-insight-dev-models-210987654321/models/nlp-insight/1.0.0/model.onnx",
    "predictionLogUri": "s3://nlp-insight-dev-models-210987654321/prediction-logs/",
    "aws": {
      "namespace": "nlp-insight-dev",
      "accountId": "210987654321",
      "region": "us-east-2",
      "partition": "aws",
      "cluster": "nlp-insight-dev",
      "vpc": "nlp-insight-dev",
      "roleName": "nlp-insight-dev-irsa",
      "roleArn": "arn:aws:iam::210987654321:role/nlp-insight-dev-irsa",
      "registryHost": "210987654321.dkr.ecr.us-east-2.amazonaws.com",
      "image": "210987654321.dkr.ecr.us-east-2.amazonaws.com/nlp-insight",
      "modelBucket": "nlp-insight-dev-models-210987654321",
      "stateBucket": "nlp-insight-tfstate-210987654321",
      "stateKey": "nlp-insight/dev/terraform.tfstate",
      "bootstrapStateKey": "nlp-insight/bootstrap/terraform.tfstate",
      "irsaSubject": "system:serviceaccount:nlp-insight-dev:nlp-insight",
      "driftRoleName": "nlp-insight-dev-drift",
      "driftRoleArn": "arn:aws:iam::210987654321:role/nlp-insight-dev-drift",
      "driftIrsaSubject": "system:serviceaccount:nlp-insight-dev:nlp-insight-drift",
      "clusterRole": "nlp-insight-dev-cluster",
      "nodeRole": "nlp-insight-dev-node",
      "systemLaunchTemplate": "nlp-insight-dev-system",
      "mlLaunchTemplate": "nlp-insight-dev-ml",
      "systemNodeGroup": "system",
      "mlNodeGroup": "ml",
      "keyAlias": "alias/nlp-insight-dev",
      "clusterLogGroup": "/aws/eks/nlp-insight-dev/cluster",
      "deployRoleName": "nlp-insight-dev-deploy",
      "deployRoleArn": "arn:aws:iam::210987654321:role/nlp-insight-dev-deploy",
      "clusterAutoscaler": {
        "roleName": "nlp-insight-dev-autoscaler",
        "namespace": "kube-system",
        "serviceAccount": "cluster-autoscaler"
      },
      "githubOidcProvider": "create",
      "eksEndpoint": "public",
      "eksPublicAccessCidrs": [
        "0.0.0.0/0"
      ],
      "githubOidcProviderArn": "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
    }
  },
  {
    "id": "aws-staging",
    "cloud": "aws",
    "stage": "staging",
    "minReplicas": 2,
    "maxReplicas": 3,
    "cpuTarget": 65,
    "nodePool": {
      "min": 1,
      "max": 3
    },
    "githubEnvironment": "aws-staging",
    "githubOidcSubject": "repo:acme-ml/nlp-insight:environment:aws-staging",
    "deploy": {
      "runsOn": "ubuntu-24.04"
    },
    "modelUri": "s3://nlp-insight-staging-models-210987654321/models/nlp-insight/1.0.0/model.onnx",
    "predictionLogUri": "s3://nlp-insight-staging-models-210987654321/prediction-logs/",
    "aws": {
      "namespace": "nlp-insight-staging",
      "accountId": "210987654321",
      "region": "us-east-2",
      "partition": "aws",
      "cluster": "nlp-insight-staging",
      "vpc": "nlp-insight-staging",
      "roleName": "nlp-insight-staging-irsa",
      "roleArn": "arn:aws:iam::210987654321:role/nlp-insight-staging-irsa",
      "registryHost": "210987654321.dkr.ecr.us-east-2.amazonaws.com",
      "image": "210987654321.dkr.ecr.us-east-2.amazonaws.com/nlp-insight",
      "modelBucket": "nlp-insight-staging-models-210987654321",
      "stateBucket": "nlp-insight-tfstate-210987654321",
      "stateKey": "nlp-insight/staging/terraform.tfstate",
      "bootstrapStateKey": "nlp-insight/bootstrap/terraform.tfstate",
      "irsaSubject": "system:serviceaccount:nlp-insight-staging:nlp-insight",
      "driftRoleName": "nlp-insight-staging-drift",
      "driftRoleArn": "arn:aws:iam::210987654321:role/nlp-insight-staging-drift",
      "driftIrsaSubject": "system:serviceaccount:nlp-insight-staging:nlp-insight-drift",
      "clusterRole": "nlp-insight-staging-cluster",
      "nodeRole": "nlp-insight-staging-node",
      "systemLaunchTemplate": "nlp-insight-staging-system",
      "mlLaunchTemplate": "nlp-insight-staging-ml",
      "systemNodeGroup": "system",
      "mlNodeGroup": "ml",
      "keyAlias": "alias/nlp-insight-staging",
      "clusterLogGroup": "/aws/eks/nlp-insight-staging/cluster",
      "deployRoleName": "nlp-insight-staging-deploy",
      "deployRoleArn": "arn:aws:iam::210987654321:role/nlp-insight-staging-deploy",
      "clusterAutoscaler": {
        "roleName": "nlp-insight-staging-autoscaler",
        "namespace": "kube-system",
        "serviceAccount": "cluster-autoscaler"
      },
      "githubOidcProvider": "create",
      "eksEndpoint": "public",
      "eksPublicAccessCidrs": [
        "0.0.0.0/0"
      ],
      "githubOidcProviderArn": "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
    }
  },
  {
    "id": "aws-prod",
    "cloud": "aws",
    "stage": "prod",
    "minReplicas": 2,
    "maxReplicas": 6,
    "cpuTarget": 60,
    "nodePool": {
      "min": 2,
      "max": 5
    },
    "githubEnvironment": "aws-prod",
    "githubOidcSubject": "repo:acme-ml/nlp-insight:environment:aws-prod",
    "deploy": {
      "runsOn": "ubuntu-24.04"
    },
    "modelUri": "s3://nlp-insight-prod-models-210987654321/models/nlp-insight/1.0.0/model.onnx",
    "predictionLogUri": "s3://nlp-insight-prod-models-210987654321/prediction-logs/",
    "aws": {
      "namespace": "nlp-insight-prod",
      "accountId": "210987654321",
      "region": "us-east-2",
      "partition": "aws",
      "cluster": "nlp-insight-prod",
      "vpc": "nlp-insight-prod",
      "roleName": "nlp-insight-prod-irsa",
      "roleArn": "arn:aws:iam::210987654321:role/nlp-insight-prod-irsa",
      "registryHost": "210987654321.dkr.ecr.us-east-2.amazonaws.com",
      "image": "210987654321.dkr.ecr.us-east-2.amazonaws.com/nlp-insight",
      "modelBucket": "nlp-insight-prod-models-210987654321",
      "stateBucket": "nlp-insight-tfstate-210987654321",
      "stateKey": "nlp-insight/prod/terraform.tfstate",
      "bootstrapStateKey": "nlp-insight/bootstrap/terraform.tfstate",
      "irsaSubject": "system:serviceaccount:nlp-insight-prod:nlp-insight",
      "driftRoleName": "nlp-insight-prod-drift",
      "driftRoleArn": "arn:aws:iam::210987654321:role/nlp-insight-prod-drift",
      "driftIrsaSubject": "system:serviceaccount:nlp-insight-prod:nlp-insight-drift",
      "clusterRole": "nlp-insight-prod-cluster",
      "nodeRole": "nlp-insight-prod-node",
      "systemLaunchTemplate": "nlp-insight-prod-system",
      "mlLaunchTemplate": "nlp-insight-prod-ml",
      "systemNodeGroup": "system",
      "mlNodeGroup": "ml",
      "keyAlias": "alias/nlp-insight-prod",
      "clusterLogGroup": "/aws/eks/nlp-insight-prod/cluster",
      "deployRoleName": "nlp-insight-prod-deploy",
      "deployRoleArn": "arn:aws:iam::210987654321:role/nlp-insight-prod-deploy",
      "clusterAutoscaler": {
        "roleName": "nlp-insight-prod-autoscaler",
        "namespace": "kube-system",
        "serviceAccount": "cluster-autoscaler"
      },
      "githubOidcProvider": "create",
      "eksEndpoint": "public",
      "eksPublicAccessCidrs": [
        "0.0.0.0/0"
      ],
      "githubOidcProviderArn": "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
    }
  }
] as const;

export type Environment = (typeof environments)[number];
export type EnvironmentId = Environment['id'];
