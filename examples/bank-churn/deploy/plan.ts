/**
 * The names and sizes of every environment of this service, derived once by create-mlops-service
 * from its answers. The Kubernetes manifests (deploy/k8s) and the cloud stacks (deploy/infra) both
 * import this file, so the identity a service account names is the identity the stack creates, and
 * the bucket the init container reads is the bucket the stack creates. Generated: change
 * `.mlops-service/answers.json` and run `npx create-mlops-service upgrade` instead of editing.
 */

export const service = {
  "service": "bank-churn",
  "serviceAccount": "bank-churn",
  "driftServiceAccount": "bank-churn-drift",
  "metricPrefix": "mlservice",
  "selectorLabels": {
    "app.kubernetes.io/name": "bank-churn",
    "app.kubernetes.io/component": "inference"
  },
  "labels": {
    "app.kubernetes.io/name": "bank-churn",
    "app.kubernetes.io/component": "inference",
    "app.kubernetes.io/part-of": "bank-churn",
    "app.kubernetes.io/managed-by": "create-mlops-service",
    "team": "retention-analytics",
    "cost-center": "retail-banking"
  },
  "registryRepository": "bank-churn",
  "mlNodePool": {
    "key": "workload-type",
    "value": "ml-inference"
  },
  "k8s": {
    "driftCronJob": "bank-churn-drift",
    "denyAllPolicy": "bank-churn-default-deny",
    "inferencePolicy": "bank-churn-inference",
    "driftPolicy": "bank-churn-drift",
    "dashboard": "bank-churn-dashboard",
    "dashboardUid": "bank-churn-inference",
    "deployRole": "bank-churn-deploy",
    "deployGroup": "bank-churn-deployers",
    "apiKeysSecret": "bank-churn-api-keys"
  }
} as const;

export const runtime = {
  "nodeMajor": 24,
  "nodeImage": "node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d",
  "port": 8080,
  "metricsPort": 9090,
  "grpcPort": 8081,
  "cpu": 2,
  "cpuMillis": 2000,
  "memory": "1Gi",
  "serverMemoryMiB": {
    "process": 128,
    "worker": 64,
    "predictionLogBuffer": 16,
    "explainHeapMin": 16,
    "explainHeapMax": 256
  },
  "poolSize": 2,
  "modelDir": "model",
  "modelFile": "model/model.onnx"
} as const;

export const model = {
  name: "bank-churn",
  version: "1.0.0",
  sha256: "e41a0b55fdd9b72ed35a3fdfab04160555108ca07d75e4dd4c9967275087b368",
  /** Size of model.onnx: every thread that loads it holds a session of it. */
  bytes: 1757476,
  task: "binary",
  features: ["CreditScore","Geography","Gender","Age","Tenure","Balance","NumOfProducts","HasCrCard","IsActiveMember","EstimatedSalary"],
  /** Whether model.schema.json describes the model (it then ships beside model.onnx). */
  described: true,
  /** Artifact files shipped beside model.onnx (drift baseline, background, golden...). */
  artifacts: {"driftBaseline":"drift_baseline.json","background":"background.json","golden":"golden.json","metrics":"metrics.json","modelCard":"MODEL_CARD.md","lineage":"lineage.json"},
} as const;

export const owner = "retention-analytics";
export const costCenter = "retail-banking";

/** The GitHub repository whose workflows deploy: the deploy identities trust only its environments. */
export const github = {
  "repository": "acme-ml/bank-churn"
} as const;

