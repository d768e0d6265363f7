/**
 * Sizing and configuration of the cloud stacks per stage: everything that is not a name. Names come
 * from `deploy/plan.ts` only. Edit this file to resize an environment; `npm test` checks that the
 * machines still fit the service's pods and that dev < staging < prod still holds.
 */
import type { Environment } from '../plan.js';

export type Stage = Environment['stage'];

export interface StageConfig {
  /** Customer-managed keys (Cloud KMS / AWS KMS) for the model bucket and Kubernetes Secrets. */
  readonly customerManagedKey: boolean;
  /** Interruptible capacity (GKE Spot VMs / EC2 Spot) for the ML node pool. */
  readonly spotNodes: boolean;
  /** Refuse `terraform destroy` of the cluster (and keep the keys). */
  readonly deletionProtection: boolean;
  /** Days a replaced model version stays recoverable in the bucket. */
  readonly noncurrentVersionDays: number;
  /**
   * Days the prediction logs (the requests' inputs and the answers) are kept under
   * `prediction-logs/`: the drift job reads yesterday's; keep what retraining and audits need.
   */
  readonly predictionLogDays: number;
  /** Days control plane logs are kept (EKS; GKE keeps them in Cloud Logging's `_Default` bucket). */
  readonly logRetentionDays: number;
  /**
   * GKE: CIDRs allowed to reach the control plane's IP endpoint (admins on known networks). Empty:
   * GKE is reachable through its IAM-authenticated DNS endpoint only. EKS's endpoint follows the
   * answers `eksEndpoint` and `eksPublicAccessCidrs` (deploy/plan.ts).
   */
  readonly controlPlaneCidrs: readonly string[];
  /** Boot disk of every node, GB. */
  readonly diskSizeGb: number;
  /** Untainted pool for cluster services (DNS, metrics, CNI) that do not tolerate the ML taint. */
  readonly systemPool: { readonly min: number; readonly max: number };
  readonly gcp: {
    /** Machine family of the ML pool; the size is chosen to fit the service's pods. */
    readonly family: 'e2-standard' | 'n2-standard';
    readonly systemMachineType: string;
    readonly releaseChannel: 'RAPID' | 'REGULAR' | 'STABLE';
    readonly subnetCidr: string;
    readonly podsCidr: string;
    readonly servicesCidr: string;
  };
  readonly aws: {
    /** Instance families of the ML node group (several diversify Spot capacity). */
    readonly families: readonly string[];
    readonly systemInstanceType: string;
    readonly kubernetesVersion: string;
    readonly vpcCidr: string;
    /** One per availability zone, three zones. */
    readonly privateSubnetCidrs: readonly [string, string, string];
    readonly publicSubnetCidrs: readonly [string, string, string];
    /** 1 shares a NAT gateway across zones (cheaper); 3 survives the loss of a zone. */
    readonly natGateways: 1 | 3;
  };
}

export const stageConfig: Readonly<Record<Stage, StageConfig>> = {
  dev: {
    customerManagedKey: false,
    spotNodes: true,
    deletionProtection: false,
    noncurrentVersionDays: 7,
    predictionLogDays: 14,
    logRetentionDays: 14,
    controlPlaneCidrs: [],
    diskSizeGb: 50,
    systemPool: { min: 1, max: 2 },
    gcp: {
      family: 'e2-standard',
      systemMachineType: 'e2-standard-2',
      releaseChannel: 'REGULAR',
      subnetCidr: '10.10.0.0/20',
      servicesCidr: '10.10.16.0/20',
      podsCidr: '10.11.0.0/16',
    },
    aws: {
      families: ['m6i', 'm6a', 'm5'],
      systemInstanceType: 'm6i.large',
      kubernetesVersion: '1.33',
      vpcCidr: '10.40.0.0/16',
      privateSubnetCidrs: ['10.40.0.0/19', '10.40.32.0/19', '10.40.64.0/19'],
      publicSubnetCidrs: ['10.40.96.0/24', '10.40.97.0/24', '10.40.98.0/24'],
      natGateways: 1,
    },
  },
  staging: {
    customerManagedKey: true,
    spotNodes: false,
    deletionProtection: false,
    noncurrentVersionDays: 30,
    predictionLogDays: 30,
    logRetentionDays: 30,
    controlPlaneCidrs: [],
    diskSizeGb: 100,
    systemPool: { min: 1, max: 2 },
    gcp: {
      family: 'n2-standard',
      systemMachineType: 'e2-standard-2',
      releaseChannel: 'REGULAR',
      subnetCidr: '10.20.0.0/20',
      servicesCidr: '10.20.16.0/20',
      podsCidr: '10.21.0.0/16',
    },
    aws: {
      families: ['m6i'],
      systemInstanceType: 'm6i.large',
      kubernetesVersion: '1.33',
      vpcCidr: '10.50.0.0/16',
      privateSubnetCidrs: ['10.50.0.0/19', '10.50.32.0/19', '10.50.64.0/19'],
      publicSubnetCidrs: ['10.50.96.0/24', '10.50.97.0/24', '10.50.98.0/24'],
      natGateways: 1,
    },
  },
  prod: {
    customerManagedKey: true,
    spotNodes: false,
    deletionProtection: true,
    noncurrentVersionDays: 90,
    predictionLogDays: 90,
    logRetentionDays: 90,
    controlPlaneCidrs: [],
    diskSizeGb: 100,
    systemPool: { min: 2, max: 3 },
    gcp: {
      family: 'n2-standard',
      systemMachineType: 'e2-standard-2',
      releaseChannel: 'STABLE',
      subnetCidr: '10.30.0.0/20',
      servicesCidr: '10.30.16.0/20',
      podsCidr: '10.31.0.0/16',
    },
    aws: {
      families: ['m6i'],
      systemInstanceType: 'm6i.large',
      kubernetesVersion: '1.33',
      vpcCidr: '10.60.0.0/16',
      privateSubnetCidrs: ['10.60.0.0/19', '10.60.32.0/19', '10.60.64.0/19'],
      publicSubnetCidrs: ['10.60.96.0/24', '10.60.97.0/24', '10.60.98.0/24'],
      natGateways: 3,
    },
  },
};

