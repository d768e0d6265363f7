import { spawnSync } from 'node:child_process';
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
  gcp: { cloud: 'gcp', gcpProject: 'acme-ml-prod', githubRepo: 'acme/churn-api' },
  aws: { cloud: 'aws', awsAccountId: '123456789012', githubRepo: 'acme/churn-api' },
  both: {
    cloud: 'both',
    gcpProject: 'acme-ml-prod',
    awsAccountId: '123456789012',
    githubRepo: 'acme/churn-api',
  },
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

/** The environment without what npm passes to scripts (this test may run under `npx vitest`). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' };
  for (const key of Object.keys(env)) {
    if (/^npm_/i.test(key) || key === 'ONNXRUNTIME_NODE_INSTALL') delete env[key];
  }
  return env;
}

const npm = (dir: string, args: string[]) =>
  spawnSync('npm', args, { cwd: dir, encoding: 'utf8', env: cleanEnv() });

describe('npm start in a project that was not built', () => {
  it('says what to run instead of crashing, and starts the built server once there is one', async () => {
    const dir = await generate(clouds.none);
    const missing = npm(dir, ['start']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(
      'dist/ is missing: run "npm run build" first (or "npm run dev" for development)',
    );
    expect(missing.stderr).not.toContain('Cannot find module');
    // A stand-in for the compiled server: `start` runs it as it is.
    await mkdir(join(dir, 'dist/src'), { recursive: true });
    await writeFile(join(dir, 'dist/src/server.js'), "console.log('server started');\n");
    const built = npm(dir, ['start']);
    expect(built.status, built.stderr).toBe(0);
    expect(built.stdout).toContain('server started');
    expect(built.stderr).not.toContain('dist/ is missing');
  });

  it('the image runs the same entry point directly, never through npm', async () => {
    const dir = await generate(clouds.none);
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    expect(pkg.scripts.start).toBe('node dist/src/server.js');
    expect(pkg.scripts.prestart).toContain("'dist/src/server.js'");
    const dockerfile = await readFile(join(dir, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/src\/server\.js"\]$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
  });
});

interface WorkflowYaml {
  env?: Record<string, unknown>;
  jobs: Record<
    string,
    { env?: Record<string, unknown>; steps?: { run?: string; env?: Record<string, unknown> }[] }
  >;
}

describe("onnxruntime-node's CUDA download is skipped without an npm config key", () => {
  it('.npmrc has no onnxruntime key; npm reads the project config without a warning', async () => {
    const dir = await generate(clouds.none);
    const npmrc = await readFile(join(dir, '.npmrc'), 'utf8');
    expect(npmrc).not.toMatch(/^\s*onnxruntime/m);
    expect(npmrc).toMatch(/^fund=false$/m);
    const r = npm(dir, ['config', 'get', 'fund']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('false');
    expect(r.stderr).not.toContain('Unknown');
  });

  it('package.json denies its install script in allowScripts', async () => {
    for (const flags of Object.values(clouds)) {
      const dir = await generate(flags);
      const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
      expect(pkg.allowScripts).toEqual({ 'onnxruntime-node': false });
      expect(Object.keys(pkg.allowScripts)).toEqual(
        Object.keys(pkg.dependencies).filter((d) => d === 'onnxruntime-node'),
      );
    }
  });

  it('every npm ci of the Dockerfile and every install of the workflows sets ONNXRUNTIME_NODE_INSTALL=skip', async () => {
    const dir = await generate(clouds.both);
    const runs = (await readFile(join(dir, 'Dockerfile'), 'utf8'))
      .split('\n')
      .filter((l) => /^RUN .*npm (ci|install)/.test(l));
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const run of runs) expect(run).toMatch(/^RUN ONNXRUNTIME_NODE_INSTALL=skip npm /);

    const workflows = join(dir, '.github/workflows');
    let installs = 0;
    for (const name of await readdir(workflows)) {
      const wf = parseYaml(await readFile(join(workflows, name), 'utf8')) as WorkflowYaml;
      for (const [id, job] of Object.entries(wf.jobs)) {
        for (const step of job.steps ?? []) {
          // npm ci / npm install, and npx (template-update.mjs runs `npx create-mlops-service`).
          if (!/\bnpm (ci|install)\b|\bnpx\b|template-update\.mjs/.test(step.run ?? '')) continue;
          installs += 1;
          const env = { ...wf.env, ...job.env, ...step.env };
          expect(env.ONNXRUNTIME_NODE_INSTALL, `${name} ${id}: ${step.run}`).toBe('skip');
        }
      }
    }
    // ci.yml, golden-path.yml, deploy-environment.yml and template-update.yml.
    expect(installs).toBeGreaterThanOrEqual(4);
  });
});
