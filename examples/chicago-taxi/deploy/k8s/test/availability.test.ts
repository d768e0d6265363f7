/**
 * High availability in prod: replicas never share a node (topology spread on the hostname is
 * DoNotSchedule), zones stay best effort. Checked by placing replicas the way the scheduler's
 * PodTopologySpread filter does, on two nodes.
 */
import { describe, expect, it } from 'vitest';
import { resolveEnvironment } from '../config.js';
import { all, workload } from './support.js';

interface Spread {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: string;
}

/** Whether a new replica may go on `node`, given the replicas already placed (hard constraints only). */
function feasible(spread: Spread[], placed: string[], node: string, nodes: string[]): boolean {
  return spread
    .filter(
      (c) => c.whenUnsatisfiable === 'DoNotSchedule' && c.topologyKey === 'kubernetes.io/hostname',
    )
    .every((c) => {
      const count = (n: string) => placed.filter((p) => p === n).length + (n === node ? 1 : 0);
      const counts = nodes.map(count);
      return Math.max(...counts) - Math.min(...counts) <= c.maxSkew;
    });
}

describe.each(all.map((s) => [s.env.id, s] as const))('%s', (_id, s) => {
  const spread = (
    workload(s) as unknown as {
      spec: { template: { spec: { topologySpreadConstraints: Spread[] } } };
    }
  ).spec.template.spec.topologySpreadConstraints;
  const on = (key: string) => spread.find((c) => c.topologyKey === key)!;

  it.runIf(s.env.stage === 'prod')(
    'never puts two replicas on one node while another node is free',
    () => {
      expect(on('kubernetes.io/hostname')).toMatchObject({
        maxSkew: 1,
        whenUnsatisfiable: 'DoNotSchedule',
      });
      expect(on('topology.kubernetes.io/zone').whenUnsatisfiable).toBe('ScheduleAnyway');
      const nodes = ['node-a', 'node-b'];
      expect(feasible(spread, ['node-a'], 'node-a', nodes)).toBe(false);
      expect(feasible(spread, ['node-a'], 'node-b', nodes)).toBe(true);
      expect(s.env.autoscaling.minReplicas).toBeGreaterThanOrEqual(2);
    },
  );

  it.runIf(s.env.stage !== 'prod')(
    'spreads on a best-effort basis outside prod (one node is enough)',
    () => {
      expect(spread.every((c) => c.whenUnsatisfiable === 'ScheduleAnyway')).toBe(true);
    },
  );

  it.runIf(s.env.stage === 'prod')(
    'refuses an override that would let replicas share a node',
    () => {
      expect(() =>
        resolveEnvironment(s.env.id, { scheduling: { spread: { node: 'ScheduleAnyway' } } }),
      ).toThrow(/never schedule two replicas on one node/);
    },
  );
});