/** vCPUs of the machine sizes both clouds offer in their general-purpose families (4 GiB per vCPU). */
export const machineSizes = [2, 4, 8, 16, 32] as const;
export type MachineSize = (typeof machineSizes)[number];

const awsSizeSuffix: Record<MachineSize, string> = {
  2: 'large',
  4: 'xlarge',
  8: '2xlarge',
  16: '4xlarge',
  32: '8xlarge',
};

export const gcpMachineType = (family: string, size: MachineSize): string => `${family}-${size}`;
export const awsInstanceType = (family: string, size: MachineSize): string =>
  `${family}.${awsSizeSuffix[size]}`;

/** What one pod of the service requests (deploy/plan.ts `runtime`). */
export interface PodRequest {
  readonly cpuMillis: number;
  /** Kubernetes quantity in Mi or Gi, e.g. "1Gi". */
  readonly memory: string;
}

export function memoryMiB(quantity: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!m) throw new Error(`unsupported memory quantity "${quantity}" (use Mi or Gi)`);
  return Number(m[1]) * (m[2] === 'Gi' ? 1024 : 1);
}

/**
 * What a pod of the service requests beside the server (deploy/plan.ts `runtime`): the sidecar that
 * ships its prediction log (deploy/k8s `logShipper`). `test/joins.test.ts` fails if the pods the
 * manifests describe request more than `servicePod`.
 */
export const sidecarAllowance = { cpuMillis: 100, memoryMiB: 128 } as const;

/** One pod of the service as the ML node pool is sized for it: the server plus its sidecar. */
export function servicePod(server: PodRequest): PodRequest {
  return {
    cpuMillis: server.cpuMillis + sidecarAllowance.cpuMillis,
    memory: `${memoryMiB(server.memory) + sidecarAllowance.memoryMiB}Mi`,
  };
}

/** Daemon sets on every node (CNI, kube-proxy, logging and metrics agents): a conservative allowance. */
const daemonOverhead = { cpuMillis: 400, memoryMiB: 768 };

/**
 * Allocatable CPU (millicores) and memory (MiB) of a node: the kubelet reservations GKE documents
 * (EKS's AL2023 AMI reserves about the same), minus the daemon set allowance above.
 */
export function allocatable(vcpu: number): { cpuMillis: number; memoryMiB: number } {
  const cores = [0.06, 0.01, 0.005, 0.005];
  let cpuReserved = 0;
  for (let core = 0; core < vcpu; core++) cpuReserved += (cores[core] ?? 0.0025) * 1000;
  const memGiB = vcpu * 4;
  const bands: Array<[number, number]> = [
    [4, 0.25],
    [4, 0.2],
    [8, 0.1],
    [112, 0.06],
    [Infinity, 0.02],
  ];
  let rest = memGiB;
  let memReservedGiB = 0;
  for (const [size, share] of bands) {
    const part = Math.min(rest, size);
    memReservedGiB += part * share;
    rest -= part;
    if (rest <= 0) break;
  }
  return {
    cpuMillis: Math.floor(vcpu * 1000 - cpuReserved - daemonOverhead.cpuMillis),
    memoryMiB: Math.floor(memGiB * 1024 - memReservedGiB * 1024 - 100 - daemonOverhead.memoryMiB),
  };
}

/**
 * How many of the service's pods each ML node must hold so the pool at its maximum size can run
 * the environment's maximum replicas.
 */
export const podsPerNode = (env: { maxReplicas: number; nodePool: { max: number } }): number =>
  Math.ceil(env.maxReplicas / env.nodePool.max);

/** The smallest machine size that holds `pods` pods of `request`. */
export function mlMachineSize(pods: number, request: PodRequest): MachineSize {
  const needCpu = pods * request.cpuMillis;
  const needMem = pods * memoryMiB(request.memory);
  for (const size of machineSizes) {
    const a = allocatable(size);
    if (a.cpuMillis >= needCpu && a.memoryMiB >= needMem) return size;
  }
  throw new Error(
    `no machine of ${machineSizes.join('/')} vCPUs holds ${pods} pods of ${request.cpuMillis}m CPU / ${request.memory}: ` +
      'lower the CPU or memory request, or raise the node pool maximum',
  );
}
