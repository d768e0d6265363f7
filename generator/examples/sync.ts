/**
 * The committed examples are generated projects. `check` regenerates each one from its answers
 * file (`examples/answers/<name>.json`) into a temporary directory and fails with the differences
 * if the committed tree is not exactly that; `update` refreshes the committed trees (and their
 * lockfiles, which the generator does not write).
 *
 *   node dist/generator/examples/sync.js check|update [name...]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { create } from '../commands/create.js';
import { hashTree } from '../record/record.js';
import { packageRoot } from '../version.js';

export const examplesDir = resolve(packageRoot, 'examples');
export const answersDir = join(examplesDir, 'answers');

/**
 * Files the generator does not own in an example: installs, builds, lockfiles, and what
 * `npm run bench` and `npm run soak` write to `bench/results/` (ignored by the project's git).
 */
const notGenerated = (rel: string) =>
  rel === 'package-lock.json' ||
  rel.startsWith('bench/results/') ||
  /(^|\/)(node_modules|dist|coverage|cdktf\.out)(\/|$)/.test(rel);

export async function exampleNames(): Promise<string[]> {
  return (await readdir(answersDir))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Renders an example from its answers file into a fresh temporary directory. */
export async function renderExample(name: string): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), `example-${name}-`)), name);
  await create({
    dir,
    answersFile: join(answersDir, `${name}.json`),
    yes: true,
    overwrite: false,
    git: false,
    install: false,
    json: true,
    interactive: false,
    flags: {},
  });
  await addRecordedSections(name, dir);
  return dir;
}

/**
 * What is recorded beside an example's model and put back into its README at every render, as a
 * user's own additions to their README would be (an upgrade keeps them):
 *
 * - a real session with its service (`session/session.md`, written by that folder's
 *   `session.mjs`, which the examples' test reruns), before the README's "Operating it" section;
 * - the measured tables of `npm run bench:cost` and `npm run bench:profile` (`bench/cost.md`,
 *   `bench/profile.md`, written by the repository's `npm run bench:cost`), between the README's
 *   `bench:cost` and `bench:profile` markers, as the project's own bench would write them.
 *
 * A section whose file is absent is left as the template renders it.
 */
export interface RecordedSection {
  /** Path under `examples/models/<name>/`. */
  readonly file: string;
  readonly place: { readonly before: string } | { readonly markers: string };
}

export const recordedSections: readonly RecordedSection[] = [
  { file: 'session/session.md', place: { before: '\n### Operating it\n' } },
  { file: 'bench/cost.md', place: { markers: 'cost' } },
  { file: 'bench/profile.md', place: { markers: 'profile' } },
];

/** The generated project's own marker replacement (`bench/readme-table.mjs`), so both agree. */
interface ReadmeTable {
  replaceBetweenMarkers(text: string, name: string, body: string, file?: string): string;
}
async function readmeTable(): Promise<ReadmeTable> {
  const file = join(packageRoot, 'templates', 'bench', 'readme-table.mjs');
  return (await import(pathToFileURL(file).href)) as ReadmeTable;
}

export async function addRecordedSections(name: string, dir: string): Promise<void> {
  const readme = join(dir, 'README.md');
  let text = await readFile(readme, 'utf8');
  const before = text;
  for (const { file, place } of recordedSections) {
    const recorded = join(examplesDir, 'models', name, file);
    if (!existsSync(recorded)) continue;
    const content = await readFile(recorded, 'utf8');
    if ('before' in place) {
      const heading = place.before.trim();
      if (!text.includes(place.before))
        throw new Error(`${readme}: no "${heading}" section to put ${recorded} before`);
      const section = content.replace(/^## /, '### ').trimEnd();
      text = text.replace(place.before, `\n${section}\n${place.before}`);
    } else {
      text = (await readmeTable()).replaceBetweenMarkers(text, place.markers, content, readme);
    }
  }
  if (text !== before) await writeFile(readme, text);
}

/** The files of the committed example that the generator owns (tracked or not, but not ignored). */
async function committedFiles(name: string): Promise<Record<string, string>> {
  const all = await hashTree(join(examplesDir, name)).catch(() => ({}) as Record<string, string>);
  return Object.fromEntries(Object.entries(all).filter(([rel]) => !notGenerated(rel)));
}

export interface ExampleDiff {
  readonly name: string;
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
  readonly patch: string;
}

export async function diffExample(name: string): Promise<ExampleDiff> {
  const fresh = await renderExample(name);
  try {
    const want = await hashTree(fresh);
    const have = await committedFiles(name);
    const added = Object.keys(want).filter((f) => !(f in have));
    const removed = Object.keys(have).filter((f) => !(f in want));
    const changed = Object.keys(want).filter((f) => f in have && have[f] !== want[f]);
    let patch = '';
    for (const f of changed.slice(0, 20)) {
      const r = spawnSync(
        'diff',
        [
          '-u',
          '--label',
          `committed/${f}`,
          '--label',
          `generated/${f}`,
          join(examplesDir, name, f),
          join(fresh, f),
        ],
        { encoding: 'utf8' },
      );
      patch += r.stdout.split('\n').slice(0, 80).join('\n');
    }
    return { name, added, removed, changed, patch };
  } finally {
    await rm(dirname(fresh), { recursive: true, force: true });
  }
}

export async function updateExample(name: string): Promise<void> {
  const fresh = await renderExample(name);
  const target = join(examplesDir, name);
  try {
    for (const rel of Object.keys(await committedFiles(name)))
      await rm(join(target, rel), { force: true });
    await cp(fresh, target, { recursive: true });
  } finally {
    await rm(dirname(fresh), { recursive: true, force: true });
  }
  // The lockfile is npm's, not the generator's: refresh it so `npm ci` works in CI.
  const lock = spawnSync(
    'npm',
    ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'],
    {
      cwd: target,
      encoding: 'utf8',
      env: { ...process.env, npm_config_loglevel: 'error' },
    },
  );
  if (lock.status !== 0)
    throw new Error(`npm install --package-lock-only failed in ${target}:\n${lock.stderr}`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...only] = argv;
  const names = only.length > 0 ? only : await exampleNames();
  if (command === 'update') {
    for (const name of names) {
      await updateExample(name);
      process.stdout.write(`updated examples/${name}\n`);
    }
    return 0;
  }
  if (command === 'check') {
    let stale = 0;
    for (const name of names) {
      const d = await diffExample(name);
      if (d.added.length + d.removed.length + d.changed.length === 0) {
        process.stdout.write(`examples/${name}: up to date\n`);
        continue;
      }
      stale += 1;
      process.stdout.write(
        `examples/${name}: differs from a fresh render\n` +
          d.added.map((f) => `  missing  ${f}\n`).join('') +
          d.removed.map((f) => `  extra    ${f}\n`).join('') +
          d.changed.map((f) => `  changed  ${f}\n`).join('') +
          `${d.patch}\n`,
      );
    }
    if (stale > 0) process.stdout.write('Run `npm run examples:update` and commit the result.\n');
    return stale > 0 ? 1 : 0;
  }
  process.stderr.write('usage: sync.js check|update [name...]\n');
  return 2;
}

if (
  process.argv[1] &&
  resolve(process.argv[1]) === resolve(packageRoot, 'dist/generator/examples/sync.js')
) {
  process.exitCode = await main(process.argv.slice(2));
}
