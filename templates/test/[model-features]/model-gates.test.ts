/**
 * The release gates as pure functions: disparate impact over the groups of a protected attribute,
 * floors in the right direction for error metrics, the latency ratio of medians, the contract diff,
 * and the gates file's defaults and errors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contract } from '../src/model/contract.js';
import { fairnessGate, latencyGate, median, metricsGate } from '../src/release/checks.js';
import { contractDiff } from '../src/release/contract-diff.js';
import { GatesError, gatesSchema, readGates } from '../src/release/gates.js';

const dir = mkdtempSync(join(tmpdir(), 'gates-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const defaults = gatesSchema.parse({});

describe('fairness gate (disparate impact)', () => {
  const spec = { attribute: 'group', minRatio: 0.8, minGroupSize: 2 };
  const rows = (counts: Record<string, [number, number]>) => {
    const inputs: Array<Record<string, unknown>> = [];
    const served: Array<{ label: string }> = [];
    for (const [group, [favorable, total]] of Object.entries(counts))
      for (let i = 0; i < total; i++) {
        inputs.push({ group });
        served.push({ label: i < favorable ? 'yes' : 'no' });
      }
    return { inputs, served };
  };

  it('passes at the four-fifths rule and fails below it, naming the ratio and each group', () => {
    const fair = rows({ a: [8, 10], b: [7, 10] }); // 0.7 / 0.8 = 0.875
    const ok = fairnessGate(spec, fair.inputs, fair.served, 'yes');
    expect(ok.passed).toBe(true);
    expect(ok.summary).toBe('disparate impact on group: 0.875 >= 0.8');
    const unfair = rows({ a: [8, 10], b: [4, 10] }); // 0.5
    const bad = fairnessGate(spec, unfair.inputs, unfair.served, 'yes');
    expect(bad.passed).toBe(false);
    expect(bad.summary).toBe('disparate impact on group: 0.5 < 0.8');
    expect(bad.details).toContain('group=b: 4/10 "yes" (0.4)');
  });

  it('does not compare groups below minGroupSize, and fails when fewer than two are left', () => {
    const few = rows({ a: [8, 10], b: [0, 1] });
    const r = fairnessGate(spec, few.inputs, few.served, 'yes');
    expect(r.passed).toBe(false);
    expect(r.summary).toMatch(/fewer than two groups/);
    expect(r.details).toContain('group=b: 0/1 "yes" (0), too few to compare');
  });

  it('is skipped, and says so, when no attribute is declared', () => {
    expect(fairnessGate(null, [], [], 'yes')).toMatchObject({
      passed: true,
      skipped: expect.any(String),
    });
  });
});

describe('metrics gate', () => {
  it('a higher-is-better metric may drop by the tolerance; an error metric may rise by it', () => {
    const current = { roc_auc: 0.9, brier: 0.1 };
    const ok = metricsGate(current, { roc_auc: 0.86, brier: 0.104 }, 'binary', defaults.metrics);
    expect(ok.passed, ok.details.join('\n')).toBe(true);
    const bad = metricsGate(current, { roc_auc: 0.85, brier: 0.2 }, 'binary', defaults.metrics);
    expect(bad.passed).toBe(false);
    expect(bad.details.filter((d) => d.includes('breaches')).map((d) => d.split(':')[0])).toEqual([
      'roc_auc',
      'brier',
    ]);
  });

  it('an absolute floor of the gates file applies too; a missing metric fails', () => {
    const gates = { tolerance: 0.05, floors: { roc_auc: 0.95 } };
    expect(metricsGate(null, { roc_auc: 0.9 }, 'binary', gates).passed).toBe(false);
    expect(metricsGate({ roc_auc: 0.9 }, {}, 'binary', defaults.metrics).passed).toBe(false);
  });
});

describe('latency gate', () => {
  it('compares medians, so one slow request does not decide', () => {
    expect(median([1, 100, 2])).toBe(2);
    expect(
      latencyGate([10, 10, 10], [12, 12, 500], { ...defaults.latency, maxRatio: 1.5 }).passed,
    ).toBe(true);
    expect(
      latencyGate([10, 10, 10], [20, 20, 20], { ...defaults.latency, maxRatio: 1.5 }).passed,
    ).toBe(false);
  });
});

describe('contract diff', () => {
  const sidecar = {
    features: contract.features.map((f) => ({
      name: f.name,
      type: f.type,
      ...(f.type === 'category' ? { categories: [...f.categories, 'Atlantis'] } : {}),
    })),
    labels: [...contract.labels],
  };

  it('same features and types are compatible; new categories are notes, not differences', () => {
    const diff = contractDiff(contract, sidecar);
    expect(diff.differences).toEqual([]);
    expect(diff.compatible).toBe(true);
    if (contract.features.some((f) => f.type === 'category'))
      expect(diff.notes.join('\n')).toMatch(/new categories Atlantis/);
  });

  it('a retyped feature or changed labels are differences', () => {
    const [first] = contract.features;
    const retyped = {
      ...sidecar,
      features: sidecar.features.map((f, i) =>
        i === 0 ? { ...f, type: first!.type === 'text' ? 'number' : 'text' } : f,
      ),
      labels: contract.labels.length > 0 ? ['only-one'] : [],
    };
    const diff = contractDiff(contract, retyped);
    expect(diff.compatible).toBe(false);
    expect(diff.differences[0]).toMatch(new RegExp(`^feature ${first!.name}: type `));
    if (contract.labels.length > 0) expect(diff.differences.at(-1)).toMatch(/^labels /);
  });
});

describe('model-gates.json', () => {
  it('absent: the defaults; a bad value: an error naming the field', async () => {
    expect(await readGates(join(dir, 'none.json'))).toEqual(defaults);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ latency: { maxRatio: 0.5 } }));
    await expect(readGates(bad)).rejects.toThrow(GatesError);
    await expect(readGates(bad)).rejects.toThrow(/latency\.maxRatio/);
  });
});
