/**
 * Authentication and exposure in the manifests (README "Authentication and exposure"): prod
 * authenticates with API keys mounted from a Secret the manifests never hold, dev runs open;
 * `/metrics` is served on its own port, which the ServiceMonitor and the scrape annotations name;
 * and the server's memory settings fit the container's limit.
 */
import { describe, expect, it } from 'vitest';
import { model, runtime } from '../../plan.js';
import { synthesize } from '../app.js';
import { memoryBudgetMiB, memoryMiB, nominalMiB } from '../config.js';
import { projectHasChallenger } from '../challenger.js';
import { k8sNames } from '../names.js';
import { apiKeysFile, apiKeysMount } from '../workload.js';
import { all, find, one, workload } from './support.js';

const envs = all.map((s) => [s.env.id, s] as const);

const server = (s: (typeof all)[number]) => {
  const spec = (workload(s) as any).spec.template.spec;
  const c = spec.containers[0];
  const env = Object.fromEntries(
    c.env.map((e: { name: string; value: string }) => [e.name, e.value]),
  ) as Record<string, string | undefined>;
  return { spec, c, env };
};

describe.each(envs)('%s', (id, s) => {
  const stage = s.env.stage;

  it.runIf(stage === 'prod')(
    'authenticates with API keys read from the Secret named in the plan, mounted read-only',
    () => {
      const { spec, c, env } = server(s);
      expect(env.AUTH_MODE).toBe('api-key');
      expect(env.API_KEYS_FILE).toBe(apiKeysFile);
      expect(apiKeysFile.startsWith(`${apiKeysMount}/`)).toBe(true);
      const mount = c.volumeMounts.find((m: any) => m.name === 'api-keys');
      expect(mount).toEqual({ name: 'api-keys', mountPath: apiKeysMount, readOnly: true });
      const volume = spec.volumes.find((v: any) => v.name === 'api-keys');
      expect(volume.secret).toMatchObject({ secretName: k8sNames.apiKeysSecret, optional: false });
      // The Secret is created out of band (README): never in the manifests (MLOPS-024).
      expect(find(s, 'Secret')).toEqual([]);
    },
  );

  it.runIf(stage === 'dev')('runs open in dev, without a key volume', () => {
    const { spec, env } = server(s);
    expect(env.AUTH_MODE).toBe('none');
    expect(env.API_KEYS_FILE).toBeUndefined();
    expect(spec.volumes.some((v: any) => v.secret)).toBe(false);
  });

  it.runIf(stage === 'prod')('refuses a prod environment that would run open', () => {
    expect(() => synthesize(id, { auth: { mode: 'none' } })).toThrow(
      /prod must authenticate its callers/,
    );
  });

  it('takes JWTs when the environment says so, and refuses jwt without its issuer', () => {
    const jwt = {
      jwksUrl: 'https://login.example.com/.well-known/jwks.json',
      issuer: 'https://login.example.com/',
      audience: 'churn',
    };
    const { env } = server(synthesize(id, { auth: { mode: 'jwt', jwt } }) as never);
    expect(env).toMatchObject({
      AUTH_MODE: 'jwt',
      JWT_JWKS_URL: jwt.jwksUrl,
      JWT_ISSUER: jwt.issuer,
      JWT_AUDIENCE: jwt.audience,
    });
    expect(env.API_KEYS_FILE).toBeUndefined();
    expect(() => synthesize(id, { auth: { mode: 'jwt' } })).toThrow(/needs auth.jwt/);
  });

  it('serves /metrics on METRICS_PORT, where the Service, ServiceMonitor and annotations point', () => {
    const { c, env } = server(s);
    expect(env.METRICS_PORT).toBe(String(runtime.metricsPort));
    expect(env.METRICS_PORT).not.toBe(env.PORT);
    expect(c.ports).toContainEqual({
      name: 'metrics',
      containerPort: runtime.metricsPort,
      protocol: 'TCP',
    });
    const svc = one(s, 'Service') as any;
    expect(svc.spec.ports).toContainEqual(
      expect.objectContaining({ name: 'grpc', port: runtime.grpcPort, targetPort: 'grpc' }),
    );
    expect(svc.spec.ports).toContainEqual(
      expect.objectContaining({ name: 'metrics', targetPort: 'metrics' }),
    );
    const monitor = one(s, 'ServiceMonitor') as any;
    expect(monitor.spec.endpoints.map((e: any) => e.port)).toEqual(['metrics']);
    const annotations = (workload(s) as any).spec.template.metadata.annotations;
    expect(annotations['prometheus.io/port']).toBe(String(runtime.metricsPort));
    // The probes stay on the http port: they need no credential there.
    expect(c.readinessProbe.httpGet.port).toBe('http');
  });

  it('gives the server memory settings that fit the container limit', () => {
    const { env, c } = server(s);
    const limit = memoryMiB(c.resources.limits.memory);
    const explainHeap = Number(env.EXPLAIN_MAX_HEAP_MB);
    const logBuffer = Number(env.PREDICTION_LOG_BUFFER_BYTES) / 1024 / 1024;
    const workers = Number(env.WORKERS);
    expect(explainHeap).toBe(s.env.memory.explainHeapMiB);
    expect(explainHeap).toBeGreaterThanOrEqual(16);
    expect(explainHeap).toBeLessThanOrEqual(limit / 4);
    // Explanation heap + the log buffer + the main thread and every worker thread (inference and
    // explanation), each at its nominal size and holding the model, inside the limit.
    const threads = workers + 1 + (projectHasChallenger() ? 1 : 0);
    const needed =
      explainHeap +
      logBuffer +
      nominalMiB.process +
      threads * (nominalMiB.worker + Math.ceil(model.bytes / 2 ** 20));
    expect(needed).toBe(memoryBudgetMiB(s.env));
    expect(needed).toBeLessThanOrEqual(limit);
    expect(() => synthesize(id, { memory: { explainHeapMiB: limit } })).toThrow(
      /raise memory .* or lower memory.explainHeapMiB/,
    );
  });

  it('gives the model volume room for the model and a challenger of its size', () => {
    const volume = (workload(s) as any).spec.template.spec.volumes.find(
      (v: any) => v.name === 'model',
    );
    const modelMiB = Math.ceil(model.bytes / 2 ** 20);
    expect(memoryMiB(volume.emptyDir.sizeLimit)).toBeGreaterThanOrEqual(
      Math.max(2048, 2 * modelMiB),
    );
    const tooSmall = `${Math.max(1, Math.floor(modelMiB / 2))}Mi`;
    expect(() => synthesize(id, { storage: { modelSizeLimit: tooSmall } })).toThrow(
      /storage.modelSizeLimit .* cannot hold the \d+ MiB model and a challenger of its size/,
    );
  });
});
