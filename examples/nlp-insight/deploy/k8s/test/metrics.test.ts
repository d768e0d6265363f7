/**
 * The dashboard and the alerts query only metrics the service really exports, with labels those
 * metrics really have. The definitions are read from the service itself (`src/metrics.ts`); a
 * renamed metric or label on either side fails here.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { model, service } from '../../plan.js';
import { alertGroups } from '../alerts.js';
import { dashboard } from '../dashboard.js';
import { kubeStateMetrics, serviceMetrics } from '../metrics.js';
import { canaryHashLabel } from '../rollout.js';
import { all, canary, one } from './support.js';
import { readQuery } from './promql.js';

interface Definition {
  readonly type: string;
  readonly labels: readonly string[];
}

const root = fileURLToPath(new URL('../../../', import.meta.url));
const metricsModule = `${root}src/metrics.ts`;
const prefix = service.metricPrefix.replace(/_?$/, '_');

/** Every exported string (at any depth of plain objects) that names one of the service's metrics. */
function exportedNames(value: unknown, out = new Set<string>(), depth = 0): Set<string> {
  if (typeof value === 'string' && value.startsWith(prefix) && /^[a-z_:][a-z0-9_:]*$/.test(value))
    out.add(value);
  else if (
    value &&
    typeof value === 'object' &&
    depth < 3 &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    for (const v of Object.values(value)) exportedNames(v, out, depth + 1);
  }
  return out;
}

/**
 * The service's metric definitions. `src/metrics.ts` exports the names; building its metrics
 * (`createMetrics`) gives each metric's type and label names as prom-client holds them.
 */
async function serviceDefinitions(): Promise<Map<string, Definition | undefined>> {
  if (!existsSync(metricsModule)) {
    throw new Error(
      'src/metrics.ts is missing: the service must define its metrics there (see its runtime contract)',
    );
  }
  const mod = (await import(pathToFileURL(metricsModule).href)) as Record<string, unknown>;
  const names = new Set<string>();
  for (const v of Object.values(mod)) exportedNames(v, names);
  const defs = new Map<string, Definition | undefined>([...names].map((n) => [n, undefined]));
  if (typeof mod.createMetrics === 'function') {
    const { contract } = (await import(pathToFileURL(`${root}src/model/contract.ts`).href)) as {
      contract: { sha256?: string };
    };
    let built: { registry?: { getMetricsAsArray(): unknown[] } };
    try {
      built = (
        mod.createMetrics as (
          c: unknown,
          sha: string,
        ) => { registry?: { getMetricsAsArray(): unknown[] } }
      )(contract, contract.sha256 ?? '0');
    } catch (e) {
      throw new Error(
        `src/metrics.ts: createMetrics(contract, sha256) failed (${(e as Error).message}); ` +
          'this test builds the metrics to read their types and label names',
        { cause: e },
      );
    }
    for (const m of built.registry?.getMetricsAsArray() ?? []) {
      const metric = m as { name: string; type?: string; labelNames?: string[] };
      if (metric.name.startsWith(prefix)) {
        defs.set(metric.name, { type: metric.type ?? 'unknown', labels: metric.labelNames ?? [] });
      }
    }
  }
  return defs;
}

/** Labels Prometheus adds to every scraped series (target labels), plus the histogram bucket label. */
const targetLabels = new Set([
  'namespace',
  'pod',
  'job',
  'instance',
  'service',
  'container',
  'endpoint',
]);

let defs: Map<string, Definition | undefined>;
beforeAll(async () => {
  defs = await serviceDefinitions();
});

/**
 * Every PromQL expression of the dashboard, the alerts and the canary analysis (rollout.ts), of
 * every environment. The analysis may also match the label the ServiceMonitor's relabeling adds
 * (`rollouts_pod_template_hash`, see test/rollouts.test.ts), and nothing else.
 */
function queries(): Array<{ where: string; expr: string; extra?: string[] }> {
  const out: Array<{ where: string; expr: string; extra?: string[] }> = [];
  for (const s of canary) {
    const template = one(s, 'AnalysisTemplate') as unknown as {
      spec: { metrics: Array<{ name: string; provider: { prometheus: { query: string } } }> };
    };
    for (const metric of template.spec.metrics) {
      out.push({
        where: `${s.env.id} canary analysis "${metric.name}"`,
        // Argo Rollouts fills in the arguments; a label value only.
        expr: metric.provider.prometheus.query,
        extra: [canaryHashLabel],
      });
    }
  }
  for (const s of all) {
    for (const panel of dashboard(s.env).panels) {
      for (const t of panel.targets ?? [])
        out.push({ where: `${s.env.id} dashboard "${panel.title}"`, expr: t.expr });
    }
    for (const group of alertGroups(s.env)) {
      for (const rule of group.rules ?? [])
        out.push({ where: `${s.env.id} alert ${rule.alert}`, expr: String(rule.expr) });
    }
  }
  return out;
}

