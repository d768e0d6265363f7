import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { CreateOptions } from './create.js';
import { UserError } from '../errors.js';
import { hashTree, manifestFile, type Manifest } from '../record/record.js';
import { validateAnswers } from '../answers/resolve.js';
import { listTemplateFiles } from '../render/template-files.js';
import { insideRoot } from '../render/render.js';
import { buildPlan } from '../plan/plan.js';
import { introspectModel } from '../model/introspect.js';
import { templatesDir } from '../version.js';
import { fixturesDir, tempDir } from '../test-support/cli.js';
import { generateProject } from '../test-support/generate.js';

const tabular = join(fixturesDir, 'tabular.onnx');
const clouds = {
  none: { cloud: 'none' },
  gcp: { cloud: 'gcp', gcpProject: 'acme-ml-prod' },
  aws: { cloud: 'aws', awsAccountId: '123456789012' },
  both: { cloud: 'both', gcpProject: 'acme-ml-prod', awsAccountId: '123456789012' },
};

const generate = (flags: Record<string, unknown>, extra: Partial<CreateOptions> = {}) =>
  generateProject({ model: tabular, ...flags }, extra);

async function filesOf(dir: string): Promise<string[]> {
  return Object.keys(await hashTree(dir));
}

/** Project paths that are rendered from `.hbs` templates (raw files may hold `{{ }}` on purpose). */
async function renderedPaths(flags: Record<string, unknown>): Promise<Set<string>> {
  const answers = validateAnswers({ name: 'svc', model: 'model/model.onnx', ...flags });
  const plan = buildPlan(answers, await introspectModel(tabular));
  return new Set(
    (await listTemplateFiles(templatesDir, plan))
      .filter((t) => t.mode === 'render')
      .map((t) => t.target),
  );
}

