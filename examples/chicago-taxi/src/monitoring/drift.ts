/**
 * Input drift: the population stability index (PSI) of each feature over the recent predictions
 * against the training baseline shipped with the model (`drift_baseline.json`).
 *
 * Bins are the baseline's: 10 training-quantile bins for numbers (bin i holds edge[i-1] < x <=
 * edge[i], like pandas.cut), the training categories (+ "other") for categories, length bins for
 * text. PSI = sum((actual - expected) * ln(actual / expected)), shares floored at 1e-4.
 * PSI < 0.1: ok, 0.1 to 0.25: warn, >= 0.25: alert.
 */
import type { Feature, ModelContract } from '../model/contract-types.js';
import type { DriftBaseline, FeatureBaseline } from '../model/artifacts.js';

export const psiThresholds = { warn: 0.1, alert: 0.25 } as const;
export type DriftStatus = 'ok' | 'warn' | 'alert';
const epsilon = 1e-4;

export function psi(expected: readonly number[], actual: readonly number[]): number {
  let total = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i]!, epsilon);
    const a = Math.max(actual[i] ?? 0, epsilon);
    total += (a - e) * Math.log(a / e);
  }
  return total;
}

export function statusOf(value: number): DriftStatus {
  if (value >= psiThresholds.alert) return 'alert';
  if (value >= psiThresholds.warn) return 'warn';
  return 'ok';
}

/** Bin of x among ascending cut points: the number of edges strictly below x. */
export function binOf(edges: readonly number[], x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

interface Tracker {
  readonly name: string;
  readonly kind: FeatureBaseline['kind'];
  readonly bins: readonly string[];
  readonly expected: readonly number[];
  /** Bin of a value, or -1 when there is nothing to count (null). */
  readonly bin: (value: unknown) => number;
  readonly counts: Float64Array;
  readonly ring: Uint16Array | null;
}

export interface FeatureDrift {
  readonly name: string;
  readonly kind: FeatureBaseline['kind'];
  readonly psi: number | null;
  readonly status: DriftStatus | 'insufficient_data';
  readonly count: number;
  readonly bins: readonly string[];
  readonly expected: readonly number[];
  readonly actual: readonly number[];
}

export interface DriftReport {
  readonly status: DriftStatus | 'insufficient_data';
  readonly sampleSize: number;
  readonly window: number | null;
  readonly minSamples: number;
  readonly thresholds: typeof psiThresholds;
  readonly baselineSampleSize: number;
  readonly features: readonly FeatureDrift[];
}

function tracker(feature: Feature, baseline: FeatureBaseline, capacity: number | null): Tracker {
  const ring = capacity === null ? null : new Uint16Array(capacity);
  const edgeBins = (edges: readonly number[]) =>
    edges
      .map((e, i) => (i === 0 ? `<= ${e}` : `(${edges[i - 1]}, ${e}]`))
      .concat(`> ${edges[edges.length - 1]}`);
  const check = (expected: readonly number[], bins: readonly string[]) => {
    if (expected.length !== bins.length) {
      throw new Error(
        `drift baseline of "${feature.name}": ${expected.length} proportions for ${bins.length} bins`,
      );
    }
  };
  switch (baseline.kind) {
    case 'numeric': {
      const bins = edgeBins(baseline.edges);
      check(baseline.proportions, bins);
      const edges = baseline.edges;
      return {
        name: feature.name,
        kind: 'numeric',
        bins,
        expected: baseline.proportions,
        bin: (v) => (typeof v === 'number' && Number.isFinite(v) ? binOf(edges, v) : -1),
        counts: new Float64Array(bins.length),
        ring,
      };
    }
    case 'text': {
      const bins = edgeBins(baseline.lengthEdges).map((b) => `length ${b}`);
      check(baseline.proportions, bins);
      const edges = baseline.lengthEdges;
      return {
        name: feature.name,
        kind: 'text',
        bins,
        expected: baseline.proportions,
        bin: (v) => (typeof v === 'string' ? binOf(edges, codePoints(v)) : -1),
        counts: new Float64Array(bins.length),
        ring,
      };
    }
    case 'categorical': {
      const categories = Object.keys(baseline.frequencies).sort();
      const index = new Map(categories.map((c, i) => [c, i]));
      const known = categories.reduce((s, c) => s + baseline.frequencies[c]!, 0);
      const bins = [...categories, '(other)'];
      const expected = [...categories.map((c) => baseline.frequencies[c]!), Math.max(0, 1 - known)];
      const other = categories.length;
      return {
        name: feature.name,
        kind: 'categorical',
        bins,
        expected,
        bin: (v) => (v === null || v === undefined ? -1 : (index.get(String(v)) ?? other)),
        counts: new Float64Array(bins.length),
        ring,
      };
    }
  }
}

export class DriftMonitor {
  private readonly trackers: Tracker[];
  private position = 0;
  private size = 0;

  /** `capacity`: predictions in the sliding window (null: count everything, for batch checks). */
  constructor(
    contract: ModelContract,
    private readonly baseline: DriftBaseline,
    private readonly capacity: number | null,
    readonly minSamples = 100,
  ) {
    this.trackers = contract.features
      .filter((f) => baseline.features[f.name] !== undefined)
      .map((f) => tracker(f, baseline.features[f.name]!, capacity));
  }

  observe(row: Record<string, unknown>): void {
    const evict = this.capacity !== null && this.size === this.capacity;
    for (const t of this.trackers) {
      const bin = t.bin(row[t.name]);
      if (t.ring) {
        if (evict) {
          const old = t.ring[this.position]!;
          if (old > 0) t.counts[old - 1]! -= 1;
        }
        t.ring[this.position] = bin + 1;
      }
      if (bin >= 0) t.counts[bin]! += 1;
    }
    if (this.capacity !== null) {
      this.position = (this.position + 1) % this.capacity;
      if (!evict) this.size += 1;
    } else {
      this.size += 1;
    }
  }

  report(): DriftReport {
    const features = this.trackers.map((t): FeatureDrift => {
      const count = t.counts.reduce((s, c) => s + c, 0);
      const actual = Array.from(t.counts, (c) => (count > 0 ? c / count : 0));
      const value = count > 0 ? psi(t.expected, actual) : null;
      return {
        name: t.name,
        kind: t.kind,
        psi: value,
        status: value === null || count < this.minSamples ? 'insufficient_data' : statusOf(value),
        count,
        bins: t.bins,
        expected: t.expected,
        actual,
      };
    });
    const order: Record<string, number> = { ok: 0, warn: 1, alert: 2 };
    let status: DriftReport['status'] = this.size < this.minSamples ? 'insufficient_data' : 'ok';
    if (status !== 'insufficient_data') {
      for (const f of features) {
        if (f.status !== 'insufficient_data' && order[f.status]! > order[status]!)
          status = f.status;
      }
    }
    return {
      status,
      sampleSize: this.size,
      window: this.capacity,
      minSamples: this.minSamples,
      thresholds: psiThresholds,
      baselineSampleSize: this.baseline.sampleSize,
      features,
    };
  }
}