/** `x_bucket` of a histogram `x` -> `x`; counters and gauges are their own base. */
function base(series: string): { name: string; suffix: string } {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (series.endsWith(suffix) && defs.has(series.slice(0, -suffix.length))) {
      return { name: series.slice(0, -suffix.length), suffix };
    }
  }
  return { name: series, suffix: '' };
}

describe('metrics the dashboard and alerts use', () => {
  it('are read from the service', () => {
    expect(defs.size).toBeGreaterThan(5);
    for (const name of Object.values(serviceMetrics))
      expect([...defs.keys()], name).toContain(name);
  });

  it('exist in the service (or in kube-state-metrics), with the right type', () => {
    const external = new Set<string>(Object.values(kubeStateMetrics));
    const unknown: string[] = [];
    for (const { where, expr } of queries()) {
      for (const series of readQuery(expr).series) {
        if (external.has(series)) continue;
        const { name, suffix } = base(series);
        const def = defs.get(name);
        if (!defs.has(name)) unknown.push(`${where}: ${series}`);
        else if (def && suffix === '_bucket' && def.type !== 'histogram')
          unknown.push(`${where}: ${series} but ${name} is a ${def.type}`);
        else if (def && def.type === 'histogram' && suffix === '')
          unknown.push(`${where}: ${series} is a histogram, use _bucket/_sum/_count`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('are matched and grouped only by labels they have', () => {
    const bad: string[] = [];
    for (const { where, expr, extra = [] } of queries()) {
      const q = readQuery(expr);
      const used = q.series.map(base).filter((b) => defs.get(b.name));
      const labelsOf = (series: string) => {
        const b = base(series);
        const def = defs.get(b.name);
        return def
          ? new Set([
              ...def.labels,
              ...targetLabels,
              ...extra,
              ...(b.suffix === '_bucket' ? ['le'] : []),
            ])
          : undefined;
      };
      for (const { series, label } of q.matchers) {
        const known = labelsOf(series);
        if (known && !known.has(label)) bad.push(`${where}: ${series} has no label ${label}`);
      }
      const available = new Set([
        ...targetLabels,
        ...used.flatMap((b) => [
          ...(defs.get(b.name)?.labels ?? []),
          ...(b.suffix === '_bucket' ? ['le'] : []),
        ]),
      ]);
      const external = q.series.some((x) => !defs.has(base(x).name));
      for (const label of q.grouping) {
        if (!external && !available.has(label))
          bad.push(`${where}: grouping by ${label}, which none of its metrics has`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('has label definitions to check against (the service builds its metrics with createMetrics)', () => {
    const withLabels = [...defs.values()].filter(Boolean);
    expect(
      withLabels.length,
      'no metric definitions with labels: cannot check label names',
    ).toBeGreaterThan(5);
  });
});

describe('the PromQL reader', () => {
  it('finds series, matchers and grouping labels', () => {
    const q = readQuery(
      'histogram_quantile(0.99, sum by (namespace, le) (rate(a_bucket{namespace="x",route!~"/a|/b"}[5m]))) > 0.5 and on(namespace) b_total or absent(c{d="e"})',
    );
    expect(q.series.sort()).toEqual(['a_bucket', 'b_total', 'c']);
    expect(q.matchers).toEqual([
      { series: 'a_bucket', label: 'namespace' },
      { series: 'a_bucket', label: 'route' },
      { series: 'c', label: 'd' },
    ]);
    expect(q.grouping.sort()).toEqual(['le', 'namespace', 'namespace']);
  });

  it('reads the canary analysis too, with the series the service exports', () => {
    const analysis = queries().filter((q) => q.where.includes('canary analysis'));
    expect(analysis.length).toBeGreaterThanOrEqual(2 * canary.length);
    const series = new Set(analysis.flatMap((q) => readQuery(q.expr).series));
    expect(series).toContain(`${serviceMetrics.requests}`);
    expect(series).toContain(`${serviceMetrics.requestDuration}_bucket`);
    if ((model.task as string) !== 'tensor')
      expect(series).toContain(serviceMetrics.qualityFloorBreached);
  });

  it('would catch a renamed metric or label', () => {
    expect(defs.has(`${prefix}request_total`)).toBe(false);
    const q = readQuery(`sum by (path) (rate(${serviceMetrics.requests}{statuscode="500"}[5m]))`);
    expect(q.grouping).toEqual(['path']);
    expect(q.matchers[0]!.label).toBe('statuscode');
  });
});
