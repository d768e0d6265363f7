/**
 * The NetworkPolicies, evaluated for concrete peers the way the API server's enforcement does: a
 * connection is allowed when some policy selecting the pod has a rule whose peer and port match.
 * IRSA needs STS before any S3 call, so on EKS STS stays reachable even when the object store
 * egress is narrowed to S3's ranges; the default callers and scrapers fit each cloud.
 */
import { describe, expect, it } from 'vitest';
import { synthesize } from '../app.js';
import { googleFrontEnds } from '../config.js';
import type { Manifest } from '../validate.js';
import { all, isInference, podTemplates, selects } from './support.js';

interface Peer {
  ipBlock?: { cidr: string; except?: string[] };
  namespaceSelector?: { matchLabels?: Record<string, string> };
}
interface Rule {
  to?: Peer[];
  from?: Peer[];
  ports?: Array<{ protocol: string; port: number | string }>;
}
interface Policy {
  spec: {
    podSelector: { matchLabels?: Record<string, string> };
    egress?: Rule[];
    ingress?: Rule[];
  };
}

const ipToInt = (ip: string): number =>
  ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipToInt(base) / size) * size;
  return ipToInt(ip) >= start && ipToInt(ip) < start + size;
}
const peerHasIp = (peer: Peer, ip: string): boolean =>
  peer.ipBlock !== undefined &&
  inCidr(ip, peer.ipBlock.cidr) &&
  !(peer.ipBlock.except ?? []).some((e) => inCidr(ip, e));

/** Whether the inference pods may open a TCP connection to `ip`:`port`. */
function egressAllowed(manifests: readonly Manifest[], ip: string, port: number): boolean {
  const pod = podTemplates({ manifests } as never).find((p) => isInference(p.owner))!;
  const policies = manifests
    .filter((m) => m.kind === 'NetworkPolicy')
    .map((m) => m as unknown as Policy)
    .filter((p) => selects(p.spec.podSelector, pod.labels));
  return policies.some((p) =>
    (p.spec.egress ?? []).some(
      (r) =>
        (r.ports ?? []).some((x) => x.protocol === 'TCP' && x.port === port) &&
        (r.to ?? []).some((peer) => peerHasIp(peer, ip)),
    ),
  );
}

/** Namespaces and addresses that may call the inference pods (on the named port, if given). */
function callers(
  manifests: readonly Manifest[],
  port?: string,
): { namespaces: string[]; cidrs: string[] } {
  const pod = podTemplates({ manifests } as never).find((p) => isInference(p.owner))!;
  const from = manifests
    .filter((m) => m.kind === 'NetworkPolicy')
    .map((m) => m as unknown as Policy)
    .filter((p) => selects(p.spec.podSelector, pod.labels))
    .flatMap((p) => p.spec.ingress ?? [])
    .filter((r) => port === undefined || (r.ports ?? []).some((x) => x.port === port))
    .flatMap((r) => {
      expect(r.from?.length, 'an ingress rule without sources admits everyone').toBeGreaterThan(0);
      return r.from ?? [];
    });
  return {
    namespaces: from.flatMap((f) => {
      const ns = f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
      return ns ? [ns] : [];
    }),
    cidrs: from.flatMap((f) => (f.ipBlock ? [f.ipBlock.cidr] : [])),
  };
}

/** An address of `sts.us-east-1.amazonaws.com` (public AWS space) and one of S3's ranges there. */
const stsAddress = '209.54.177.164';
const s3Range = '3.5.0.0/19';