function syntaxErrors(path: string, text: string): string[] {
  const out = ts.transpileModule(text, {
    fileName: path,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ESNext },
  });
  return (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

/** Parses every file by its type; returns the problems. */
async function checkFileTypes(dir: string): Promise<string[]> {
  const problems: string[] = [];
  for (const rel of await filesOf(dir)) {
    const text = await readFile(join(dir, rel), 'utf8');
    try {
      if (rel.endsWith('.json')) JSON.parse(text);
      if (rel.endsWith('.yaml') || rel.endsWith('.yml')) parseYaml(text);
      if (/\.[cm]?ts$/.test(rel))
        problems.push(...syntaxErrors(rel, text).map((e) => `${rel}: ${e}`));
    } catch (err) {
      problems.push(`${rel}: ${(err as Error).message}`);
    }
  }
  return problems;
}

describe.each(Object.entries(clouds))('rendering with cloud=%s', (_name, flags) => {
  it('leaves no unrendered {{ and every file parses as its type', async () => {
    const dir = await generate(flags);
    const rendered = await renderedPaths(flags);
    expect(rendered.size).toBeGreaterThan(2);
    for (const rel of rendered) {
      const text = await readFile(join(dir, rel), 'utf8');
      // `${{ ... }}` is a GitHub Actions expression a template may emit on purpose.
      expect(text.replace(/\$\{\{/g, ''), rel).not.toContain('{{');
    }
    expect(await checkFileTypes(dir)).toEqual([]);
  });
});

describe('user text is inert', () => {
  const hostile = `He said "hi" & left {{name}} {{{json model}}} --- ' \`x\` \${process.exit(1)} </script><b>[a](http://x) # * _ | \\`;

  it('a hostile description stays a plain value in every file type', async () => {
    const dir = await generate({ ...clouds.both, description: hostile });
    expect(await checkFileTypes(dir)).toEqual([]);
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    expect(pkg.description).toBe(hostile);
    const readme = await readFile(join(dir, 'README.md'), 'utf8');
    expect(readme).not.toContain('<script');
    expect(readme).not.toContain('<b>');
    expect(readme).not.toContain('{{name}}');
    expect(readme).not.toContain('[a](http://x)');
    expect(readme.split('\n')).not.toContain('---');
    // Every TypeScript literal that holds it evaluates back to exactly the text.
    for (const rel of await filesOf(dir)) {
      if (!rel.endsWith('.ts')) continue;
      const text = await readFile(join(dir, rel), 'utf8');
      expect(text).not.toContain('${process.exit(1)}`');
    }
  });

  it('a newline in the description is refused before anything is written', async () => {
    const parent = await tempDir();
    await expect(
      generate({ description: 'one\n---\ntwo' }, { dir: join(parent, 'svc') }),
    ).rejects.toThrow('Invalid answers');
    expect(await readdir(parent)).toEqual([]);
  });

  it('no template path can leave the project', () => {
    const root = '/tmp/project';
    expect(() => insideRoot(root, '../escape.txt')).toThrow('outside the project');
    expect(() => insideRoot(root, 'a/../../escape.txt')).toThrow('outside the project');
    expect(() => insideRoot(root, '/etc/passwd')).toThrow('outside the project');
    expect(insideRoot(root, 'src/../README.md')).toBe('/tmp/project/README.md');
  });
});

describe('recording', () => {
  it('records the answers used, the generator version and a hash per file', async () => {
    const dir = await generate({ ...clouds.gcp, owner: 'risk-team' });
    const manifest = JSON.parse(await readFile(join(dir, manifestFile), 'utf8')) as Manifest;
    const record = JSON.parse(await readFile(join(dir, '.mlops-service/answers.json'), 'utf8'));
    expect(record.schemaVersion).toBe(1);
    expect(record.answers).toEqual(manifest.renderedAnswers);
    expect(record.answers).toMatchObject({
      name: 'svc',
      owner: 'risk-team',
      model: 'model/model.onnx',
      cloud: 'gcp',
    });
    expect(validateAnswers(record.answers)).toEqual(record.answers);
    expect(manifest.generator).toEqual({
      name: 'create-mlops-service',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
    const onDisk = await hashTree(dir, new Set([manifestFile]));
    expect(manifest.files).toEqual(onDisk);
    expect(Object.keys(manifest.files)).toContain('model/model.onnx');
  });

  it('is deterministic: the same answers give the same bytes', async () => {
    const a = await hashTree(await generate(clouds.both));
    const b = await hashTree(await generate(clouds.both));
    expect(a).toEqual(b);
  });
});

describe('the target directory', () => {
  it('a failure midway leaves the target absent and no staging directory behind', async () => {
    const templates = await tempDir('cms-templates-');
    await writeFile(join(templates, 'good.txt.hbs'), '{{service.name}}\n');
    await mkdir(join(templates, 'z'));
    await writeFile(join(templates, 'z/bad.txt.hbs'), '{{service.nonexistent}}\n');
    const parent = await tempDir();
    const dir = join(parent, 'svc');
    const err = await generate({}, { dir, templatesDir: templates }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toContain('Rendering failed');
    expect((err as Error).message).toContain('"nonexistent" not defined');
    expect(await readdir(parent)).toEqual([]);
  });

  it('refuses a non-empty target and leaves it untouched', async () => {
    const dir = join(await tempDir(), 'svc');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await expect(generate({}, { dir })).rejects.toThrow('is not empty; nothing was written');
    expect(await readdir(dir)).toEqual(['notes.txt']);
    expect(await readdir(dirname(dir))).toEqual(['svc']);
  });

  it('an empty target is used, and --overwrite replaces a non-empty one', async () => {
    const dir = join(await tempDir(), 'svc');
    await mkdir(dir);
    await generate({}, { dir });
    expect(await readdir(dir)).toContain('package.json');
    await writeFile(join(dir, 'stale.txt'), 'old');
    await generate({}, { dir, overwrite: true });
    expect(await readdir(dir)).not.toContain('stale.txt');
    expect(await readdir(dirname(dir))).toEqual(['svc']);
  });
});
