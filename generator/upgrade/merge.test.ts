/** The merge engine's parts on plain inputs: line merge, JSON merge, unified diff, renames, migrations. */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrateAnswers, type AnswersMigration } from '../answers/migrations.js';
import { sha256 } from '../record/record.js';
import { tempDir } from '../test-support/cli.js';
import { type FileState, planUpgrade } from './engine.js';
import { mergeJson } from './json.js';
import { detectRenames } from './renames.js';
import { decodeSnapshot, encodeSnapshot } from './snapshot.js';
import { mergeText, similarity, unifiedDiff } from './text.js';

const labels = { ours: 'yours', base: 'base', theirs: 'template' };
const lines = (...l: string[]) => l.map((x) => `${x}\n`).join('');

describe('mergeText', () => {
  const base = lines('a', 'b', 'c', 'd', 'e', 'f', 'g');

  it('keeps both sides when they change different lines', () => {
    const ours = lines('a', 'B', 'c', 'd', 'e', 'f', 'g');
    const theirs = lines('a', 'b', 'c', 'd', 'e', 'F', 'g');
    expect(mergeText(ours, base, theirs, labels)).toEqual({
      text: lines('a', 'B', 'c', 'd', 'e', 'F', 'g'),
      conflicts: 0,
    });
  });

  it('marks a conflict with git diff3 markers when both change the same line', () => {
    const ours = lines('a', 'b', 'c', 'MINE', 'e', 'f', 'g');
    const theirs = lines('a', 'b', 'c', 'THEIRS', 'e', 'f', 'g');
    const merged = mergeText(ours, base, theirs, labels);
    expect(merged.conflicts).toBe(1);
    expect(merged.text).toBe(
      lines(
        'a',
        'b',
        'c',
        '<<<<<<< yours',
        'MINE',
        '||||||| base',
        'd',
        '=======',
        'THEIRS',
        '>>>>>>> template',
        'e',
        'f',
        'g',
      ),
    );
  });

  it('the same change on both sides is no conflict; x,x,x is x; base==ours gives theirs', () => {
    const same = lines('a', 'b', 'X', 'd', 'e', 'f', 'g');
    expect(mergeText(same, base, same, labels)).toEqual({ text: same, conflicts: 0 });
    expect(mergeText(base, base, base, labels)).toEqual({ text: base, conflicts: 0 });
    expect(mergeText(base, base, same, labels).text).toBe(same);
    expect(mergeText(same, base, base, labels).text).toBe(same);
  });

  it('agrees with git merge-file on a clean merge and on a conflict', async () => {
    const dir = await tempDir('cms-merge-');
    const cases = [
      [lines('a', 'B', 'c', 'd', 'e', 'f', 'g'), lines('a', 'b', 'c', 'd', 'e', 'F', 'g')],
      [lines('a', 'b', 'c', 'MINE', 'e', 'f', 'g'), lines('a', 'b', 'c', 'THEIRS', 'e', 'f', 'g')],
    ] as const;
    for (const [ours, theirs] of cases) {
      await writeFile(join(dir, 'ours'), ours);
      await writeFile(join(dir, 'base'), base);
      await writeFile(join(dir, 'theirs'), theirs);
      const git = spawnSync(
        'git',
        [
          'merge-file',
          '-p',
          '--diff3',
          '-L',
          'yours',
          '-L',
          'base',
          '-L',
          'template',
          'ours',
          'base',
          'theirs',
        ],
        { cwd: dir, encoding: 'utf8' },
      );
      const ours3 = mergeText(ours, base, theirs, labels);
      expect(ours3.text).toBe(git.stdout);
      expect(ours3.conflicts).toBe(git.status);
    }
  });

  it('a file both sides added conflicts only where they differ', () => {
    const merged = mergeText(lines('x', 'mine', 'y'), '', lines('x', 'theirs', 'y'), labels);
    expect(merged.conflicts).toBe(1);
    expect(merged.text.startsWith('x\n<<<<<<< yours\nmine\n||||||| base\n=======\ntheirs\n')).toBe(
      true,
    );
    expect(merged.text.endsWith('>>>>>>> template\ny\n')).toBe(true);
  });

  it('a conflicting last line without a newline still gets its markers on lines of their own', () => {
    const merged = mergeText('a\nmine', 'a\nbase', 'a\ntheirs', labels);
    expect(merged.text).toBe(
      'a\n<<<<<<< yours\nmine\n||||||| base\nbase\n=======\ntheirs\n>>>>>>> template\n',
    );
  });
});

