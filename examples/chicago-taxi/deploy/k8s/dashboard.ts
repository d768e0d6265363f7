/**
 * The Grafana dashboard of the service, shipped as a ConfigMap that the Grafana sidecar loads
 * (label `grafana_dashboard: "1"`): traffic, latency percentiles, queue wait versus compute, batch
 * size, shed and timeout rates, the prediction distribution and drift PSI per feature. Every query
 * uses a metric the service exports (see `metrics.ts` and `test/metrics.test.ts`).
 */
import { model, service } from '../plan.js';
import type { K8sEnvironment } from './config.js';
import { nonTrafficRoutes, serviceMetrics as m } from './metrics.js';
import { k8sNames } from './names.js';

interface Target {
  readonly expr: string;
  readonly legendFormat: string;
}

export interface Panel {
  readonly id: number;
  readonly type: 'timeseries' | 'stat' | 'heatmap' | 'row';
  readonly title: string;
  readonly gridPos: { x: number; y: number; w: number; h: number };
  readonly datasource?: { type: 'prometheus'; uid: '${datasource}' };
  readonly targets?: ReadonlyArray<Target & { refId: string }>;
  readonly fieldConfig?: unknown;
  readonly options?: unknown;
  readonly description?: string;
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly [key: string]: unknown;
}

const rate = '$__rate_interval';
const ns = 'namespace="$namespace"';
const traffic = `${ns},route!~"${nonTrafficRoutes}"`;

