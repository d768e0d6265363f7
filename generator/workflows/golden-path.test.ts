/**
 * The golden path's smoke test and the service must agree on the metric names and endpoints: this
 * reads the service's metric definitions (templates/src/metrics.ts), the runtime contract
 * (docs/service-contract.md), the service's routes, the smoke script (templates/scripts/ci/smoke.mjs)
 * and the golden-path step that runs it, and fails if they drift apart.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { packageRoot, templatesDir } from '../version.js';

const ciScripts = join(templatesDir, 'scripts/ci');
const read = (path: string) => readFile(path, 'utf8');

interface SmokeModule {
  metrics: Record<string, string>;
  endpoints: Record<string, string>;
  plans: Record<string, { valid: number; invalid: number; exact: boolean }>;
  sumMetric(text: string, name: string): { total: number; seen: boolean };
  predictionMetric(task: string): string;
  invalidRequests(
    features: unknown[],
    valid: Record<string, unknown>,
    count?: number,
  ): Array<{ name: string; body: string }>;
  agrees(golden: Record<string, unknown>, answer: Record<string, unknown>): boolean;
}
const smoke = (): Promise<SmokeModule> =>
  import(pathToFileURL(join(ciScripts, 'smoke.mjs')).href) as Promise<SmokeModule>;

/** `metricNames` of templates/src/metrics.ts: key -> name, read from the source. */
async function serviceMetricNames(): Promise<Record<string, string>> {
  const source = await read(join(templatesDir, 'src/metrics.ts'));
  const block = /export const metricNames = \{([\s\S]*?)\} as const;/.exec(source);
  if (!block)
    throw new Error('templates/src/metrics.ts no longer exports `metricNames = {...} as const`');
  const names = Object.fromEntries(
    [...block[1]!.matchAll(/(\w+):\s*'([a-z_:]+)'/g)].map((m) => [m[1]!, m[2]!]),
  );
  expect(Object.keys(names).length).toBeGreaterThan(5);
  return names;
}