describe('mergeJson', () => {
  const base = `{\n  "name": "svc",\n  "dependencies": {\n    "fastify": "5.0.0",\n    "zod": "4.0.0"\n  }\n}\n`;
  const ours = `{\n  "name": "svc",\n  "dependencies": {\n    "fastify": "5.0.0",\n    "zod": "4.0.0",\n    "zx": "8.0.0"\n  }\n}\n`;
  const theirs = `{\n  "name": "svc",\n  "dependencies": {\n    "fastify": "5.0.0",\n    "zod": "4.1.0"\n  }\n}\n`;

  it('keeps the user dependency and takes the template bump, where a line merge conflicts', () => {
    expect(mergeText(ours, base, theirs, labels).conflicts).toBe(1);
    const merged = mergeJson(ours, base, theirs, labels)!;
    expect(merged.conflicts).toEqual([]);
    expect(merged.text).toBe(
      `{\n  "name": "svc",\n  "dependencies": {\n    "fastify": "5.0.0",\n    "zod": "4.1.0",\n    "zx": "8.0.0"\n  }\n}\n`,
    );
  });

  it('confines a conflict to its key: markers around that line, the rest merged, the key named', () => {
    const b = `{\n  "dependencies": {\n    "pino": "9.0.0",\n    "piscina": "5.0.0",\n    "zod": "4.0.0"\n  }\n}\n`;
    const o = b.replace('"pino": "9.0.0"', '"pino": "9.5.0"');
    const t = b.replace('"pino": "9.0.0"', '"pino": "9.6.0"').replace('5.0.0', '5.1.0');
    const merged = mergeJson(o, b, t, labels)!;
    expect(merged).toMatchObject({ conflicts: ['dependencies.pino'], blocks: 1 });
    expect(merged.text).toBe(
      `{\n  "dependencies": {\n<<<<<<< yours\n    "pino": "9.5.0",\n||||||| base\n    "pino": "9.0.0",\n=======\n    "pino": "9.6.0",\n>>>>>>> template\n    "piscina": "5.1.0",\n    "zod": "4.0.0"\n  }\n}\n`,
    );
  });

  it('keeps the user key order: sorted dependencies stay sorted when the template bumps one', () => {
    const b = `{\n  "dependencies": {\n    "zod": "4.0.0",\n    "fastify": "5.0.0"\n  }\n}\n`;
    const o = `{\n  "dependencies": {\n    "fastify": "5.0.0",\n    "left-pad": "1.3.0",\n    "zod": "4.0.0"\n  }\n}\n`;
    const t = b.replace('4.0.0', '4.1.0');
    expect(mergeJson(o, b, t, labels)!.text).toBe(o.replace('4.0.0', '4.1.0'));
    // Only sorted, nothing added: still the user's order, not the template's.
    const sorted = `{\n  "dependencies": {\n    "fastify": "5.0.0",\n    "zod": "4.0.0"\n  }\n}\n`;
    expect(mergeJson(sorted, b, t, labels)!.text).toBe(sorted.replace('4.0.0', '4.1.0'));
  });

  it('writes through the user layout: inline arrays stay inline, new keys follow their template neighbour', () => {
    const b = `{\n  "compilerOptions": {\n    "lib": ["ES2022"],\n    "strict": true\n  },\n  "include": ["src"]\n}\n`;
    const o = b.replace('"strict": true', '"strict": true,\n    "noEmit": true');
    const t = `{\n  "compilerOptions": {\n    "lib": ["ES2022", "DOM"],\n    "strict": true,\n    "types": ["node"]\n  },\n  "include": ["src", "test"]\n}\n`;
    const merged = mergeJson(o, b, t, labels)!;
    expect(merged.conflicts).toEqual([]);
    expect(merged.text).toBe(
      `{\n  "compilerOptions": {\n    "lib": ["ES2022", "DOM"],\n    "strict": true,\n    "types": ["node"],\n    "noEmit": true\n  },\n  "include": ["src", "test"]\n}\n`,
    );
  });

  it('removes what the template removed, merges arrays, keeps the user comments', () => {
    const b = { a: 1, files: ['x', 'y'], gone: true, c: 3 };
    const o = `{\n  // mine\n  "c": 3,\n  "a": 1,\n  "files": ["x", "y", "mine"],\n  "gone": true,\n  "own": "u"\n}\n`;
    const t = { a: 1, added: 2, files: ['x', 'theirs'], c: 3 };
    const merged = mergeJson(o, JSON.stringify(b), JSON.stringify(t), labels)!;
    expect(merged.conflicts).toEqual([]);
    expect(merged.text).toBe(
      `{\n  // mine\n  "c": 3,\n  "a": 1,\n  "added": 2,\n  "files": ["x", "mine", "theirs"],\n  "own": "u"\n}\n`,
    );
  });

  it('returns undefined when the template side is not plain JSON (the line merge takes over)', () => {
    expect(mergeJson('{}', '{}', '{ // comment\n}', labels)).toBeUndefined();
    expect(mergeJson('{"a": <<<', '{}', '{}', labels)).toBeUndefined();
  });

  it('keeps the user formatting when nothing of the template is new to it', () => {
    const mine = '{"name":"svc","dependencies":{"fastify":"5.0.0","zod":"4.1.0"}}';
    expect(mergeJson(mine, base, theirs, labels)!.text).toBe(mine);
  });
});

