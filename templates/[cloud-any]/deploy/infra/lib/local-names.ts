/**
 * The few names only these stacks use that deploy/plan.ts does not carry. Every other name, the
 * stack-local ones included (node identities, roles, key rings, launch templates), comes from
 * deploy/plan.ts.
 */
import { service } from '../../plan.js';

/**
 * The taint and label of the ML node pool (deploy/plan.ts `service.mlNodePool`). The service's pods
 * tolerate the taint and select the label (deploy/k8s); nothing else schedules there.
 */
export const mlNodeTaint = service.mlNodePool;

/** State of the bootstrap stacks, beside the environments' state (`<service>/<stage>`). */
export const bootstrapState = {
  gcsPrefix: `${service.service}/bootstrap`,
  s3Key: `${service.service}/bootstrap/terraform.tfstate`,
};
