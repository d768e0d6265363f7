/**
 * Which template files a plan renders, where they land, and how.
 *
 * - `name.ext.hbs` is rendered with Handlebars (strict: a missing field is an error) and loses `.hbs`;
 *   every other file is copied byte for byte ("raw"), so GitHub Actions `${{ }}` and code stay literal.
 * - A leading `_` on a dotfile's name stands for the dot (`_gitignore` -> `.gitignore`): npm pack
 *   drops real `.gitignore`/`.npmrc` files from the published package.
 * - Files under `_partials/` are Handlebars partials (`{{> name}}`, name = file name without
 *   `.hbs`), so each part of the template can own its section of a shared file such as the README.
 * - A path segment `[cloud-gcp]`, `[cloud-aws]` or `[cloud-any]` includes its subtree only when the
 *   plan targets that cloud (any cloud); the segment itself is removed from the output path.
 * - `[model-features]` includes its subtree for models served from named features (records, text),
 *   `[model-tensors]` for models served from named tensors (`contract.kind === 'tensors'`).
 * - `[model-judged]` includes its subtree when predictions have a label or a value that feedback
 *   can judge (every task but `tensor`): the challenger, live quality and their workflows.
 * - `[model-in-lfs]` includes its subtree when the model is kept in Git LFS (`plan.largeModelFile`):
 *   `.gitattributes` and the husky pre-push hook that uploads the LFS objects.
 */
import { readdir } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import type { Plan } from '../plan/plan.js';

export interface TemplateFile {
  /** Absolute path of the template. */
  readonly source: string;
  /** Project-relative POSIX path it renders to. */
  readonly target: string;
  readonly mode: 'render' | 'raw';
}

const conditions: Record<string, (plan: Plan) => boolean> = {
  '[cloud-gcp]': (p) => p.clouds.gcp,
  '[cloud-aws]': (p) => p.clouds.aws,
  '[cloud-any]': (p) => p.clouds.list.length > 0,
  '[model-features]': (p) => p.model.kind !== 'tensors',
  '[model-tensors]': (p) => p.model.kind === 'tensors',
  '[model-judged]': (p) => p.model.task !== 'tensor',
  '[model-in-lfs]': (p) => p.largeModelFile !== undefined,
};

const dotfileAliases: Record<string, string> = {
  _gitignore: '.gitignore',
  _gitattributes: '.gitattributes',
  _npmrc: '.npmrc',
  _dockerignore: '.dockerignore',
  _prettierrc: '.prettierrc',
  _prettierignore: '.prettierignore',
  _github: '.github',
  _husky: '.husky',
  _windsurf: '.windsurf',
  _cursor: '.cursor',
  '_mlops-service': '.mlops-service',
  '_lintstagedrc.json': '.lintstagedrc.json',
  '_secretlintrc.json': '.secretlintrc.json',
  _secretlintignore: '.secretlintignore',
};

export const partialsDirName = '_partials';

export async function listTemplateFiles(templatesDir: string, plan: Plan): Promise<TemplateFile[]> {
  const entries = await readdir(templatesDir, { recursive: true, withFileTypes: true });
  const files: TemplateFile[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const source = join(entry.parentPath, entry.name);
    const segments = relative(templatesDir, source).split(sep);
    if (segments[0] === partialsDirName) continue;
    if (!segments.every((s) => !(s in conditions) || conditions[s]!(plan))) continue;
    const kept = segments.filter((s) => !(s in conditions));
    const mode = kept[kept.length - 1]!.endsWith('.hbs') ? 'render' : 'raw';
    if (mode === 'render') kept[kept.length - 1] = kept[kept.length - 1]!.slice(0, -'.hbs'.length);
    const target = posix.join(...kept.map((s) => dotfileAliases[s] ?? s));
    files.push({ source, target, mode });
  }
  return files.sort((a, b) => a.target.localeCompare(b.target));
}

/** The partials: `_partials/readme-service.hbs` is `{{> readme-service}}`. */
export async function listPartials(
  templatesDir: string,
): Promise<Array<{ name: string; source: string }>> {
  const dir = join(templatesDir, partialsDirName);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.hbs'))
    .sort()
    .map((n) => ({ name: n.slice(0, -'.hbs'.length), source: join(dir, n) }));
}