describe('unifiedDiff', () => {
  it('matches git diff output for several hunks, an insertion and a missing last newline', async () => {
    const before = lines(...'abcdefghijklmnopqrstu'.split('')) + 'end';
    const after = lines(...'aBcdefghijklmnoXpqrstu'.split('').filter((c) => c !== 'h')) + 'END\n';
    const dir = await tempDir('cms-diff-');
    await writeFile(join(dir, 'a'), before);
    await writeFile(join(dir, 'b'), after);
    const git = spawnSync('git', ['diff', '--no-index', '--no-color', 'a', 'b'], {
      cwd: dir,
      encoding: 'utf8',
    });
    // git appends a function-context heading to some hunk headers; the hunks are what we compare.
    const gitHunks = git.stdout
      .slice(git.stdout.indexOf('@@'))
      .replace(/^(@@ [^@]+ @@).*$/gm, '$1');
    const ours = unifiedDiff('f', before, after);
    expect(ours.slice(ours.indexOf('@@'))).toBe(gitHunks);
    expect(ours.startsWith('--- a/f\n+++ b/f\n')).toBe(true);
  });

  it('is empty for equal texts and uses /dev/null for created and deleted files', () => {
    expect(unifiedDiff('f', 'x\n', 'x\n')).toBe('');
    expect(unifiedDiff('f', undefined, 'x\n')).toBe('--- /dev/null\n+++ b/f\n@@ -0,0 +1 @@\n+x\n');
    expect(unifiedDiff('f', 'x\n', undefined)).toBe('--- a/f\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n');
  });
});

