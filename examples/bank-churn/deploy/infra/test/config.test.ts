/**
 * The sizing config: dev < staging < prod, the ML machines hold the service's pods at the plan's
 * maximum replicas, the address ranges do not overlap, and the stack-local names fit the clouds' limits.
 */
import { describe, expect, it } from 'vitest';
import { environments, runtime } from '../../plan.js';
import {
  allocatable,
  machineSizes,
  memoryMiB,
  mlMachineSize,
  podsPerNode,
  servicePod,
  type Stage,
  stageConfig,
} from '../config.js';

const order: readonly Stage[] = ['dev', 'staging', 'prod'];

function cidr(range: string): { start: number; end: number } {
  const [ip, bits] = range.split('/');
  const n = ip!.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  if (n % size !== 0) throw new Error(`${range} is not aligned`);
  return { start: n, end: n + size - 1 };
}
const overlaps = (a: string, b: string): boolean => {
  const x = cidr(a);
  const y = cidr(b);
  return x.start <= y.end && y.start <= x.end;
};
const within = (inner: string, outer: string): boolean => {
  const x = cidr(inner);
  const y = cidr(outer);
  return x.start >= y.start && x.end <= y.end;
};

describe('sizing', () => {
  it('scales dev < staging < prod on every cloud: ML pool capacity, node count, protection', () => {
    for (const cloud of new Set(environments.map((e) => e.cloud))) {
      const envs = order.map((stage) =>
        environments.find((e) => e.cloud === cloud && e.stage === stage)!,
      );
      const capacity = envs.map(
        (e) => mlMachineSize(podsPerNode(e), servicePod(runtime)) * e.nodePool.max,
      );
      expect(capacity[0]!, `${cloud} dev < staging`).toBeLessThan(capacity[1]!);
      expect(capacity[1]!, `${cloud} staging < prod`).toBeLessThan(capacity[2]!);
      expect(envs[0]!.nodePool.max).toBeLessThan(envs[2]!.nodePool.max);
    }
    const cfg = order.map((s) => stageConfig[s]);
    const nonDecreasing = (xs: number[]) => xs.every((x, i) => i === 0 || x >= xs[i - 1]!);
    expect(nonDecreasing(cfg.map((c) => Number(c.customerManagedKey)))).toBe(true);
    expect(nonDecreasing(cfg.map((c) => Number(c.deletionProtection)))).toBe(true);
    expect(nonDecreasing(cfg.map((c) => c.systemPool.max))).toBe(true);
    expect(nonDecreasing(cfg.map((c) => c.aws.natGateways))).toBe(true);
    expect(nonDecreasing(cfg.map((c) => c.noncurrentVersionDays))).toBe(true);
    expect(nonDecreasing(cfg.map((c) => c.predictionLogDays))).toBe(true);
    // The drift job reads yesterday's log: the logs outlive at least a few daily runs.
    for (const c of cfg) expect(c.predictionLogDays).toBeGreaterThanOrEqual(7);
    expect(stageConfig.prod.deletionProtection).toBe(true);
    expect(stageConfig.prod.spotNodes).toBe(false);
  });

  it.each(environments.map((e) => [e.id, e] as const))(
    '%s: the ML pool at its maximum holds the maximum replicas, sidecar included',
    (_id, env) => {
      const pods = podsPerNode(env);
      expect(pods * env.nodePool.max).toBeGreaterThanOrEqual(env.maxReplicas);
      const pod = servicePod(runtime);
      expect(pod.cpuMillis).toBeGreaterThan(runtime.cpuMillis);
      const node = allocatable(mlMachineSize(pods, pod));
      expect(node.cpuMillis).toBeGreaterThanOrEqual(pods * pod.cpuMillis);
      expect(node.memoryMiB).toBeGreaterThanOrEqual(pods * memoryMiB(pod.memory));
    },
  );

  it('picks bigger machines for bigger pods, and says so when nothing fits', () => {
    expect(mlMachineSize(1, { cpuMillis: 500, memory: '512Mi' })).toBe(2);
    expect(mlMachineSize(1, { cpuMillis: 2000, memory: '1Gi' })).toBe(4);
    expect(mlMachineSize(2, { cpuMillis: 2000, memory: '1Gi' })).toBe(8);
    expect(mlMachineSize(1, { cpuMillis: 1000, memory: '14Gi' })).toBe(8);
    expect(() => mlMachineSize(4, { cpuMillis: 16000, memory: '1Gi' })).toThrow(/no machine/);
    for (const size of machineSizes) expect(allocatable(size).cpuMillis).toBeLessThan(size * 1000);
  });
});

describe('network ranges', () => {
  const gcpRanges = order.flatMap((s) => {
    const g = stageConfig[s].gcp;
    return [g.subnetCidr, g.podsCidr, g.servicesCidr];
  });
  const awsVpcs = order.map((s) => stageConfig[s].aws.vpcCidr);

  it('never overlap, across stages and clouds (so environments can be peered)', () => {
    const all = [...gcpRanges, ...awsVpcs];
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++)
        expect(overlaps(all[i]!, all[j]!), `${all[i]} vs ${all[j]}`).toBe(false);
    }
  });

  it('place every AWS subnet inside its VPC, without overlap', () => {
    for (const s of order) {
      const a = stageConfig[s].aws;
      const subnets = [...a.privateSubnetCidrs, ...a.publicSubnetCidrs];
      for (const subnet of subnets)
        expect(within(subnet, a.vpcCidr), `${subnet} in ${a.vpcCidr}`).toBe(true);
      for (let i = 0; i < subnets.length; i++) {
        for (let j = i + 1; j < subnets.length; j++)
          expect(overlaps(subnets[i]!, subnets[j]!)).toBe(false);
      }
    }
  });
});

describe('stack-local names from deploy/plan.ts', () => {
  it('fit the clouds’ limits and differ per environment', () => {
    const ids = { gcp: new Set<string>(), aws: new Set<string>() };
    for (const env of environments) {
      const names = env as unknown as {
        gcp?: {
          nodeServiceAccountId: string;
          serviceAccountId: string;
          driftServiceAccountId: string;
        };
        aws?: { clusterRole: string; nodeRole: string; roleName: string; driftRoleName: string };
      };
      if (names.gcp) {
        for (const id of [
          names.gcp.nodeServiceAccountId,
          names.gcp.serviceAccountId,
          names.gcp.driftServiceAccountId,
        ]) {
          expect(id).toMatch(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/);
          ids.gcp.add(id);
        }
      }
      if (names.aws) {
        for (const role of [
          names.aws.clusterRole,
          names.aws.nodeRole,
          names.aws.roleName,
          names.aws.driftRoleName,
        ]) {
          expect(role.length).toBeLessThanOrEqual(64);
          ids.aws.add(role);
        }
      }
    }
    expect(ids.gcp.size).toBe(3 * environments.filter((e) => 'gcp' in e).length);
    expect(ids.aws.size).toBe(4 * environments.filter((e) => 'aws' in e).length);
  });

  it('give every stage a namespace of its own: the GCP stages share one Workload Identity pool', () => {
    const namespaces = environments.map((env) => {
      const names = env as unknown as { gcp?: { namespace: string }; aws?: { namespace: string } };
      return `${env.cloud}:${(names.gcp ?? names.aws)!.namespace}`;
    });
    expect(new Set(namespaces).size).toBe(environments.length);
    for (const ns of namespaces)
      expect(ns.split(':')[1]).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });
});
