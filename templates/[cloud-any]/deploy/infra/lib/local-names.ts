/**
 * Names of resources that only these stacks use (no other layer reads them): node identities,
 * cluster roles, key rings, launch templates, and the bootstrap state location. Each is built from
 * a name in deploy/plan.ts plus a fixed suffix, cut to the cloud's limit the way the generator cuts
 * its own names (a short hash keeps a cut name unique).
 */
import { createHash } from 'node:crypto';
import { service } from '../../plan.js';

export function fit(s: string, max: number): string {
  if (s.length <= max) return s;
  const hash = createHash('sha256').update(s).digest('hex').slice(0, 6);
  return `${s.slice(0, max - 7).replace(/-+$/, '')}-${hash}`;
}

/**
 * The taint and label of the ML node pool. The service's pods must tolerate the taint and select
 * the label (deploy/k8s); nothing else schedules there.
 */
export const mlNodeTaint = { key: 'workload-type', value: 'ml-inference' } as const;

export function gcpLocalNames(gcp: { cluster: string }) {
  return {
    /** Node service account id: 6-30 characters. */
    nodeServiceAccountId: fit(`${gcp.cluster}-nodes`, 30),
    keyRing: gcp.cluster,
    cryptoKey: 'data',
    systemPool: 'system',
    mlPool: 'ml',
  };
}

export function awsLocalNames(aws: { cluster: string }) {
  return {
    /** IAM role names: at most 64 characters. */
    clusterRole: fit(`${aws.cluster}-cluster`, 64),
    nodeRole: fit(`${aws.cluster}-node`, 64),
    systemLaunchTemplate: fit(`${aws.cluster}-system`, 128),
    mlLaunchTemplate: fit(`${aws.cluster}-ml`, 128),
    systemNodeGroup: 'system',
    mlNodeGroup: 'ml',
    keyAlias: `alias/${aws.cluster}`,
    /** The log group EKS writes control plane logs to: its name is fixed by EKS. */
    clusterLogGroup: `/aws/eks/${aws.cluster}/cluster`,
  };
}

/** State of the bootstrap stacks, beside the environments' state (`<service>/<stage>`). */
export const bootstrapState = {
  gcsPrefix: `${service.service}/bootstrap`,
  s3Key: `${service.service}/bootstrap/terraform.tfstate`,
};
