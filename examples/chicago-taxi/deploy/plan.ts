/**
 * The names and sizes of every environment of this service, derived once by create-mlops-service
 * from its answers. The Kubernetes manifests (deploy/k8s) and the cloud stacks (deploy/infra) both
 * import this file, so the identity a service account names is the identity the stack creates, and
 * the bucket the init container reads is the bucket the stack creates. Generated: change
 * `.mlops-service/answers.json` and run `npx create-mlops-service upgrade` instead of editing.
 */

export const service = {
  "service": "chicago-taxi",
  "serviceAccount": "chicago-taxi",
  "driftServiceAccount": "chicago-taxi-drift",
  "metricPrefix": "mlservice",
  "selectorLabels": {
    "app.kubernetes.io/name": "chicago-taxi",
    "app.kubernetes.io/component": "inference"
  },
  "labels": {
    "app.kubernetes.io/name": "chicago-taxi",
    "app.kubernetes.io/component": "inference",
    "app.kubernetes.io/part-of": "chicago-taxi",
    "app.kubernetes.io/managed-by": "create-mlops-service",
    "team": "mobility-planning",
    "cost-center": "city-ops"
  },
  "registryRepository": "chicago-taxi",
  "mlNodePool": {
    "key": "workload-type",
    "value": "ml-inference"
  },
  "k8s": {
    "driftCronJob": "chicago-taxi-drift",
    "denyAllPolicy": "chicago-taxi-default-deny",
    "inferencePolicy": "chicago-taxi-inference",
    "driftPolicy": "chicago-taxi-drift",
    "dashboard": "chicago-taxi-dashboard",
    "dashboardUid": "chicago-taxi-inference",
    "deployRole": "chicago-taxi-deploy",
    "deployGroup": "chicago-taxi-deployers",
    "apiKeysSecret": "chicago-taxi-api-keys"
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
  name: "chicago-taxi",
  version: "1.0.0",
  sha256: "49fda53bb3530b53757ffdd5a294078b6c84edb68685b8233e297855813b906d",
  /** Size of model.onnx: every thread that loads it holds a session of it. */
  bytes: 240679,
  task: "regression",
  features: ["hour","day_of_week","is_weekend","pickup_community_area","trip_count_lag_1h","trip_count_lag_24h","trip_count_lag_168h","trip_count_rolling_24h"],
  /** Whether model.schema.json describes the model (it then ships beside model.onnx). */
  described: true,
  /** Artifact files shipped beside model.onnx (drift baseline, background, golden...). */
  artifacts: {"driftBaseline":"drift_baseline.json","background":"background.json","golden":"golden.json","metrics":"metrics.json","modelCard":"MODEL_CARD.md","lineage":"lineage.json"},
} as const;

export const owner = "mobility-planning";
export const costCenter = "city-ops";

/** The GitHub repository whose workflows deploy: the deploy identities trust only its environments. */
export const github = {
  "repository": "acme-ml/chicago-taxi"
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
    "githubOidcSubject": "repo:acme-ml/chicago-taxi:environment:gcp-dev",
    "deploy": {
      "runsOn": "ubuntu-24.04"
    },
    "modelUri": "gs://acme-mobility-prod-chicago-taxi-dev-models/models/chicago-taxi/1.0.0/model.onnx",
    "predictionLogUri": "gs://acme-mobility-prod-chicago-taxi-dev-models/prediction-logs/",
    "gcp": {
      "namespace": "chicago-taxi-dev",
      "project": "acme-mobility-prod",
      "region": "us-central1",
      "cluster": "chicago-taxi-dev",
      "network": "chicago-taxi-dev",
      "serviceAccountId": "chicago-taxi-dev",
      "serviceAccountEmail": "chicago-taxi-dev@acme-mobility-prod.iam.gserviceaccount.com",
      "workloadIdentityMember": "serviceAccount:acme-mobility-prod.svc.id.goog[chicago-taxi-dev/chicago-taxi]",
      "driftServiceAccountId": "chicago-taxi-dev-drift",
      "driftServiceAccountEmail": "chicago-taxi-dev-drift@acme-mobility-prod.iam.gserviceaccount.com",
      "driftWorkloadIdentityMember": "serviceAccount:acme-mobility-prod.svc.id.goog[chicago-taxi-dev/chicago-taxi-drift]",
      "registryHost": "us-central1-docker.pkg.dev",
      "image": "us-central1-docker.pkg.dev/acme-mobility-prod/chicago-taxi/chicago-taxi",
      "modelBucket": "acme-mobility-prod-chicago-taxi-dev-models",
      "stateBucket": "acme-mobility-prod-chicago-taxi-tfstate",
      "statePrefix": "chicago-taxi/dev",
      "bootstrapStatePrefix": "chicago-taxi/bootstrap",
      "nodeServiceAccountId": "chicago-taxi-dev-nodes",
      "keyRing": "chicago-taxi-dev",
      "cryptoKey": "data",
      "systemPool": "system",
      "mlPool": "ml",
      "deployClusterRoleId": "chicago_taxi_deploy_cluster_connect",
      "deployServiceAccountId": "chicago-taxi-dev-deploy",
      "deployServiceAccountEmail": "chicago-taxi-dev-deploy@acme-mobility-prod.iam.gserviceaccount.com",
      "workloadIdentityPool": "github-chicago-taxi",
      "workloadIdentityProviderId": "github"
    }
  },
  {
    "id": "gcp-staging",
    "cloud": "gcp",
    "stage": "staging",
    "minReplicas": 2,
    "maxReplicas": 6,
    "cpuTarget": 65,
    "nodePool": {
      "min": 1,
      "max": 3
    },
    "githubEnvironment": "gcp-staging",
    "githubOidcSubject": "repo:acme-ml/chicago-taxi:environment:gcp-staging",
    "deploy": {
      "runsOn": "ubuntu-24.04"
    },
    "modelUri": "gs://acme-mobility-prod-chicago-taxi-staging-models/models/chicago-taxi/1.0.0/model.onnx",
    "predictionLogUri": "gs://acme-mobility-prod-chicago-taxi-staging-models/prediction-logs/",
    "gcp": {
      "namespace": "chicago-taxi-staging",
      "project": "acme-mobility-prod",
      "region": "us-central1",
      "cluster": "chicago-taxi-staging",
      "network": "chicago-taxi-staging",
      "serviceAccountId": "chicago-taxi-staging",
      "serviceAccountEmail": "chicago-taxi-staging@acme-mobility-prod.iam.gserviceaccount.com",
      "workloadIdentityMember": "serviceAccount:acme-mobility-prod.svc.id.goog[chicago-taxi-staging/chicago-taxi]",
      "driftServiceAccountId": "chicago-taxi-staging-drift",
      "driftServiceAccountEmail": "chicago-taxi-staging-drift@acme-mobility-prod.iam.gserviceaccount.com",
      "driftWorkloadIdentityMember": "serviceAccount:acme-mobility-prod.svc.id.goog[chicago-taxi-staging/chicago-taxi-drift]",
      "registryHost": "us-central1-docker.pkg.dev",
      "image": "us-central1-docker.pkg.dev/acme-mobility-prod/chicago-taxi/chicago-taxi",
      "modelBucket": "acme-mobility-prod-chicago-taxi-staging-models",
      "stateBucket": "acme-mobility-prod-chicago-taxi-tfstate",
      "statePrefix": "chicago-taxi/staging",
      "bootstrapStatePrefix": "chicago-taxi/bootstrap",
      "nodeServiceAccountId": "chicago-taxi-staging-nodes",
      "keyRing": "chicago-taxi-staging",
      "cryptoKey": "data",
      "systemPool": "system",
      "mlPool": "ml",
      "deployClusterRoleId": "chicago_taxi_deploy_cluster_connect",
      "deployServiceAccountId": "chicago-taxi-staging-deploy",
      "deployServiceAccountEmail": "chicago-taxi-staging-deploy@acme-mobility-prod.iam.gserviceaccount.com",
      "workloadIdentityPool": "github-chicago-taxi",
      "workloadIdentityProviderId": "github"
    }
  },
  {
    "id": "gcp-prod",
    "cloud": "gcp",
    "stage": "prod",
    "minReplicas": 2,
    "maxReplicas": 12,
    "cpuTarget": 60,
    "nodePool": {
      "min": 2,
      "max": 5
    },
    "githubEnvironment": "gcp-prod",
    "githubOidcSubject": "repo:acme-ml/chicago-taxi:environment:gcp-prod",
    "deploy": {
      "runsOn": "ubuntu-24.04"
    },
    "modelUri": "gs://acme-mobility-prod-chicago-taxi-prod-models/models/chicago-taxi/1.0.0/model.onnx",
    "predictionLogUri": "gs://acme-mobility-prod-chicago-taxi-prod-models/prediction-logs/",
    "gcp": {
      "namespace": "chicago-taxi-prod",
      "project": "acme-mobility-prod",
      "region": "us-central1",
      "cluster": "chicago-taxi-prod",
      "network": "chicago-taxi-prod",
      "serviceAccountId": "chicago-taxi-prod",
      "serviceAccountEmail": "chicago-taxi-prod@acme-mobility-prod.iam.gserviceaccount.com",
      "workloadIdentityMember": "serviceAccount:acme-mobility-prod.svc.id.goog[chicago-taxi-prod/chicago-taxi]",
      "driftServiceAccountId": "chicago-taxi-prod-drift",
      "driftServiceAccountEmail": "chicago-taxi-prod-drift@acme-mobility-prod.iam.gserviceaccount.com",
      "driftWorkloadIdentityMember": "serviceAccount:acme-mobility-prod.svc.id.goog[chicago-taxi-prod/chicago-taxi-drift]",
      "registryHost": "us-central1-docker.pkg.dev",
      "image": "us-central1-docker.pkg.dev/acme-mobility-prod/chicago-taxi/chicago-taxi",
      "modelBucket": "acme-mobility-prod-chicago-taxi-prod-models",
      "stateBucket": "acme-mobility-prod-chicago-taxi-tfstate",
      "statePrefix": "chicago-taxi/prod",
      "bootstrapStatePrefix": "chicago-taxi/bootstrap",
      "nodeServiceAccountId": "chicago-taxi-prod-nodes",
      "keyRing": "chicago-taxi-prod",
      "cryptoKey": "data",
      "systemPool": "system",
      "mlPool": "ml",
      "deployClusterRoleId": "chicago_taxi_deploy_cluster_connect",
      "deployServiceAccountId": "chicago-taxi-prod-deploy",
      "deployServiceAccountEmail": "chicago-taxi-prod-deploy@acme-mobility-prod.iam.gserviceaccount.com",
      "workloadIdentityPool": "github-chicago-taxi",
      "workloadIdentityProviderId": "github"
    }
  },
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
    "githubOidcSubject": "repo:acme-ml/chicago-taxi:environment:aws-dev",
    "deploy": {
      "runsOn": "ubuntu-24.04"
    },
    "modelUri": "s3://chicago-taxi-dev-models-123456789012/models/chicago-taxi/1.0.0/model.onnx",
    "predictionLogUri": "s3://chicago-taxi-dev-models-123456789012/prediction-logs/",
    "aws": {
      "namespace": "chicago-taxi-dev",
      "accountId": "123456789012",
      "region": "us-east-1",
      "partition": "aws",
      "cluster": "chicago-taxi-dev",
      "vpc": "chicago-taxi-dev",
      "roleName": "chicago-taxi-dev-irsa",
      "roleArn": "arn:aws:iam::123456789012:role/chicago-taxi-dev-irsa",
      "registryHost": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/chicago-taxi",
      "modelBucket": "chicago-taxi-dev-models-123456789012",
      "stateBucket": "chicago-taxi-tfstate-123456789012",
      "stateKey": "chicago-taxi/dev/terraform.tfstate",
      "bootstrapStateKey": "chicago-taxi/bootstrap/terraform.tfstate",
      "irsaSubject": "system:serviceaccount:chicago-taxi-dev:chicago-taxi",
      "driftRoleName": "chicago-taxi-dev-drift",
      "driftRoleArn": "arn:aws:iam::123456789012:role/chicago-taxi-dev-drift",
      "driftIrsaSubject": "system:serviceaccount:chicago-taxi-dev:chicago-taxi-drift",
      "clusterRole": "chicago-taxi-dev-cluster",
      "nodeRole": "chicago-taxi-dev-node",
      "systemLaunchTemplate": "chicago-taxi-dev-system",
      "mlLaunchTemplate": "chicago-taxi-dev-ml",
      "systemNodeGroup": "system",
      "mlNodeGroup": "ml",
      "keyAlias": "alias/chicago-taxi-dev",
      "clusterLogGroup": "/aws/eks/chicago-taxi-dev/cluster",
      "deployRoleName": "chicago-taxi-dev-deploy",
      "deployRoleArn": "arn:aws:iam::123456789012:role/chicago-taxi-dev-deploy",
      "clusterAutoscaler": {
        "roleName": "chicago-taxi-dev-autoscaler",
        "namespace": "kube-system",
        "serviceAccount": "cluster-autoscaler"
      },
      "githubOidcProvider": "create",
      "eksEndpoint": "public",
      "eksPublicAccessCidrs": [
        "0.0.0.0/0"
      ],
      "githubOidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    }
  },
  {
    "id": "aws-staging",
    "cloud": "aws",
    "stage": "staging",
    "minReplicas": 2,
    "maxReplicas": 6,
    "cpuTarget": 65,
    "nodePool": {
      "min": 1,
      "max": 3
    },
    "githubEnvironment": "aws-staging",
    "githubOidcSubject": "repo:acme-ml/chicago-taxi:environment:aws-staging",
    "deploy": {
      "runsOn": "ubuntu-24.04"
    },
    "modelUri": "s3://chicago-taxi-staging-models-123456789012/models/chicago-taxi/1.0.0/model.onnx",
    "predictionLogUri": "s3://chicago-taxi-staging-models-123456789012/prediction-logs/",
    "aws": {
      "namespace": "chicago-taxi-staging",
      "accountId": "123456789012",
      "region": "us-east-1",
      "partition": "aws",
      "cluster": "chicago-taxi-staging",
      "vpc": "chicago-taxi-staging",
      "roleName": "chicago-taxi-staging-irsa",
      "roleArn": "arn:aws:iam::123456789012:role/chicago-taxi-staging-irsa",
      "registryHost": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/chicago-taxi",
      "modelBucket": "chicago-taxi-staging-models-123456789012",
      "stateBucket": "chicago-taxi-tfstate-123456789012",
      "stateKey": "chicago-taxi/staging/terraform.tfstate",
      "bootstrapStateKey": "chicago-taxi/bootstrap/terraform.tfstate",
      "irsaSubject": "system:serviceaccount:chicago-taxi-staging:chicago-taxi",
      "driftRoleName": "chicago-taxi-staging-drift",
      "driftRoleArn": "arn:aws:iam::123456789012:role/chicago-taxi-staging-drift",
      "driftIrsaSubject": "system:serviceaccount:chicago-taxi-staging:chicago-taxi-drift",
      "clusterRole": "chicago-taxi-staging-cluster",
      "nodeRole": "chicago-taxi-staging-node",
      "systemLaunchTemplate": "chicago-taxi-staging-system",
      "mlLaunchTemplate": "chicago-taxi-staging-ml",
      "systemNodeGroup": "system",
      "mlNodeGroup": "ml",
      "keyAlias": "alias/chicago-taxi-staging",
      "clusterLogGroup": "/aws/eks/chicago-taxi-staging/cluster",
      "deployRoleName": "chicago-taxi-staging-deploy",
      "deployRoleArn": "arn:aws:iam::123456789012:role/chicago-taxi-staging-deploy",
      "clusterAutoscaler": {
        "roleName": "chicago-taxi-staging-autoscaler",
        "namespace": "kube-system",
        "serviceAccount": "cluster-autoscaler"
      },
      "githubOidcProvider": "create",
      "eksEndpoint": "public",
      "eksPublicAccessCidrs": [
        "0.0.0.0/0"
      ],
      "githubOidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    }
  },
  {
    "id": "aws-prod",
    "cloud": "aws",
    "stage": "prod",
    "minReplicas": 2,
    "maxReplicas": 12,
    "cpuTarget": 60,
    "nodePool": {
      "min": 2,
      "max": 5
    },
    "githubEnvironment": "aws-prod",
    "githubOidcSubject": "repo:acme-ml/chicago-taxi:environment:aws-prod",
    "deploy": {
      "runsOn": "ubuntu-24.04"
    },
    "modelUri": "s3://chicago-taxi-prod-models-123456789012/models/chicago-taxi/1.0.0/model.onnx",
    "predictionLogUri": "s3://chicago-taxi-prod-models-123456789012/prediction-logs/",
    "aws": {
      "namespace": "chicago-taxi-prod",
      "accountId": "123456789012",
      "region": "us-east-1",
      "partition": "aws",
      "cluster": "chicago-taxi-prod",
      "vpc": "chicago-taxi-prod",
      "roleName": "chicago-taxi-prod-irsa",
      "roleArn": "arn:aws:iam::123456789012:role/chicago-taxi-prod-irsa",
      "registryHost": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/chicago-taxi",
      "modelBucket": "chicago-taxi-prod-models-123456789012",
      "stateBucket": "chicago-taxi-tfstate-123456789012",
      "stateKey": "chicago-taxi/prod/terraform.tfstate",
      "bootstrapStateKey": "chicago-taxi/bootstrap/terraform.tfstate",
      "irsaSubject": "system:serviceaccount:chicago-taxi-prod:chicago-taxi",
      "driftRoleName": "chicago-taxi-prod-drift",
      "driftRoleArn": "arn:aws:iam::123456789012:role/chicago-taxi-prod-drift",
      "driftIrsaSubject": "system:serviceaccount:chicago-taxi-prod:chicago-taxi-drift",
      "clusterRole": "chicago-taxi-prod-cluster",
      "nodeRole": "chicago-taxi-prod-node",
      "systemLaunchTemplate": "chicago-taxi-prod-system",
      "mlLaunchTemplate": "chicago-taxi-prod-ml",
      "systemNodeGroup": "system",
      "mlNodeGroup": "ml",
      "keyAlias": "alias/chicago-taxi-prod",
      "clusterLogGroup": "/aws/eks/chicago-taxi-prod/cluster",
      "deployRoleName": "chicago-taxi-prod-deploy",
      "deployRoleArn": "arn:aws:iam::123456789012:role/chicago-taxi-prod-deploy",
      "clusterAutoscaler": {
        "roleName": "chicago-taxi-prod-autoscaler",
        "namespace": "kube-system",
        "serviceAccount": "cluster-autoscaler"
      },
      "githubOidcProvider": "create",
      "eksEndpoint": "public",
      "eksPublicAccessCidrs": [
        "0.0.0.0/0"
      ],
      "githubOidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    }
  }
] as const;

export type Environment = (typeof environments)[number];
export type EnvironmentId = Environment['id'];
