/* eslint-disable @typescript-eslint/no-explicit-any -- the engine's model is parsed YAML and JSON */
/**
 * A generated project with its dependencies installed from the registry, for tests that run the
 * project's own tools (its policy check). The install is cached by the content of package.json
 * (and .npmrc) under the system's temp directory, so a test run installs once and later runs
 * reuse it; each project links `node_modules` to the cache and gets the cache's lockfile.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateProject } from './generate.js';

/** Installs `package.json` (with `.npmrc`) from `dir` into the cache; returns the cache directory. */
export async function installCached(dir: string): Promise<string> {
  const pkg = await readFile(join(dir, 'package.json'));
  const npmrc = await readFile(join(dir, '.npmrc')).catch(() => Buffer.from(''));
  const key = createHash('sha256').update(pkg).update(npmrc).digest('hex').slice(0, 16);
  const cache = join(tmpdir(), 'create-mlops-service-deps', key);
  if (existsSync(join(cache, 'node_modules/.package-lock.json'))) return cache;
  const staging = `${cache}.${process.pid}.${Date.now()}`;
  await mkdir(staging, { recursive: true });
  await copyFile(join(dir, 'package.json'), join(staging, 'package.json'));
  if (npmrc.length > 0) await copyFile(join(dir, '.npmrc'), join(staging, '.npmrc'));
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: staging,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'error', FORCE_COLOR: '0' },
  });
  if (r.status !== 0) throw new Error(`npm install failed in ${staging}:\n${r.stderr}`);
  try {
    await rename(staging, cache);
  } catch {
    // Another run installed it first: use theirs.
    await rm(staging, { recursive: true, force: true });
  }
  return cache;
}

/**
 * A fresh project rendered from `flags` (the bank-churn example model unless `flags.model` says
 * otherwise), its dependencies linked from the cache.
 */
export async function installedProject(flags: Record<string, unknown>): Promise<string> {
  const dir = await generateProject(flags, { prefix: 'cms-installed-' });
  const cache = await installCached(dir);
  await symlink(join(cache, 'node_modules'), join(dir, 'node_modules'), 'dir');
  await copyFile(join(cache, 'package-lock.json'), join(dir, 'package-lock.json'));
  return dir;
}

/** The part of the project's policy engine (scripts/check/check.js) the tests use. */
export interface Finding {
  readonly policy: string;
  readonly severity: 'error' | 'warning';
  readonly message: string;
  readonly fix: string;
  readonly adr: string;
  readonly file: string;
  readonly line?: number;
  readonly object?: string;
  readonly scope?: string;
}

export interface Policy {
  readonly id: string;
  readonly name: string;
  readonly kind: 'admission' | 'project';
  readonly target: string;
  readonly severity: 'error' | 'warning';
  readonly stages: readonly string[];
  readonly file: string;
  readonly object: Record<string, unknown>;
}

export interface K8sEnvironment {
  readonly id: string;
  readonly stage: string;
  readonly file: string;
  objects: Array<Record<string, any>>;
}

export interface ProjectModel {
  readonly root: string;
  manifests: K8sEnvironment[] | null;
  terraform: Array<{
    readonly name: string;
    readonly stage: string;
    backend: { type: string; config: unknown };
    resources: Array<{ type: string; name: string; address: string; values: any; refs: string[] }>;
  }> | null;
  source: { files: Array<{ path: string; imports: unknown[] }> };
  packageJson: {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
    scripts: Record<string, string>;
    lock: { exists: boolean; packages: Record<string, string> };
  } | null;
  dockerfile: unknown;
  workflows: Array<{ readonly file: string }>;
  files: Array<{ path: string; generated: boolean; edited: boolean; conflictLines: number[] }>;
  models: Array<{
    role: 'champion' | 'challenger';
    file: string;
    described: boolean;
    features: string[];
  }>;
  readonly notes: readonly string[];
}

export interface Engine {
  loadCatalogue(dir: string): { policies: readonly Policy[] };
  evaluate(
    policies: readonly Policy[],
    model: ProjectModel,
  ): { findings: Finding[]; evaluated: string[]; skipped: Array<{ policy: string }> };
  buildModel(root: string, options?: { k8s?: string; infra?: string }): Promise<ProjectModel>;
  parseImports(
    ts: unknown,
    path: string,
    text: string,
    exists: (p: string) => boolean,
  ): ProjectModel['source']['files'][number];
  parseDockerfile(text: string, file: string, context: { dockerignore: string | null }): unknown;
  parseWorkflow(text: string, file: string): ProjectModel['workflows'][number];
}

export async function loadEngine(dir: string): Promise<Engine> {
  return (await import(pathToFileURL(join(dir, 'scripts/check/check.js')).href)) as Engine;
}
