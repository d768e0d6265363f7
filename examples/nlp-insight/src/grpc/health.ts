/**
 * The gRPC health checking protocol's answer (grpc.health.v1): SERVING exactly when the REST
 * readiness (`/readyz`) says ready, NOT_SERVING while the workers warm up, when none is warm, and
 * from SIGTERM on. The server as a whole ("") and the inference service report the same.
 */
import type { ServiceHealth } from '../context.js';

export type HealthStatus = 'SERVING' | 'NOT_SERVING';

/** The status of `service`, or undefined for a service this server does not know (NOT_FOUND). */
export function healthStatusOf(service: string, health: ServiceHealth): HealthStatus | undefined {
  if (service !== '' && service !== 'inference.GRPCInferenceService') return undefined;
  return health.ready ? 'SERVING' : 'NOT_SERVING';
}
