/**
 * Names that only the Kubernetes layer uses. Every name another layer also needs (namespace,
 * service account, identity, bucket, image) comes from `deploy/plan.ts` instead.
 */
import { createHash } from 'node:crypto';
import { service } from '../plan.js';

/** Fits `s` into `max` characters, keeping it unique with a short hash when it has to cut. */
export function fit(s: string, max: number): string {
  if (s.length <= max) return s;
  const hash = createHash('sha256').update(s).digest('hex').slice(0, 6);
  return `${s.slice(0, max - 7).replace(/-+$/, '')}-${hash}`;
}

const base = service.service;

export const k8sNames = {
  /** Deployment, Service, HPA, PDB, ServiceMonitor, PrometheusRule and the container. */
  workload: base,
  container: base,
  /** CronJob names are limited to 52 characters (the Job name gets an 11-character suffix). */
  driftCronJob: fit(`${base}-drift`, 52),
  denyAllPolicy: fit(`${base}-default-deny`, 253),
  inferencePolicy: fit(`${base}-inference`, 253),
  driftPolicy: fit(`${base}-drift`, 253),
  dashboard: fit(`${base}-dashboard`, 253),
  /** Grafana dashboard uids are at most 40 characters. */
  dashboardUid: fit(`${base}-inference`, 40),
  digestPolicy: fit(`${base}-require-image-digest`, 253),
} as const;

/** Component label of the drift job's pods: not `inference`, so the Service never routes to them. */
export const driftComponent = 'drift-check';
