/**
 * The policy catalogue (`policies/` at the package root) as the Plan sees it: the policies that
 * apply to a project (the Kubernetes and cloud ones only when it has a cloud), grouped by area for
 * the agent files, the agent actions, and the catalogue files shipped into the project.
 *
 * The catalogue is read by the same loader the generated project's `npm run check` uses
 * (`templates/scripts/check/catalogue.js`), so the agent files and the check cannot read it two ways.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot, templatesDir } from '../version.js';

/** Where the catalogue lives in this package (and in every generated project). */
export const policiesDir = join(packageRoot, 'policies');
export const projectPoliciesDir = 'policies';

interface LoadedPolicy {
  readonly id: string;
  readonly name: string;
  readonly kind: 'admission' | 'project';
  readonly target: string;
  readonly title: string;
  readonly severity: 'error' | 'warning';
  readonly area: string;
  readonly adr: string;
  readonly rationale: string;
  readonly fix: string;
  readonly stages: readonly string[];
  readonly file: string;
}

interface LoadedArea {
  readonly id: string;
  readonly title: string;
  readonly always: boolean;
  readonly cloud: boolean;
  readonly globs: readonly string[];
  readonly verify: string;
}

interface LoadedCatalogue {
  readonly policies: readonly LoadedPolicy[];
  readonly areas: readonly LoadedArea[];
  readonly actions: {
    readonly auto: readonly string[];
    readonly consult: readonly string[];
    readonly stop: readonly string[];
  };
}

const loader = (await import(
  pathToFileURL(join(templatesDir, 'scripts/check/catalogue.js')).href
)) as { loadCatalogue(dir: string): LoadedCatalogue };

/** The whole catalogue, read once. */
export const catalogue: LoadedCatalogue = loader.loadCatalogue(policiesDir);

export interface PolicyView extends LoadedPolicy {
  /** `all stages`, or the stages it is limited to (`prod`, `staging, prod`). */
  readonly scope: string;
  /** Where it is enforced: `commit, CI and admission` or `commit and CI`. */
  readonly enforced: string;
}

export interface AreaView extends LoadedArea {
  /** `"src/**", "test/**"`: the globs as a YAML/JSON flow list body. */
  readonly globList: string;
  /** `src/**,test/**`: the globs as Cursor's comma-separated `globs:` value. */
  readonly globCsv: string;
  readonly policies: readonly PolicyView[];
}

export interface PolicyPlan {
  /** Every policy that applies to this project, by id. */
  readonly list: readonly PolicyView[];
  /** The areas with at least one policy (or `always`), in catalogue order. */
  readonly areas: readonly AreaView[];
  /** The same, by id (`policies.byArea.kubernetes`), for the per-area templates. */
  readonly byArea: Readonly<Record<string, AreaView>>;
  readonly actions: LoadedCatalogue['actions'];
  readonly counts: { readonly total: number; readonly admission: number; readonly errors: number };
  /** The ADRs the policies cite (project-relative paths), each once. */
  readonly adrs: readonly string[];
  /** The catalogue files shipped into the project (paths relative to `policies/`). */
  readonly files: readonly string[];
}

function view(p: LoadedPolicy): PolicyView {
  return {
    ...p,
    scope: p.stages.length === 3 ? 'all stages' : p.stages.join(', '),
    enforced: p.kind === 'admission' ? 'commit, CI and admission' : 'commit and CI',
  };
}

/** The part of the catalogue a project with (or without) a cloud gets. */
export function policyPlan(hasCloud: boolean): PolicyPlan {
  const areas = catalogue.areas.filter((a) => hasCloud || !a.cloud);
  const areaIds = new Set(areas.map((a) => a.id));
  const list = catalogue.policies.filter((p) => areaIds.has(p.area)).map(view);
  const areaViews = areas
    .map((a): AreaView => ({
      ...a,
      globList: a.globs.map((g) => JSON.stringify(g)).join(', '),
      globCsv: a.globs.join(','),
      policies: list.filter((p) => p.area === a.id),
    }))
    .filter((a) => a.always || a.policies.length > 0);
  const shipped = new Set(list.map((p) => p.file.replace(/^policies\//, '')));
  const files = ['README.md', 'agents.yaml', ...listCatalogueFiles().filter((f) => shipped.has(f))];
  return {
    list,
    areas: areaViews,
    byArea: Object.fromEntries(areaViews.map((a) => [a.id, a])),
    actions: catalogue.actions,
    counts: {
      total: list.length,
      admission: list.filter((p) => p.kind === 'admission').length,
      errors: list.filter((p) => p.severity === 'error').length,
    },
    adrs: [...new Set(list.map((p) => p.adr))].sort(),
    files,
  };
}

/** Policy files of the catalogue, relative to `policies/` (`kubernetes/MLOPS-010-....yaml`). */
function listCatalogueFiles(): string[] {
  return ['kubernetes', 'project'].flatMap((dir) =>
    readdirSync(join(policiesDir, dir))
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => `${dir}/${f}`),
  );
}

/** The catalogue files of a plan, as files to copy into the project (the package's catalogue). */
export function catalogueFiles(plan: {
  readonly policies: PolicyPlan;
}): Array<{ source: string; target: string }> {
  return plan.policies.files.map((f) => ({
    source: join(policiesDir, f),
    target: `${projectPoliciesDir}/${f}`,
  }));
}