describe('planUpgrade', () => {
  const state = (text: string): FileState => ({ content: Buffer.from(text), mode: 0o644 });
  const run = (files: {
    base: Record<string, string>;
    next: Record<string, string>;
    working: Record<string, string>;
    knownBase?: boolean;
    renames?: Record<string, string>;
  }) =>
    planUpgrade({
      recorded: new Map(Object.entries(files.base).map(([p, t]) => [p, sha256(t)])),
      base: new Map(
        files.knownBase === false
          ? []
          : Object.entries(files.base).map(([p, t]) => [p, Buffer.from(t)]),
      ),
      next: new Map(Object.entries(files.next).map(([p, t]) => [p, state(t)])),
      working: new Map(Object.entries(files.working).map(([p, t]) => [p, state(t)])),
      labels,
      renames: new Map(Object.entries(files.renames ?? {})),
    });
  const guide = lines('1', '2', '3', '4', '5', '6', '7', '8');

  it('moves an edited file the template renamed and merges the template change into it', () => {
    const plan = run({
      base: { 'docs/old.md': guide },
      next: { 'docs/new.md': guide.replace('7', 'seven') },
      working: { 'docs/old.md': guide.replace('2', 'two') },
      renames: { 'docs/old.md': 'docs/new.md' },
    });
    expect(plan.changes).toEqual([
      { path: 'docs/new.md', from: 'docs/old.md', action: 'renamed', method: 'text' },
    ]);
    expect(plan.writes.get('docs/new.md')!.content.toString()).toBe(
      guide.replace('2', 'two').replace('7', 'seven'),
    );
    expect(plan.deletes).toEqual(['docs/old.md']);
  });

  it('does not recreate a renamed file the user deleted, nor take a file the user created', () => {
    const deleted = run({
      base: { 'old.md': guide },
      next: { 'new.md': guide },
      working: {},
      renames: { 'old.md': 'new.md' },
    });
    expect(deleted.changes).toEqual([
      { path: 'new.md', from: 'old.md', action: 'kept-deleted', note: expect.any(String) },
    ]);
    expect(deleted.writes.size).toBe(0);
    const both = run({
      base: {},
      next: { 'a.md': lines('x', 't', 'y') },
      working: { 'a.md': lines('x', 'u', 'y') },
    });
    expect(both.changes[0]).toMatchObject({
      path: 'a.md',
      action: 'merged',
      conflict: { blocks: 1, noBase: true },
    });
  });

  it('without a base: unedited files still take the template, edited ones conflict where they differ', () => {
    const plan = run({
      base: { 'a.txt': guide, 'b.txt': guide },
      next: { 'a.txt': guide.replace('1', 'one'), 'b.txt': guide.replace('8', 'eight') },
      working: { 'a.txt': guide, 'b.txt': guide.replace('1', 'uno') },
      knownBase: false,
    });
    expect(plan.changes).toEqual([
      { path: 'a.txt', action: 'updated' },
      { path: 'b.txt', action: 'merged', method: 'text', conflict: { blocks: 2, noBase: true } },
    ]);
  });

  it('never merges a lockfile, and keeps a removed file the user edited', () => {
    const plan = run({
      base: { 'package-lock.json': '{"v":1}\n', 'gone.txt': 'x\n' },
      next: { 'package-lock.json': '{"v":2}\n' },
      working: { 'package-lock.json': '{"v":1,"mine":true}\n', 'gone.txt': 'x edited\n' },
    });
    expect(plan.changes.map((c) => [c.path, c.action])).toEqual([
      ['gone.txt', 'pending-delete'],
      ['package-lock.json', 'regenerate'],
    ]);
    expect(plan.writes.size).toBe(0);
    expect(plan.deletes).toEqual([]);
  });

  it('a binary file changed on both sides keeps the user copy and writes the template one beside it', () => {
    const bin = (n: number) => Buffer.from([0, 1, 2, n]);
    const plan = planUpgrade({
      recorded: new Map([['logo.png', sha256(bin(0))]]),
      base: new Map([['logo.png', bin(0)]]),
      next: new Map([['logo.png', { content: bin(2), mode: 0o644 }]]),
      working: new Map([['logo.png', { content: bin(1), mode: 0o644 }]]),
      labels,
    });
    expect(plan.changes[0]).toMatchObject({
      action: 'merged',
      method: 'binary',
      conflict: { sideFile: 'logo.png.mlops-new' },
    });
    expect(plan.writes.get('logo.png.mlops-new')!.content).toEqual(bin(2));
    expect(plan.writes.has('logo.png')).toBe(false);
  });

  it('a rename is what the new templates moved with the same answers, never an answer change', () => {
    const aws = lines(
      'name: deploy',
      'on: push',
      'jobs:',
      '  deploy:',
      '    steps:',
      '      - aws',
    );
    const gcp = aws.replace('aws', 'gcp');
    const file = (text: string): FileState => ({ content: Buffer.from(text), mode: 0o644 });
    const recorded = new Map([['deploy-aws.yml', sha256(aws)]]);
    const baseOf = (p: string) => (p === 'deploy-aws.yml' ? Buffer.from(aws) : undefined);
    // cloud aws -> gcp: with the old answers the new templates still render deploy-aws.yml.
    expect(
      detectRenames({
        recorded,
        baseOf,
        sameAnswers: new Map([['deploy-aws.yml', file(aws)]]),
        next: new Map([['deploy-gcp.yml', file(gcp)]]),
      }),
    ).toEqual(new Map());
    // The template moved it: gone with the same answers, and alike.
    expect(
      detectRenames({
        recorded,
        baseOf,
        sameAnswers: new Map([['ci/deploy-aws.yml', file(aws)]]),
        next: new Map([['ci/deploy-aws.yml', file(aws)]]),
      }),
    ).toEqual(new Map([['deploy-aws.yml', 'ci/deploy-aws.yml']]));
  });

  it('an edited file an answer change dropped is kept and reported, the new one created apart', () => {
    const aws = lines('steps:', '  - aws deploy', '  - my own step');
    const plan = planUpgrade({
      recorded: new Map([['deploy-aws.yml', sha256(lines('steps:', '  - aws deploy'))]]),
      base: new Map(),
      next: new Map([['deploy-gcp.yml', state(lines('steps:', '  - gcp deploy'))]]),
      working: new Map([['deploy-aws.yml', state(aws)]]),
      labels,
      removedBy: new Map([['deploy-aws.yml', 'no longer rendered: cloud changed (aws -> gcp)']]),
    });
    expect(plan.changes).toEqual([
      {
        path: 'deploy-aws.yml',
        action: 'pending-delete',
        note: 'no longer rendered: cloud changed (aws -> gcp); you edited it, so it stays: delete it when done',
      },
      { path: 'deploy-gcp.yml', action: 'created' },
    ]);
    expect(plan.writes.get('deploy-gcp.yml')!.content.toString()).not.toContain('my own step');
    expect(plan.deletes).toEqual([]);
  });

  it('CRLF working copies: unedited files are unedited, merges come out all CRLF, new files follow git', () => {
    const crlf = (text: string) => text.replace(/\n/g, '\r\n');
    const plan = planUpgrade({
      recorded: new Map([
        ['a.txt', sha256(guide)],
        ['b.txt', sha256(guide)],
        ['c.txt', sha256(guide)],
      ]),
      base: new Map([['b.txt', Buffer.from(guide)]]),
      next: new Map([
        ['a.txt', state(guide.replace('1', 'one'))],
        ['b.txt', state(guide.replace('8', 'eight'))],
        ['c.txt', state(guide)],
        ['new.txt', state(lines('x', 'y'))],
      ]),
      working: new Map([
        ['a.txt', state(crlf(guide))],
        ['b.txt', state(crlf(guide.replace('2', 'two')))],
        ['c.txt', state(crlf(guide))],
      ]),
      labels,
      eolFor: () => '\r\n',
    });
    expect(plan.changes).toEqual([
      { path: 'a.txt', action: 'updated' },
      { path: 'b.txt', action: 'merged', method: 'text' },
      { path: 'new.txt', action: 'created' },
    ]);
    expect(plan.writes.get('a.txt')!.content.toString()).toBe(crlf(guide.replace('1', 'one')));
    expect(plan.writes.get('b.txt')!.content.toString()).toBe(
      crlf(guide.replace('2', 'two').replace('8', 'eight')),
    );
    expect(plan.writes.get('new.txt')!.content.toString()).toBe('x\r\ny\r\n');
  });

  it('the executable bit is merged: the template chmod +x reaches an untouched file', () => {
    const plan = planUpgrade({
      recorded: new Map([
        ['run.sh', sha256('echo\n')],
        ['mine.sh', sha256('echo\n')],
      ]),
      recordedExecutables: new Set(['mine.sh']),
      base: new Map(),
      next: new Map([
        ['run.sh', { content: Buffer.from('echo\n'), mode: 0o755 }],
        ['mine.sh', { content: Buffer.from('echo\n'), mode: 0o755 }],
      ]),
      working: new Map([
        ['run.sh', { content: Buffer.from('echo\n'), mode: 0o644 }],
        ['mine.sh', { content: Buffer.from('echo\n'), mode: 0o644 }],
      ]),
      labels,
    });
    // run.sh: 644 -> 755 by the template; mine.sh: the user removed +x, the template kept it.
    expect(plan.changes).toEqual([{ path: 'run.sh', action: 'updated', note: 'mode 644 -> 755' }]);
    expect(plan.writes.get('run.sh')!.mode).toBe(0o755);
  });

  it('similarity is the share of common lines', () => {
    expect(similarity(guide, guide)).toBe(1);
    expect(similarity(lines('a', 'b'), lines('c', 'd'))).toBe(0);
  });
});