describe.each(all.map((s) => [s.env.id, s] as const))('%s', (id, s) => {
  it.runIf(s.env.cloud === 'aws')(
    'lets the pods reach STS on 443, which IRSA needs before S3',
    () => {
      expect(egressAllowed(s.manifests, stsAddress, 443)).toBe(true);
    },
  );

  it.runIf(s.env.cloud === 'aws')(
    'keeps STS reachable when the object store egress is narrowed to S3 ranges',
    () => {
      const narrowed = synthesize(id, { network: { objectStoreEgress: [{ cidr: s3Range }] } });
      expect(egressAllowed(narrowed.manifests, '3.5.0.10', 443)).toBe(true);
      expect(egressAllowed(narrowed.manifests, stsAddress, 443)).toBe(true);
      expect(egressAllowed(narrowed.manifests, '10.0.0.10', 443)).toBe(false);
    },
  );

  it("lets a JWT-checking server reach the issuer's keys on their URL's port, and no other server", () => {
    const jwt = {
      jwksUrl: 'https://login.example.com:8443/.well-known/jwks.json',
      issuer: 'https://login.example.com/',
      audience: 'churn',
    };
    const issuer = '203.0.113.7';
    // Narrowed object store egress: the issuer's rule is its own, as STS's is.
    const narrow = { objectStoreEgress: [{ cidr: s3Range }] };
    const withJwt = synthesize(id, { auth: { mode: 'jwt', jwt }, network: narrow });
    expect(egressAllowed(withJwt.manifests, issuer, 8443)).toBe(true);
    expect(egressAllowed(synthesize(id, { network: narrow }).manifests, issuer, 8443)).toBe(false);
    // An issuer inside the network, on its own port, once its range is named.
    const keycloak = {
      ...jwt,
      jwksUrl: 'http://10.20.0.5:8080/realms/ml/protocol/openid-connect/certs',
    };
    const inside = synthesize(id, {
      auth: { mode: 'api-key,jwt', jwt: keycloak },
      network: { issuerEgress: [{ cidr: '10.20.0.0/16' }] },
    });
    expect(egressAllowed(inside.manifests, '10.20.0.5', 8080)).toBe(true);
    expect(egressAllowed(inside.manifests, '10.20.0.5', 443)).toBe(false);
    expect(egressAllowed(inside.manifests, '10.30.0.5', 8080)).toBe(false);
  });

  it('never lets the pods reach private addresses or the cloud metadata service on 443', () => {
    for (const ip of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254']) {
      expect(egressAllowed(s.manifests, ip, 443), ip).toBe(false);
    }
  });

  it.runIf(s.env.cloud === 'gcp')(
    "admits GKE's load balancer (Google front ends) and Managed Prometheus (gmp-system, or kube-prometheus-stack with canary delivery)",
    () => {
      const c = callers(s.manifests);
      // With canary delivery, kube-prometheus-stack scrapes instead (its analysis queries it).
      expect(c.namespaces).toEqual([s.env.delivery.canary ? 'monitoring' : 'gmp-system']);
      expect(c.cidrs.sort()).toEqual([...googleFrontEnds].sort());
    },
  );

  it('lets the ingress reach the http and grpc ports only, and Prometheus the metrics port only', () => {
    const ingress = {
      namespaces: [...s.env.network.ingressNamespaces],
      cidrs: s.env.network.ingressCidrs.map((c) => c.cidr),
    };
    const prometheus = { namespaces: [s.env.network.prometheusNamespace], cidrs: [] };
    expect(callers(s.manifests, 'http')).toEqual(ingress);
    expect(callers(s.manifests, 'grpc')).toEqual(ingress);
    expect(callers(s.manifests, 'metrics')).toEqual(prometheus);
    // Every rule names its ports: nothing reaches the pods on a port it was not meant for.
    const rules = s.manifests
      .filter((m) => m.kind === 'NetworkPolicy')
      .flatMap((m) => (m as unknown as Policy).spec.ingress ?? []);
    for (const r of rules) {
      expect(r.ports?.length, JSON.stringify(r)).toBeGreaterThan(0);
      const named = (r.ports ?? []).map((p) => p.port).sort();
      expect([['grpc', 'http'], ['metrics']], JSON.stringify(r)).toContainEqual(named);
    }
  });

  it.runIf(s.env.cloud === 'aws')(
    'admits ingress-nginx and the monitoring namespace on EKS',
    () => {
      const c = callers(s.manifests);
      expect(c.namespaces.sort()).toEqual(['ingress-nginx', 'monitoring']);
      expect(c.cidrs).toEqual([]);
    },
  );
});
