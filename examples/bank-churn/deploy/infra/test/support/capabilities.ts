/**
 * The capabilities both clouds must provide, in cloud-neutral terms. Each cloud has an extractor
 * that reads them back from its synthesized Terraform JSON (never from the config), so the parity
 * test fails when one cloud's stack loses a capability the other keeps.
 */
import { service } from '../../../plan.js';
import { type Stage, stageConfig } from '../../config.js';
import { modelLocation, predictionLogLocation } from '../../lib/model-path.js';

export interface Capabilities {
  readonly registry: {
    readonly repository: string;
    readonly immutableTags: boolean;
    readonly scanned: boolean;
  };
  readonly modelBucket: {
    readonly name: string;
    readonly versioned: boolean;
    readonly encryption: 'customer-managed key' | 'cloud-managed key';
    readonly publicAccessBlocked: boolean;
    /** Days the prediction logs are kept. */
    readonly predictionLogDays: number;
    /**
     * Days an expired prediction log survives as a noncurrent version (the bucket is versioned):
     * the shortest rule that applies to the logs wins, so the logs live days + this, at most.
     */
    readonly predictionLogNoncurrentDays: number;
  };
  /** The service's identity. */
  readonly workloadIdentity: {
    /** `<namespace>/<service account>` of the only Kubernetes identity that may use it. */
    readonly kubernetesServiceAccount: string;
    readonly bucket: string;
    /** The only object prefix it can read: its model's. */
    readonly readPrefix: string;
    /** The only object prefix it can write to: the prediction logs, create only. */
    readonly writePrefix: string;
    readonly access: 'read objects, create objects';
  };
  /** The drift job's identity. */
  readonly driftIdentity: {
    readonly kubernetesServiceAccount: string;
    readonly bucket: string;
    /** The only object prefix it can read and list: the prediction logs. */
    readonly readPrefix: string;
    readonly access: 'read and list objects';
  };
  readonly nodePool: {
    readonly min: number;
    readonly max: number;
    /** `key=value:Effect` */
    readonly taint: string;
    readonly privateNodes: boolean;
    /** Pods cannot reach the node's own credentials through the metadata service. */
    readonly nodeCredentialsHidden: boolean;
  };
  readonly cluster: {
    readonly networkPolicyEnforced: boolean;
    readonly secretsCustomerKey: boolean;
  };
  readonly remoteState: { readonly bucket: string; readonly key: string; readonly locked: boolean };
}

/** What every environment must provide, from deploy/plan.ts and config.ts. */
export function expectedCapabilities(env: {
  stage: Stage;
  modelUri: string;
  predictionLogUri: string;
  namespace: string;
  nodePool: { min: number; max: number };
  state: { bucket: string; key: string };
}): Capabilities {
  const cfg = stageConfig[env.stage];
  const model = modelLocation(env.modelUri);
  const logs = predictionLogLocation(env.predictionLogUri);
  const mlNodeTaint = service.mlNodePool;
  return {
    registry: { repository: service.registryRepository, immutableTags: true, scanned: true },
    modelBucket: {
      name: model.bucket,
      versioned: true,
      encryption: cfg.customerManagedKey ? 'customer-managed key' : 'cloud-managed key',
      publicAccessBlocked: true,
      predictionLogDays: cfg.predictionLogDays,
      predictionLogNoncurrentDays: 1,
    },
    workloadIdentity: {
      kubernetesServiceAccount: `${env.namespace}/${service.serviceAccount}`,
      bucket: model.bucket,
      readPrefix: model.readPrefix,
      writePrefix: logs.prefix,
      access: 'read objects, create objects',
    },
    driftIdentity: {
      kubernetesServiceAccount: `${env.namespace}/${service.driftServiceAccount}`,
      bucket: logs.bucket,
      readPrefix: logs.prefix,
      access: 'read and list objects',
    },
    nodePool: {
      min: env.nodePool.min,
      max: env.nodePool.max,
      taint: `${mlNodeTaint.key}=${mlNodeTaint.value}:NoSchedule`,
      privateNodes: true,
      nodeCredentialsHidden: true,
    },
    cluster: { networkPolicyEnforced: true, secretsCustomerKey: cfg.customerManagedKey },
    remoteState: { bucket: env.state.bucket, key: env.state.key, locked: true },
  };
}

/** The same capabilities with the cloud-specific names left out, to compare two clouds. */
export function withoutNames(c: Capabilities): unknown {
  return {
    ...c,
    modelBucket: { ...c.modelBucket, name: undefined },
    workloadIdentity: { ...c.workloadIdentity, bucket: undefined },
    driftIdentity: { ...c.driftIdentity, bucket: undefined },
    remoteState: { locked: c.remoteState.locked },
  };
}

/** The shortest of `days` (the rule that fires first), or Infinity when none applies. */
export const shortest = (days: readonly number[]): number =>
  days.length > 0 ? Math.min(...days) : Number.POSITIVE_INFINITY;

export const effectName: Record<string, string> = {
  NO_SCHEDULE: 'NoSchedule',
  PREFER_NO_SCHEDULE: 'PreferNoSchedule',
  NO_EXECUTE: 'NoExecute',
};
