/**
 * The safe defaults, asserted on the synthesized objects of every environment: CPU-only HPA, Pod
 * Security Standards, non-root read-only pods (the CronJob too), NetworkPolicies that select every
 * pod, probes, graceful shutdown and rollout settings.
 */
import { describe, expect, it } from 'vitest';
import { runtime, service } from '../../plan.js';
import { k8sNames } from '../names.js';
import { terminationGraceSeconds } from '../workload.js';
import {
  all,
  containersOf,
  envIds,
  find,
  isInference,
  one,
  podTemplates,
  selects,
  workload,
  workloadKind,
} from './support.js';

const envs = all.map((s) => [s.env.id, s] as const);

describe.each(envs)('%s', (_id, s) => {
  const stage = s.env.stage;

  it('autoscales on CPU only, with a 50-70% target, fast up and stabilized down', () => {
    const hpa = one(s, 'HorizontalPodAutoscaler') as any;
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: workloadKind(s) === 'Rollout' ? 'argoproj.io/v1alpha1' : 'apps/v1',
      kind: workloadKind(s),
      name: service.service,
    });
    expect(hpa.spec.metrics).toHaveLength(1);
    expect(hpa.spec.metrics[0].type).toBe('Resource');
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    expect(hpa.spec.metrics[0].resource.target.type).toBe('Utilization');
    const target = hpa.spec.metrics[0].resource.target.averageUtilization;
    expect(target).toBeGreaterThanOrEqual(50);
    expect(target).toBeLessThanOrEqual(70);
    expect(target).toBe(s.env.plan.cpuTarget);
    expect(hpa.spec.minReplicas).toBe(s.env.plan.minReplicas);
    expect(hpa.spec.maxReplicas).toBe(s.env.plan.maxReplicas);
    if (stage !== 'dev') expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.behavior.scaleUp.stabilizationWindowSeconds).toBe(0);
    expect(hpa.spec.behavior.scaleDown.stabilizationWindowSeconds).toBeGreaterThanOrEqual(300);
    // The HPA owns the replica count: an apply must not reset it.
    expect((workload(s) as any).spec.replicas).toBeUndefined();
  });

  it('labels the namespace with the Pod Security Standards of its stage', () => {
    const labels = one(s, 'Namespace').metadata.labels!;
    expect(labels['pod-security.kubernetes.io/enforce']).toBe(
      stage === 'prod' ? 'restricted' : 'baseline',
    );
    expect(labels['pod-security.kubernetes.io/warn']).toBe('restricted');
    expect(labels['pod-security.kubernetes.io/audit']).toBe('restricted');
  });

  it('runs every container non-root, read-only, without privileges (restricted profile), CronJob included', () => {
    const pods = podTemplates(s);
    // The drift job exists only for a model with a drift baseline.
    const owners = [`${workloadKind(s)}/${service.service}`];
    if (s.env.drift.enabled) owners.push(`CronJob/${k8sNames.driftCronJob}`);
    expect(pods.map((p) => p.owner).sort()).toEqual(owners.sort());
    for (const { owner, spec } of pods) {
      expect(spec.securityContext?.runAsNonRoot, owner).toBe(true);
      expect(spec.securityContext?.runAsUser, owner).toBe(10001);
      expect(spec.securityContext?.seccompProfile?.type, owner).toBe('RuntimeDefault');
      expect(spec.automountServiceAccountToken, owner).toBe(false);
      expect(spec.serviceAccountName, owner).toBe(
        owner.startsWith('CronJob/') ? service.driftServiceAccount : service.serviceAccount,
      );
      expect(spec.hostNetwork ?? false, owner).toBe(false);
      expect(spec.hostPID ?? false, owner).toBe(false);
      expect(spec.hostIPC ?? false, owner).toBe(false);
      // Scratch space and configuration this app writes: no host path, no PVC, and one Secret
      // only, the API key hashes, which the manifests never hold (created out of band).
      for (const v of spec.volumes ?? []) {
        const sources = Object.keys(v).filter((k) => k !== 'name');
        expect(sources.length, `${owner} volume ${v.name}`).toBe(1);
        if (v.secret) {
          expect(v.name, owner).toBe('api-keys');
          expect(v.secret.secretName, owner).toBe(k8sNames.apiKeysSecret);
          expect(find(s, 'Secret'), owner).toEqual([]);
          continue;
        }
        expect(['emptyDir', 'configMap'], `${owner} volume ${v.name}`).toContain(sources[0]);
        if (v.configMap) {
          expect(find(s, 'ConfigMap', v.configMap.name), `${owner} volume ${v.name}`).toHaveLength(
            1,
          );
        }
      }
      for (const c of containersOf(spec)) {
        const where = `${owner} container ${c.name}`;
        const sc = c.securityContext ?? {};
        expect(sc.runAsNonRoot, where).toBe(true);
        expect(sc.runAsUser, where).toBe(10001);
        expect(sc.readOnlyRootFilesystem, where).toBe(true);
        expect(sc.allowPrivilegeEscalation, where).toBe(false);
        expect(sc.privileged ?? false, where).toBe(false);
        expect(sc.capabilities?.drop, where).toEqual(['ALL']);
        expect(sc.capabilities?.add ?? [], where).toEqual([]);
        expect(sc.seccompProfile?.type, where).toBe('RuntimeDefault');
        for (const p of c.ports ?? []) expect(p.hostPort, where).toBeUndefined();
        // Request = limit: a guaranteed CPU share, no surprise OOM from overcommit.
        expect(c.resources?.requests, where).toEqual(c.resources?.limits);
        expect(c.resources?.limits?.cpu, where).toBeDefined();
        expect(c.resources?.limits?.memory, where).toBeDefined();
        // A read-only root needs a writable /tmp.
        expect(
          c.volumeMounts?.some((m) => m.mountPath === '/tmp'),
          where,
        ).toBe(true);
      }
    }
  });

  it('runs one server container with the runtime contract: port, model path, pool size from the CPU limit', () => {
    const spec = (workload(s) as any).spec.template.spec;
    expect(spec.containers).toHaveLength(1);
    const c = spec.containers[0];
    expect(c.command).toBeUndefined();
    expect(c.ports).toEqual([
      { name: 'http', containerPort: runtime.port, protocol: 'TCP' },
      { name: 'metrics', containerPort: runtime.metricsPort, protocol: 'TCP' },
      { name: 'grpc', containerPort: runtime.grpcPort, protocol: 'TCP' },
    ]);
    const env = Object.fromEntries(
      c.env.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    expect(env.PORT).toBe(String(runtime.port));
    expect(env.GRPC_PORT).toBe(String(runtime.grpcPort));
    expect(env.MODEL_PATH).toBe('/models/model.onnx');
    expect(env.WORKERS).toBe(String(runtime.poolSize));
    expect(Number(env.WORKERS)).toBe(Math.max(1, Math.floor(runtime.cpuMillis / 1000)));
    expect(env.PREDICTION_LOG_PATH).toMatch(/^\/tmp\//);
    expect(c.resources.limits).toEqual({ cpu: `${runtime.cpuMillis}m`, memory: runtime.memory });
    const mounts = Object.fromEntries(c.volumeMounts.map((m: any) => [m.mountPath, m]));
    expect(mounts['/models'].readOnly).toBe(true);
    expect(spec.volumes.map((v: any) => v.name).sort()).toEqual([
      ...(s.env.auth.mode.includes('api-key') ? ['api-keys'] : []),
      'log-shipper',
      'log-shipper-config',
      'model',
      'tmp',
    ]);
  });

  it('probes startup, readiness and liveness on distinct paths and timings that tolerate the model load', () => {
    const c = (workload(s) as any).spec.template.spec.containers[0];
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/healthz');
    // Startup through the gRPC health service: SERVING exactly when /readyz is 200.
    expect(c.startupProbe.grpc).toEqual({
      port: runtime.grpcPort,
      service: 'inference.GRPCInferenceService',
    });
    const budget = (p: any) => p.periodSeconds * p.failureThreshold;
    expect(budget(c.startupProbe)).toBeGreaterThanOrEqual(120);
    expect(budget(c.startupProbe)).toBeGreaterThan(budget(c.livenessProbe));
    expect(c.livenessProbe.periodSeconds).not.toBe(c.readinessProbe.periodSeconds);
    expect(budget(c.livenessProbe)).toBeGreaterThan(budget(c.readinessProbe));
  });

  it('drains before it is killed: preStop pause, then a grace period longer than the drain', () => {
    const spec = (workload(s) as any).spec.template.spec;
    const c = spec.containers[0];
    const drainMs = Number(c.env.find((e: any) => e.name === 'SHUTDOWN_TIMEOUT_MS').value);
    const preStop = c.lifecycle.preStop.sleep.seconds;
    expect(preStop).toBeGreaterThan(0);
    expect(spec.terminationGracePeriodSeconds).toBe(terminationGraceSeconds(s.env));
    // The server exits 1 s past SHUTDOWN_TIMEOUT_MS at the latest (its last resort), then the
    // log shipper uploads what is left: the kubelet must not kill either first.
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(preStop + drainMs / 1000 + 1);
  });

  it('rolls out without losing capacity and spreads across zones and nodes', () => {
    const d = workload(s) as any;
    // A Deployment's rolling update, or a Rollout's canary (rollout.ts): never below capacity.
    expect((d.spec.strategy.rollingUpdate ?? d.spec.strategy.canary).maxUnavailable).toBe(0);
    const keys = d.spec.template.spec.topologySpreadConstraints
      .map((t: any) => t.topologyKey)
      .sort();
    expect(keys).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    const pdb = one(s, 'PodDisruptionBudget') as any;
    expect(selects(pdb.spec.selector, d.spec.template.metadata.labels)).toBe(true);
    expect(pdb.spec.maxUnavailable).toBe(1);
  });

  it('routes the Service to the inference pods only', () => {
    const svc = one(s, 'Service') as any;
    for (const p of podTemplates(s)) {
      expect(selects({ matchLabels: svc.spec.selector }, p.labels), p.owner).toBe(
        isInference(p.owner),
      );
    }
    expect(svc.spec.ports[0].targetPort).toBe('http');
  });

  it('denies all traffic by default and selects every pod with an allow policy', () => {
    const policies = find(s, 'NetworkPolicy') as any[];
    const denyAll = policies.filter((p) => Object.keys(p.spec.podSelector).length === 0);
    expect(denyAll).toHaveLength(1);
    expect(denyAll[0].spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    expect(denyAll[0].spec.ingress ?? []).toEqual([]);
    expect(denyAll[0].spec.egress ?? []).toEqual([]);
    const allows = policies.filter((p) => p !== denyAll[0]);
    for (const pod of podTemplates(s)) {
      const mine = allows.filter((p) => selects(p.spec.podSelector, pod.labels));
      expect(mine.length, `${pod.owner} has an allow policy`).toBeGreaterThan(0);
      const egress = mine.flatMap((p) => p.spec.egress ?? []);
      const ports = egress.flatMap((r: any) =>
        (r.ports ?? []).map((x: any) => `${x.protocol}/${x.port}`),
      );
      expect(ports, `${pod.owner} reaches DNS`).toEqual(
        expect.arrayContaining(['UDP/53', 'TCP/53']),
      );
      expect(ports, `${pod.owner} reaches the object store`).toContain('TCP/443');
      const store = egress.find((r: any) => r.ports?.some((x: any) => x.port === 443));
      for (const peer of store.to) {
        for (const range of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16']) {
          if (peer.ipBlock.cidr === '0.0.0.0/0')
            expect(peer.ipBlock.except, 'no private ranges on 443').toContain(range);
        }
      }
      if (s.env.cloud === 'gcp') {
        expect(ports, `${pod.owner} reaches the GKE metadata server`).toEqual(
          expect.arrayContaining(['TCP/80', 'TCP/988']),
        );
      }
    }
    const inference = allows.filter((p) =>
      selects(p.spec.podSelector, podTemplates(s).find((x) => isInference(x.owner))!.labels),
    );
    const from = inference.flatMap((p) => p.spec.ingress ?? []).flatMap((r: any) => r.from);
    const namespaces = from.map(
      (f: any) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'],
    );
    expect(namespaces).toEqual(
      expect.arrayContaining([
        ...s.env.network.ingressNamespaces,
        s.env.network.prometheusNamespace,
      ]),
    );
    const driftPod = podTemplates(s).find((x) => x.owner.startsWith('CronJob/'));
    if (!driftPod) return;
    const drift = allows.filter((p) => selects(p.spec.podSelector, driftPod.labels));
    expect(
      drift.flatMap((p) => p.spec.ingress ?? []),
      'nothing calls the drift job',
    ).toEqual([]);
  });

  it.runIf(s.env.drift.enabled)(
    'runs the drift check daily, one at a time, failing without retries when it finds drift',
    () => {
      const cron = one(s, 'CronJob') as any;
      expect(cron.spec.schedule.split(/\s+/).slice(2)).toEqual(['*', '*', '*']);
      expect(cron.spec.concurrencyPolicy).toBe('Forbid');
      const job = cron.spec.jobTemplate.spec;
      expect(job.template.spec.restartPolicy).toBe('Never');
      expect(job.podFailurePolicy.rules[0]).toMatchObject({
        action: 'FailJob',
        onExitCodes: { operator: 'In', values: [1] },
      });
      expect(job.template.spec.containers[0].command.slice(0, 4)).toEqual([
        'node',
        'dist/src/cli/drift.js',
        '--log',
        '/data/predictions.jsonl',
      ]);
    },
  );

  it.skipIf(s.env.drift.enabled)(
    'renders no drift job, baseline, identity or policy for a model without a drift baseline',
    () => {
      expect(find(s, 'CronJob')).toEqual([]);
      expect(find(s, 'ServiceAccount', service.driftServiceAccount)).toEqual([]);
      expect(find(s, 'NetworkPolicy', k8sNames.driftPolicy)).toEqual([]);
      expect(find(s, 'ConfigMap', k8sNames.driftCronJob)).toEqual([]);
    },
  );

  it('ships the dashboard as a ConfigMap the Grafana sidecar picks up', () => {
    const cm = one(s, 'ConfigMap', k8sNames.dashboard) as any;
    expect(cm.metadata.labels.grafana_dashboard).toBe('1');
    const dashboard = JSON.parse(cm.data[`${service.service}.json`]);
    expect(dashboard.uid.length).toBeLessThanOrEqual(40);
    expect(dashboard.panels.length).toBeGreaterThan(5);
  });
});

it('checks every environment', () => {
  expect(envs.length).toBe(envIds.length);
});
