/**
 * The generated README's "Soak and abuse check" lists the probes of `bench/soak.mjs` that apply to
 * the model: a tensor model has no /explain and no /predict/batch, a model without a background
 * sample no /explain. The table names exactly the probes the script has, so the two cannot drift.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixturesDir } from '../test-support/cli.js';
import { generateProject } from '../test-support/generate.js';

/** The probe names `bench/soak.mjs` declares, in order. */
async function scriptProbes(dir: string): Promise<string[]> {
  const text = await readFile(join(dir, 'bench/soak.mjs'), 'utf8');
  return [...text.matchAll(/^ {4}name: '([a-z0-9-]+)',$/gm)].map((m) => m[1]!);
}

/** The probe names in the README's soak table, in order. */
function readmeProbes(readme: string): string[] {
  const section = readme.slice(readme.indexOf('### Soak and abuse check'));
  const table = section.slice(
    section.indexOf('| probe |'),
    section.indexOf('\n\n', section.indexOf('| probe |')),
  );
  return [...table.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]!);
}

const models = {
  'records with a background sample (bank-churn)': {},
  'records without a background sample': { model: join(fixturesDir, 'tabular.onnx') },
  tensors: { model: join(fixturesDir, 'image.onnx') },
};

const rendered: Record<string, { readme: string; probes: string[] }> = {};
beforeAll(async () => {
  for (const [kind, flags] of Object.entries(models)) {
    const dir = await generateProject(flags);
    rendered[kind] = {
      readme: await readFile(join(dir, 'README.md'), 'utf8'),
      probes: await scriptProbes(dir),
    };
  }
}, 120_000);

describe('README: Soak and abuse check', () => {
  it('lists every probe of bench/soak.mjs for a records model with a background sample', () => {
    const { readme, probes } = rendered['records with a background sample (bank-churn)']!;
    expect(probes).toEqual([
      'explain-memory',
      'batch-dos',
      'log-completeness',
      'readiness',
      'shutdown-deadline',
      'overload',
      'hostile-inputs',
      'rss-stability',
    ]);
    expect(readmeProbes(readme)).toEqual(probes);
    expect(readme).not.toMatch(/prints SKIP for this model/);
  });

  it('leaves out explain-memory, and says why, without a background sample', () => {
    const { readme, probes } = rendered['records without a background sample']!;
    expect(readmeProbes(readme)).toEqual(probes.filter((p) => p !== 'explain-memory'));
    expect(readme).toMatch(
      /`explain-memory` prints SKIP for this model: it ships no background sample/,
    );
  });

  it('leaves out the /explain and /predict/batch probes for a tensor model, and says why', () => {
    const { readme, probes } = rendered.tensors!;
    expect(readmeProbes(readme)).toEqual(
      probes.filter((p) => !['explain-memory', 'batch-dos', 'log-completeness'].includes(p)),
    );
    expect(readme).toMatch(/a tensor model has\s+no `\/explain` and no `\/predict\/batch`/);
  });

  it('states criteria, not measured numbers, and says where a run writes its results', () => {
    for (const { readme } of Object.values(rendered)) {
      expect(readme).toContain('npm run soak -- --quick');
      expect(readme).toContain('bench/results/soak-<time>.json');
      expect(readme).not.toMatch(/\| (PASS|FAIL) \|/);
    }
  });
});