const quantiles = (metric: string, selector: string, by = '') =>
  [0.5, 0.9, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le${by}) (rate(${metric}_bucket{${selector}}[${rate}])))`,
    legendFormat: `p${q * 100}${by ? ` {{${by.replace(/^, */, '')}}}` : ''}`,
  }));

/** Widened: the plan's literal task type would make the other branch look dead to TypeScript. */
const task: string = model.task;
const classification = task !== 'regression';

/** Panels laid out on Grafana's 24-column grid, row after row, with ids in order. */
class Layout {
  readonly panels: Panel[] = [];
  private id = 0;
  private y = 0;

  row(title: string): void {
    this.panels.push({
      id: ++this.id,
      type: 'row',
      title,
      gridPos: { x: 0, y: this.y++, w: 24, h: 1 },
    });
  }

  panel(
    x: number,
    w: number,
    title: string,
    unit: string,
    targets: Target[],
    extra: Partial<Pick<Panel, 'type' | 'description' | 'fieldConfig' | 'options'>> = {},
  ): void {
    this.panels.push({
      id: ++this.id,
      type: 'timeseries',
      title,
      gridPos: { x, y: this.y, w, h: 8 },
      datasource: { type: 'prometheus', uid: '${datasource}' },
      targets: targets.map((t, i) => ({ ...t, refId: String.fromCharCode(65 + i) })),
      fieldConfig: { defaults: { unit }, overrides: [] },
      ...extra,
    });
  }

  next(): void {
    this.y += 8;
  }
}

export function dashboard(env: K8sEnvironment): Dashboard {
  const l = new Layout();
  trafficRow(l);
  latencyRow(l);
  batchingRow(l);
  predictionsRow(l);
  driftRow(l, env);
  // A tensor model has no labels or values to compare with ground truth.
  if (task !== 'tensor') qualityRows(l);
  return envelope(env, l.panels);
}

/** Requests by route and status, the 5xx ratio, the model served. */
function trafficRow(l: Layout): void {
  l.row('Traffic');
  l.panel(0, 12, 'Requests per second by route and status', 'reqps', [
    {
      expr: `sum by (route, status) (rate(${m.requests}{${traffic}}[${rate}]))`,
      legendFormat: '{{route}} {{status}}',
    },
  ]);
  l.panel(12, 8, 'Error ratio (5xx)', 'percentunit', [
    {
      expr:
        `sum(rate(${m.requests}{${traffic},status=~"5.."}[${rate}]))` +
        ` / sum(rate(${m.requests}{${traffic}}[${rate}]))`,
      legendFormat: '5xx',
    },
  ]);
  l.panel(
    20,
    4,
    'Model',
    'none',
    [
      {
        expr: `max by (name, version) (${m.modelInfo}{${ns}})`,
        legendFormat: '{{name}} {{version}}',
      },
    ],
    { type: 'stat', options: { textMode: 'name', reduceOptions: { calcs: ['lastNotNull'] } } },
  );
  l.next();
}

/** Latency percentiles, and queue wait against compute. */
function latencyRow(l: Layout): void {
  l.row('Latency');
  l.panel(0, 12, 'Request latency percentiles', 's', quantiles(m.requestDuration, traffic));
  l.panel(
    12,
    12,
    'Queue wait versus inference (compute)',
    's',
    [
      ...quantiles(m.queueWait, ns).map((t) => ({ ...t, legendFormat: `queue ${t.legendFormat}` })),
      ...quantiles(m.inferenceDuration, ns).map((t) => ({
        ...t,
        legendFormat: `inference ${t.legendFormat}`,
      })),
    ],
    { description: 'Queue wait growing while inference stays flat means too few replicas.' },
  );
  l.next();
}

/** Batch sizes, queue depth and in-flight requests, shed and timeouts. */
function batchingRow(l: Layout): void {
  l.row('Batching and load');
  l.panel(0, 8, 'Batch size', 'none', [
    ...quantiles(m.batchSize, ns),
    {
      expr: `sum(rate(${m.batchSize}_sum{${ns}}[${rate}])) / sum(rate(${m.batchSize}_count{${ns}}[${rate}]))`,
      legendFormat: 'mean',
    },
  ]);
  l.panel(8, 8, 'Queue depth and in-flight requests', 'none', [
    { expr: `sum(${m.queueDepth}{${ns}})`, legendFormat: 'queued' },
    { expr: `sum(${m.inflight}{${ns}})`, legendFormat: 'in flight' },
  ]);
  l.panel(16, 8, 'Shed (503) and timeout (504) rates', 'reqps', [
    { expr: `sum by (reason) (rate(${m.shed}{${ns}}[${rate}]))`, legendFormat: 'shed {{reason}}' },
    { expr: `sum(rate(${m.timeouts}{${ns}}[${rate}]))`, legendFormat: 'timeouts' },
  ]);
  l.next();
}

/** What the model predicts, refused inputs, lost log lines, worker restarts. */
function predictionsRow(l: Layout): void {
  l.row('Predictions and inputs');
  if (classification) {
    l.panel(0, 12, 'Prediction distribution (share per class)', 'percentunit', [
      {
        expr:
          `sum by (class) (rate(${m.predictions}{${ns}}[${rate}]))` +
          ` / ignoring(class) group_left sum(rate(${m.predictions}{${ns}}[${rate}]))`,
        legendFormat: '{{class}}',
      },
    ]);
  } else {
    l.panel(
      0,
      12,
      'Prediction distribution',
      'none',
      [
        {
          expr: `sum by (le) (rate(${m.predictionValue}_bucket{${ns}}[${rate}]))`,
          legendFormat: '{{le}}',
        },
      ],
      { type: 'heatmap', options: { calculate: false, yAxis: { unit: 'none' } } },
    );
  }
  l.panel(12, 12, 'Input errors, log failures, worker restarts', 'none', [
    {
      expr: `sum by (route) (rate(${m.validationErrors}{${ns}}[${rate}]))`,
      legendFormat: '400 {{route}}',
    },
    { expr: `sum(rate(${m.predictionLogFailures}{${ns}}[${rate}]))`, legendFormat: 'log failures' },
    { expr: `sum(increase(${m.workerRestarts}{${ns}}[${rate}]))`, legendFormat: 'worker restarts' },
  ]);
  l.next();
}

/** PSI per feature against the alert threshold of the environment. */
function driftRow(l: Layout, env: K8sEnvironment): void {
  l.row('Drift');
  l.panel(
    0,
    24,
    `Drift PSI per feature (alert above ${env.monitoring.driftPsi})`,
    'none',
    [{ expr: `max by (feature) (${m.driftPsi}{${ns}})`, legendFormat: '{{feature}}' }],
    {
      fieldConfig: {
        defaults: {
          unit: 'none',
          thresholds: {
            mode: 'absolute',
            steps: [
              { color: 'green', value: null },
              { color: 'orange', value: 0.1 },
              { color: 'red', value: env.monitoring.driftPsi },
            ],
          },
          custom: { thresholdsStyle: { mode: 'line' } },
        },
        overrides: [],
      },
    },
  );
  l.next();
}

/** Live quality from the truth that comes back, and the challenger in shadow. */
function qualityRows(l: Layout): void {
  l.row('Live quality (ground truth from POST /feedback)');
  l.panel(0, 12, 'Live quality, overall (once enough truth has arrived)', 'none', [
    {
      expr: `max by (metric) (${m.qualityMetric}{${ns},slice="overall"})`,
      legendFormat: '{{metric}}',
    },
  ]);
  l.panel(12, 12, 'Feedback received, floors breached', 'none', [
    {
      expr: `sum by (outcome) (rate(${m.feedback}{${ns}}[${rate}]))`,
      legendFormat: 'feedback {{outcome}}',
    },
    {
      expr: `max by (metric) (${m.qualityFloorBreached}{${ns}})`,
      legendFormat: 'floor breached: {{metric}}',
    },
  ]);
  l.next();
  l.row('Challenger in shadow (model/challenger/, GET /monitoring/challenger)');
  l.panel(0, 12, 'Agreement with the champion', 'none', [
    { expr: `avg(${m.challengerAgreement}{${ns}})`, legendFormat: 'agreement' },
  ]);
  l.panel(12, 12, 'Shadow predictions, skipped', 'reqps', [
    {
      expr: `sum(rate(${m.challengerSamples}{${ns}}[${rate}]))`,
      legendFormat: 'made',
    },
    {
      expr: `sum by (reason) (rate(${m.challengerSkipped}{${ns}}[${rate}]))`,
      legendFormat: 'skipped {{reason}}',
    },
  ]);
  l.next();
}

/** The dashboard around its panels: variables (datasource, namespace), time range, refresh. */
function envelope(env: K8sEnvironment, panels: Panel[]): Dashboard {
  return {
    uid: k8sNames.dashboardUid,
    title: `${service.service} inference`,
    tags: ['mlops-service', service.service, model.name],
    timezone: 'utc',
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [
        {
          name: 'datasource',
          label: 'Prometheus',
          type: 'datasource',
          query: 'prometheus',
          current: {},
          hide: 0,
        },
        {
          name: 'namespace',
          label: 'Namespace',
          type: 'custom',
          query: env.namespace,
          current: { text: env.namespace, value: env.namespace },
          options: [{ text: env.namespace, value: env.namespace, selected: true }],
          hide: 0,
        },
      ],
    },
    annotations: { list: [] },
    panels,
  };
}