/** The histograms of metrics.ts (their `_count` series count observations). */
async function histogramNames(names: Record<string, string>): Promise<Set<string>> {
  const source = await read(join(templatesDir, 'src/metrics.ts'));
  return new Set(
    [...source.matchAll(/new client\.Histogram\(\{\s*name: metricNames\.(\w+)/g)].map(
      (m) => names[m[1]!]!,
    ),
  );
}

describe('the golden-path smoke test and the service', () => {
  it('count predictions and validation errors under the same metric names', async () => {
    const names = await serviceMetricNames();
    const histograms = await histogramNames(names);
    const { metrics } = await smoke();
    expect(metrics.predictions).toBe(names.predictions);
    expect(metrics.validationErrors).toBe(names.validationErrors);
    expect(histograms.has(names.predictionValue!)).toBe(true);
    expect(metrics.predictionValueCount).toBe(`${names.predictionValue}_count`);
  });

  it('every mlservice_* name in the CI scripts is one the service defines (histogram series included)', async () => {
    const names = await serviceMetricNames();
    const histograms = await histogramNames(names);
    const defined = new Set(Object.values(names));
    for (const h of histograms)
      for (const suffix of ['_count', '_sum', '_bucket']) defined.add(`${h}${suffix}`);
    for (const file of (await readdir(ciScripts)).filter((f) => /\.(mjs|sh)$/.test(f))) {
      const text = await read(join(ciScripts, file));
      for (const m of text.matchAll(/mlservice_[a-z_]+/g))
        expect(defined, `${file}: ${m[0]}`).toContain(m[0]);
    }
  });

  it('the runtime contract (docs/service-contract.md) lists the metrics the smoke test asserts', async () => {
    const doc = await read(join(packageRoot, 'docs/service-contract.md'));
    const names = await serviceMetricNames();
    for (const key of ['predictions', 'predictionValue', 'validationErrors'])
      expect(doc).toContain(`\`${names[key]}\``);
  });

  it('the endpoints the smoke test calls are routes of the service', async () => {
    const { endpoints } = await smoke();
    const src = join(templatesDir, 'src');
    const sources = (
      await Promise.all(
        (await readdir(src, { recursive: true }))
          .filter((f) => String(f).endsWith('.ts'))
          .map((f) => read(join(src, String(f)))),
      )
    ).join('\n');
    for (const [key, path] of Object.entries(endpoints))
      expect(sources, `${key} ${path}`).toContain(`'${path}'`);
  });

  it('the golden path runs the smoke test in golden mode: 100 valid, 5 invalid, exact counts, NetworkPolicy check', async () => {
    const { plans } = await smoke();
    expect(plans.golden).toEqual({ valid: 100, invalid: 5, exact: true });
    const workflow = parseYaml(
      await read(join(templatesDir, '_github/workflows/[cloud-any]/golden-path.yml')),
    ) as {
      jobs: Record<string, { steps?: Array<{ run?: string }> }>;
    };
    const step = Object.values(workflow.jobs)
      .flatMap((j) => j.steps ?? [])
      .find((s) => s.run?.includes('scripts/ci/golden-path.mjs'));
    expect(step?.run).toBe('node scripts/ci/golden-path.mjs --env "$ENVIRONMENT" --image "$IMAGE"');
    const goldenPath = await read(join(ciScripts, 'golden-path.mjs'));
    expect(goldenPath).toMatch(/clusterSmoke\(\{[^}]*mode: 'golden'[^}]*denyCheck: true[^}]*\}\)/);
    // The pod it starts runs smoke.mjs in the mode it was given.
    const { smokeObjects } = (await import(
      pathToFileURL(join(ciScripts, 'cluster-smoke.mjs')).href
    )) as {
      smokeObjects: (
        env: object,
        options: object,
      ) => { pod: { spec: { containers: Array<{ command: string[] }> } } };
    };
    const env = {
      service: 'churn-api',
      namespace: 'churn',
      port: 8080,
      selectorLabels: { app: 'churn-api' },
      metricsUrls: [],
      modelSha256: 'ab',
    };
    const options = {
      image: 'img',
      mode: 'golden',
      goldenJson: '{}',
      runId: 'r1',
      denyCheck: true,
    };
    const command = smokeObjects(env, options).pod.spec.containers[0]!.command;
    expect(command.slice(0, 2)).toEqual(['node', '/smoke/smoke.mjs']);
    expect(command[command.indexOf('--mode') + 1]).toBe('golden');
  });
});

interface Step {
  name?: string;
  run?: string;
  uses?: string;
}
interface Job {
  if?: string;
  needs?: string | string[];
  outputs?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown> };
  'timeout-minutes'?: number;
  steps?: Step[];
}

async function goldenPathWorkflow(): Promise<{
  env: Record<string, string>;
  jobs: Record<string, Job>;
}> {
  return parseYaml(
    await read(join(templatesDir, '_github/workflows/[cloud-any]/golden-path.yml')),
  ) as { env: Record<string, string>; jobs: Record<string, Job> };
}