describe('answers migrations', () => {
  const v0to1: AnswersMigration = {
    from: 0,
    to: 1,
    description: 'replicas split into minReplicas and maxReplicas',
    added: ['costCenter'],
    migrate: (a) => {
      const { replicas, ...rest } = a as { replicas: { min: number; max: number } };
      return { ...rest, minReplicas: replicas.min, maxReplicas: replicas.max };
    },
  };

  it('runs the chain, is pure, and reports the steps and the new questions', () => {
    const old = Object.freeze({ name: 'svc', replicas: Object.freeze({ min: 3, max: 7 }) });
    const out = migrateAnswers(old, 0, { migrations: [v0to1] });
    expect(out).toEqual({
      answers: { name: 'svc', minReplicas: 3, maxReplicas: 7 },
      steps: ['v0 -> v1: replicas split into minReplicas and maxReplicas'],
      added: ['costCenter'],
    });
    expect(old).toEqual({ name: 'svc', replicas: { min: 3, max: 7 } });
  });

  it('current answers pass through; a gap or a newer version is a clear error', () => {
    expect(migrateAnswers({ name: 'svc' }, 1)).toEqual({
      answers: { name: 'svc' },
      steps: [],
      added: [],
    });
    expect(() => migrateAnswers({}, 0, { migrations: [] })).toThrow(
      'no migration from answers schema version 0 to 1',
    );
    expect(() => migrateAnswers({}, 2)).toThrow('newer than this generator');
  });
});

describe('the base snapshot', () => {
  it('round-trips text and binary files and gives the same bytes for the same render', () => {
    const files = new Map([
      ['b.txt', Buffer.from('héllo\n')],
      ['a.bin', Buffer.from([0, 255, 1])],
    ]);
    const generator = { name: 'create-mlops-service', version: '1.2.3' };
    const bytes = encodeSnapshot({ generator, files });
    expect(encodeSnapshot({ generator, files: new Map([...files].reverse()) })).toEqual(bytes);
    const back = decodeSnapshot(bytes);
    expect(back.generator).toEqual(generator);
    expect([...back.files]).toEqual([...files].sort(([a], [b]) => a.localeCompare(b)));
  });
});