export const environments = [
  {
    "id": "gcp-dev",
    "cloud": "gcp",
    "stage": "dev",
    "minReplicas": 1,
    "maxReplicas": 2,
    "cpuTarget": 70,
    "nodePool": {
      "min": 1,
      "max": 2
    },
    "githubEnvironment": "gcp-dev",
    "githubOidcSubject": "repo:acme-ml/bank-churn:environment:gcp-dev",
    "deploy": {
      "runsOn": "ubuntu-24.04"
    },
    "modelUri": "gs://acme-churn-prod-bank-churn-dev-models/models/bank-churn/1.0.0/model.onnx",
    "predictionLogUri": "gs://acme-churn-prod-bank-churn-dev-models/prediction-logs/",
    "gcp": {
      "namespace": "bank-churn-dev",
      "project": "acme-churn-prod",
      "region": "europe-west1",
      "cluster": "bank-churn-dev",
      "network": "bank-churn-dev",
      "serviceAccountId": "bank-churn-dev",
      "serviceAccountEmail": "bank-churn-dev@acme-churn-prod.iam.gserviceaccount.com",
      "workloadIdentityMember": "serviceAccount:acme-churn-prod.svc.id.goog[bank-churn-dev/bank-churn]",
      "driftServiceAccountId": "bank-churn-dev-drift",
      "driftServiceAccountEmail": "bank-churn-dev-drift@acme-churn-prod.iam.gserviceaccount.com",
      "driftWorkloadIdentityMember": "serviceAccount:acme-churn-prod.svc.id.goog[bank-churn-dev/bank-churn-drift]",
      "registryHost": "europe-west1-docker.pkg.dev",
      "image": "europe-west1-docker.pkg.dev/acme-churn-prod/bank-churn/bank-churn",
      "modelBucket": "acme-churn-prod-bank-churn-dev-models",
      "stateBucket": "acme-churn-prod-bank-churn-tfstate",
      "statePrefix": "bank-churn/dev",
      "bootstrapStatePrefix": "bank-churn/bootstrap",
      "nodeServiceAccountId": "bank-churn-dev-nodes",
      "keyRing": "bank-churn-dev",
      "cryptoKey": "data",
      "systemPool": "system",
      "mlPool": "ml",
      "deployClusterRoleId": "bank_churn_deploy_cluster_connect",
      "deployServiceAccountId": "bank-churn-dev-deploy",
      "deployServiceAccountEmail": "bank-churn-dev-deploy@acme-churn-prod.iam.gserviceaccount.com",
      "workloadIdentityPool": "github-bank-churn",
      "workloadIdentityProviderId": "github"
    }
  },
  {
    "id": "gcp-staging",
    "cloud": "gcp",
    "stage": "staging",
    "minReplicas": 2,
    "maxReplicas": 4,
    "cpuTarget": 65,
    "nodePool": {
      "min": 1,
      "max": 3
    },
    "githubEnvironment": "gcp-staging",
    "githubOidcSubject": "repo:acme-ml/bank-churn:environment:gcp-staging",
    "deploy": {
      "runsOn": "ubuntu-24.04"
    },
    "modelUri": "gs://acme-churn-prod-bank-churn-staging-models/models/bank-churn/1.0.0/model.onnx",
    "predictionLogUri": "gs://acme-churn-prod-bank-churn-staging-models/prediction-logs/",
    "gcp": {
      "namespace": "bank-churn-staging",
      "project": "acme-churn-prod",
      "region": "europe-west1",
      "cluster": "bank-churn-staging",
      "network": "bank-churn-staging",
      "serviceAccountId": "bank-churn-staging",
      "serviceAccountEmail": "bank-churn-staging@acme-churn-prod.iam.gserviceaccount.com",
      "workloadIdentityMember": "serviceAccount:acme-churn-prod.svc.id.goog[bank-churn-staging/bank-churn]",
      "driftServiceAccountId": "bank-churn-staging-drift",
      "driftServiceAccountEmail": "bank-churn-staging-drift@acme-churn-prod.iam.gserviceaccount.com",
      "driftWorkloadIdentityMember": "serviceAccount:acme-churn-prod.svc.id.goog[bank-churn-staging/bank-churn-drift]",
      "registryHost": "europe-west1-docker.pkg.dev",
      "image": "europe-west1-docker.pkg.dev/acme-churn-prod/bank-churn/bank-churn",
      "modelBucket": "acme-churn-prod-bank-churn-staging-models",
      "stateBucket": "acme-churn-prod-bank-churn-tfstate",
      "statePrefix": "bank-churn/staging",
      "bootstrapStatePrefix": "bank-churn/bootstrap",
      "nodeServiceAccountId": "bank-churn-staging-nodes",
      "keyRing": "bank-churn-staging",
      "cryptoKey": "data",
      "systemPool": "system",
      "mlPool": "ml",
      "deployClusterRoleId": "bank_churn_deploy_cluster_connect",
      "deployServiceAccountId": "bank-churn-staging-deploy",
      "deployServiceAccountEmail": "bank-churn-staging-deploy@acme-churn-prod.iam.gserviceaccount.com",
      "workloadIdentityPool": "github-bank-churn",
      "workloadIdentityProviderId": "github"
    }
  },
  {
    "id": "gcp-prod",
    "cloud": "gcp",
    "stage": "prod",
    "minReplicas": 2,
    "maxReplicas": 8,
    "cpuTarget": 60,
    "nodePool": {
      "min": 2,
      "max": 5
    },
    "githubEnvironment": "gcp-prod",
    "githubOidcSubject": "repo:acme-ml/bank-churn:environment:gcp-prod",
    "deploy": {
      "runsOn": "ubuntu-24.04"
    },
    "modelUri": "gs://acme-churn-prod-bank-churn-prod-models/models/bank-churn/1.0.0/model.onnx",
    "predictionLogUri": "gs://acme-churn-prod-bank-churn-prod-models/prediction-logs/",
    "gcp": {
      "namespace": "bank-churn-prod",
      "project": "acme-churn-prod",
      "region": "europe-west1",
      "cluster": "bank-churn-prod",
      "network": "bank-churn-prod",
      "serviceAccountId": "bank-churn-prod",
      "serviceAccountEmail": "bank-churn-prod@acme-churn-prod.iam.gserviceaccount.com",
      "workloadIdentityMember": "serviceAccount:acme-churn-prod.svc.id.goog[bank-churn-prod/bank-churn]",
      "driftServiceAccountId": "bank-churn-prod-drift",
      "driftServiceAccountEmail": "bank-churn-prod-drift@acme-churn-prod.iam.gserviceaccount.com",
      "driftWorkloadIdentityMember": "serviceAccount:acme-churn-prod.svc.id.goog[bank-churn-prod/bank-churn-drift]",
      "registryHost": "europe-west1-docker.pkg.dev",
      "image": "europe-west1-docker.pkg.dev/acme-churn-prod/bank-churn/bank-churn",
      "modelBucket": "acme-churn-prod-bank-churn-prod-models",
      "stateBucket": "acme-churn-prod-bank-churn-tfstate",
      "statePrefix": "bank-churn/prod",
      "bootstrapStatePrefix": "bank-churn/bootstrap",
      "nodeServiceAccountId": "bank-churn-prod-nodes",
      "keyRing": "bank-churn-prod",
      "cryptoKey": "data",
      "systemPool": "system",
      "mlPool": "ml",
      "deployClusterRoleId": "bank_churn_deploy_cluster_connect",
      "deployServiceAccountId": "bank-churn-prod-deploy",
      "deployServiceAccountEmail": "bank-churn-prod-deploy@acme-churn-prod.iam.gserviceaccount.com",
      "workloadIdentityPool": "github-bank-churn",
      "workloadIdentityProviderId": "github"
    }
  }
] as const;

export type Environment = (typeof environments)[number];
export type EnvironmentId = Environment['id'];
