/**
 * The Kubernetes objects' names, all derived by the generator's naming module and read from
 * `deploy/plan.ts` (so length limits are handled in one place).
 */
import { service } from '../plan.js';

export const k8sNames = {
  /** Deployment, Service, HPA, PDB, ServiceMonitor, PrometheusRule and the container. */
  workload: service.service,
  container: service.service,
  ...service.k8s,
} as const;

/** Component label of the drift job's pods: not `inference`, so the Service never routes to them. */
export const driftComponent = 'drift-check';
