/**
 * Renders every template of a plan into a directory (a staging directory: see `target.ts`).
 * node-plop drives the actions; templates compile in Handlebars' strict mode, so a template that
 * names a field the Plan lacks is an error instead of an empty string.
 */
import { copyFile, mkdir, readFile, writeFile, chmod, stat } from 'node:fs/promises';
import { dirname, isAbsolute, posix, resolve, sep } from 'node:path';
import type Handlebars from 'handlebars';
import nodePlop from 'node-plop';
import { UserError } from '../errors.js';
import type { Plan } from '../plan/plan.js';
import { catalogueFiles } from '../plan/policies.js';
import { templateHelpers } from './helpers.js';
import { type TemplateFile, listPartials, listTemplateFiles } from './template-files.js';

/** A file copied as it is from outside the templates (the model and its artifacts). */
export interface ExtraFile {
  readonly source: string;
  readonly target: string;
}

/** Resolves a project-relative path inside `root`, refusing anything that would leave it. */
export function insideRoot(root: string, target: string): string {
  const normal = posix.normalize(target);
  if (isAbsolute(target) || normal.startsWith('../') || normal === '..' || target.includes('\0')) {
    throw new UserError(`Refusing to write outside the project: ${JSON.stringify(target)}`);
  }
  const full = resolve(root, normal);
  if (full !== root && !full.startsWith(root + sep)) {
    throw new UserError(`Refusing to write outside the project: ${JSON.stringify(target)}`);
  }
  return full;
}

interface FileAction {
  type: 'render' | 'copy';
  source: string;
  target: string;
  abortOnFail: true;
}

/** Renders `plan` with the templates in `templatesDir` into `destDir`; returns the files written. */
export async function renderProject(
  plan: Plan,
  templatesDir: string,
  destDir: string,
  extra: readonly ExtraFile[] = [],
): Promise<string[]> {
  const templates = await listTemplateFiles(templatesDir, plan);
  const partials = await listPartials(templatesDir);
  const plop = await nodePlop(undefined, { destBasePath: destDir, force: false });
  // node-plop passes its Handlebars instance through (untyped in its .d.ts).
  const hbs = (plop as unknown as { handlebars: typeof Handlebars }).handlebars;
  for (const [name, fn] of Object.entries(templateHelpers)) plop.setHelper(name, fn);
  for (const partial of partials)
    hbs.registerPartial(partial.name, await readFile(partial.source, 'utf8'));
  // node-plop's case helpers (camelCase, kebabCase...) plus ours, on the instance we compile with.
  for (const name of plop.getHelperList()) {
    hbs.registerHelper(name, plop.getHelper(name) as Handlebars.HelperDelegate);
  }

  const writeOut = async (target: string, content: string | Buffer, source: string) => {
    const full = insideRoot(destDir, target);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content, { flag: 'wx' });
    const mode = (await stat(source)).mode & 0o111;
    if (mode) await chmod(full, 0o644 | mode);
    return target;
  };
  plop.setActionType('render', async (data, config) => {
    const { source, target } = config as unknown as FileAction;
    const template = await readFile(source, 'utf8');
    let out: string;
    try {
      out = hbs.compile(template, { strict: true })(data);
    } catch (err) {
      throw new Error(`${source}: ${(err as Error).message}`, { cause: err });
    }
    return writeOut(target, out, source);
  });
  plop.setActionType('copy', async (_data, config) => {
    const { source, target } = config as unknown as FileAction;
    const full = insideRoot(destDir, target);
    await mkdir(dirname(full), { recursive: true });
    await copyFile(source, full);
    return target;
  });

  const actions: FileAction[] = [
    ...templates.map((t: TemplateFile): FileAction => ({
      type: t.mode === 'render' ? 'render' : 'copy',
      source: t.source,
      target: t.target,
      abortOnFail: true,
    })),
    ...[...catalogueFiles(plan), ...extra].map((e): FileAction => ({
      type: 'copy',
      source: e.source,
      target: e.target,
      abortOnFail: true,
    })),
  ];
  const seen = new Set<string>();
  for (const a of actions) {
    if (seen.has(a.target)) throw new Error(`Two templates render to ${a.target}`);
    seen.add(a.target);
  }
  plop.setGenerator('project', {
    description: 'an ML inference service',
    prompts: [],
    actions: actions as never,
  });
  const { changes, failures } = await plop.getGenerator('project').runActions(plan as never);
  if (failures.length > 0) {
    const first = failures[0]!;
    throw new UserError(
      `Rendering failed: ${String(first.error)}`,
      failures.slice(1).map((f) => String(f.error)),
    );
  }
  return changes.map((c) => String(c.path));
}