describe('the golden path with canary delivery (progressiveDelivery, ADR 0018)', () => {
  it('runs the canary job instead of the kind job when deploy/plan.ts has the answer on', async () => {
    const { jobs } = await goldenPathWorkflow();
    expect(jobs.environments!.outputs!.canary).toBe('${{ steps.plan.outputs.canary }}');
    const planStep = jobs.environments!.steps!.find((s) => s.run?.includes('plan.mjs ids'))!.run!;
    // The Plan writes the answer into deploy/plan.ts only when it is on.
    expect(planStep).toContain(`grep -q '"progressiveDelivery": true' deploy/plan.ts`);
    expect(planStep).toContain('echo "canary=true" >> "$GITHUB_OUTPUT"');
    expect(jobs.kind!.if).toBe("needs.environments.outputs.canary != 'true'");
    expect(jobs.canary!.if).toBe("needs.environments.outputs.canary == 'true'");
    expect(jobs.canary!.strategy!.matrix).toEqual(jobs.kind!.strategy!.matrix);
  });

  it('installs kube-prometheus-stack and the Argo Rollouts controller and plugin, pinned, before the golden path', async () => {
    const { env, jobs } = await goldenPathWorkflow();
    expect(env.ARGO_ROLLOUTS_VERSION).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(env.KUBE_PROMETHEUS_STACK_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    const steps = jobs.canary!.steps!;
    const at = (text: string) => steps.findIndex((s) => s.run?.includes(text));
    const golden = at('scripts/ci/golden-path.mjs');
    const stack = steps[at('helm install kube-prometheus-stack')]!.run!;
    expect(stack).toContain('--version "$KUBE_PROMETHEUS_STACK_VERSION"');
    const argo = steps[at('argo-rollouts/releases/download')]!.run!;
    expect(argo).toContain('releases/download/$ARGO_ROLLOUTS_VERSION');
    expect(argo).toContain('install.yaml');
    expect(argo).toContain('kubectl-argo-rollouts-linux-amd64');
    expect(argo).toContain('sha256sum argo-rollouts-install.yaml kubectl-argo-rollouts');
    expect(argo).toContain('kubectl -n argo-rollouts rollout status deployment/argo-rollouts');
    expect(at('helm install kube-prometheus-stack')).toBeLessThan(golden);
    expect(at('argo-rollouts/releases/download')).toBeLessThan(golden);
    // The same golden path (version A, its smoke test), then the canary proofs.
    expect(steps[golden]!.run).toBe(
      'node scripts/ci/golden-path.mjs --env "$ENVIRONMENT" --image "$IMAGE"',
    );
    const kindSteps = jobs.kind!.steps!.map((s) => s.uses ?? s.run);
    const canarySteps = steps.slice(0, golden + 1).map((s) => s.uses ?? s.run);
    expect(canarySteps.filter((s) => kindSteps.includes(s))).toEqual(kindSteps);
  });

  it('then proves a good version B promotes and a failing version C aborts, with B still serving', async () => {
    const { jobs } = await goldenPathWorkflow();
    const steps = jobs.canary!.steps!;
    const golden = steps.findIndex((s) => s.run?.includes('scripts/ci/golden-path.mjs'));
    const after = steps.slice(golden + 1);
    const [load, b, c, serves] = after.map((s) => s.run ?? '');
    expect(after).toHaveLength(4);
    // Traffic through the Service while the analyses run, by a pod the NetworkPolicies admit.
    expect(load).toContain('"golden-path/role": "canary-load"');
    expect(load).toContain('model/golden.json');
    expect(load).toContain('kubectl argo rollouts status "$SVC"');
    // B: a new pod template, promoted by its analyses.
    expect(b).toMatch(/kubectl patch rollout "\$SVC" .*--type merge/s);
    expect(b).toContain('kubectl argo rollouts status "$SVC" -n "$NS" --timeout');
    expect(b).toContain('test "$phase" = Healthy');
    expect(b).toContain('test "$stable" = "$current"');
    expect(b).toContain('grep -qx Successful');
    // C: a setting the service supports that fails every prediction (504 past its deadline).
    expect(c).toContain('"name":"REQUEST_TIMEOUT_MS","value":"1"');
    expect(c).toMatch(
      /if kubectl argo rollouts status "\$SVC" -n "\$NS" --timeout \S+; then\s+echo "::error::/,
    );
    expect(c).toContain('test "$phase" = Degraded');
    expect(c).toContain('test "$aborted" = true');
    expect(c).toContain('test "$stable" = "$STABLE_B"');
    expect(c).toContain('grep -qx Failed');
    expect(serves).toContain('process.exit(ok === 20 ? 0 : 1)');
    expect(jobs.canary!['timeout-minutes']).toBeLessThanOrEqual(90);
  });

  it('C fails the way the analysis reads: REQUEST_TIMEOUT_MS is a setting of the service, and 504 is a 5xx', async () => {
    const config = await read(join(templatesDir, 'src/config.ts'));
    expect(config).toMatch(/REQUEST_TIMEOUT_MS: \{ schema: int\(1,/);
    const rollout = await read(join(templatesDir, '[cloud-any]/deploy/k8s/rollout.ts'));
    expect(rollout).toContain('status=~"5.."');
  });
});

describe('smoke.mjs, unit by unit', () => {
  it('sums every series of a metric and nothing else', async () => {
    const { sumMetric } = await smoke();
    const text = [
      '# HELP mlservice_predictions_total Predictions made, by predicted class.',
      '# TYPE mlservice_predictions_total counter',
      'mlservice_predictions_total{class="stayed"} 70',
      'mlservice_predictions_total{class="left, \\"really\\""} 30',
      'mlservice_predictions_total_other 5',
      'mlservice_validation_errors_total{route="/predict"} 5',
      'mlservice_prediction_value_count 12',
    ].join('\n');
    expect(sumMetric(text, 'mlservice_predictions_total')).toEqual({ total: 100, seen: true });
    expect(sumMetric(text, 'mlservice_validation_errors_total').total).toBe(5);
    expect(sumMetric(text, 'mlservice_prediction_value_count').total).toBe(12);
    expect(sumMetric(text, 'mlservice_timeouts_total')).toEqual({ total: 0, seen: false });
  });

  it('counts regression predictions with the prediction histogram', async () => {
    const { predictionMetric } = await smoke();
    expect(predictionMetric('regression')).toBe('mlservice_prediction_value_count');
    for (const task of ['binary', 'multiclass', 'text-classification'])
      expect(predictionMetric(task)).toBe('mlservice_predictions_total');
  });

  it('builds 5 distinct invalid requests from the contract, for every kind of feature', async () => {
    const { invalidRequests } = await smoke();
    const tabular = [
      { name: 'age', type: 'number', tensorType: 'float32', min: 18, max: 100, nullable: false },
      {
        name: 'country',
        type: 'category',
        tensorType: 'string',
        categories: ['FR', 'DE'],
        nullable: true,
      },
    ];
    const text = [
      { name: 'text', type: 'text', tensorType: 'string', minLength: 1, maxLength: 50 },
    ];
    const unbounded = [{ name: 'x', type: 'number', tensorType: 'float64', nullable: false }];
    for (const [features, valid] of [
      [tabular, { age: 30, country: 'FR' }],
      [text, { text: 'fine' }],
      [unbounded, { x: 1 }],
    ] as const) {
      const bad = invalidRequests([...features], { ...valid });
      expect(bad).toHaveLength(5);
      expect(new Set(bad.map((b) => b.body)).size).toBe(5);
      expect(new Set(bad.map((b) => b.name)).size).toBe(5);
      expect(bad.at(-1)!.name).toBe('malformed JSON');
    }
    const names = invalidRequests(tabular, { age: 30, country: 'FR' }).map((b) => b.name);
    expect(names).toEqual([
      'unknown field',
      'missing age',
      'wrong type for age',
      'age above its maximum',
      'malformed JSON',
    ]);
    expect(JSON.parse(invalidRequests(text, { text: 'fine' })[3]!.body).text).toHaveLength(51);
  });

  it('checks predictions against the golden cases', async () => {
    const { agrees } = await smoke();
    expect(agrees({ label: 'left' }, { label: 'left' })).toBe(true);
    expect(agrees({ label: 'left' }, { label: 'stayed' })).toBe(false);
    expect(agrees({ prediction: 12.5 }, { prediction: 12.5001 })).toBe(true);
    expect(agrees({ prediction: 12.5 }, { prediction: 13 })).toBe(false);
  });
});
