/**
 * `npm run check` (and `npx create-mlops-service check`, which loads this very file from the
 * project): synthesize what is needed, evaluate every policy of `policies/`, report.
 *
 * Exit code: 0 when no error-severity policy fails (warnings are reported), 1 when one does, 2 when
 * the check itself could not run (a synthesis failed, the catalogue is invalid).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadCatalogue } from './catalogue.js';
import { compile, evaluate } from './evaluate.js';
import { buildModel } from './model.js';
import { formatJson, formatSarif, formatText } from './report.js';

export { loadCatalogue } from './catalogue.js';
export { evaluate, compile, selects, toCel, location } from './evaluate.js';
export {
  buildModel,
  pinImages,
  readManifests,
  readTerraform,
  readFiles,
  terraformStack,
} from './model.js';
export { parseDockerfile, parseImports, parseWorkflow } from './parse.js';
export { formatJson, formatSarif, formatText } from './report.js';

/** @typedef {import('./report.js').Report} Report */
/** @typedef {import('./types.js').ProjectModel} ProjectModel */

export const formats = /** @type {const} */ (['text', 'json', 'sarif']);

/**
 * @typedef {{
 *   root?: string,
 *   format?: 'text' | 'json' | 'sarif',
 *   output?: string,
 *   synth?: boolean,
 *   staged?: boolean,
 *   stdout?: (text: string) => void,
 * }} CheckOptions
 */

/**
 * Paths whose change needs the Kubernetes or Terraform synthesis before a commit.
 * @param {string[]} paths
 */
export function synthFor(paths) {
  const any = (/** @type {RegExp} */ re) => paths.some((p) => re.test(p));
  const all = any(/^(policies\/|package(-lock)?\.json$|scripts\/check\/)/);
  return {
    k8s: all || any(/^deploy\/(k8s\/|plan\.ts$)/),
    infra: all || any(/^deploy\/(infra\/|plan\.ts$)/),
  };
}

/** @param {string} root */
function stagedPaths(root) {
  try {
    return execFileSync('git', ['diff', '--cached', '--name-only', '--diff-filter=ACMR'], {
      cwd: root,
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean);
  } catch {
    return null;
  }
}

/**
 * Evaluates a catalogue over a model and summarizes: the function behind every output format.
 * @param {import('./types.js').Catalogue} catalogue
 * @param {ProjectModel} model
 * @returns {Report}
 */
export function checkModel(catalogue, model) {
  const { findings, evaluated, skipped } = evaluate(catalogue.policies, model);
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.length - errors;
  return {
    ok: errors === 0,
    exitCode: errors > 0 ? 1 : 0,
    errors,
    warnings,
    findings,
    policies: catalogue.policies.map((p) => ({
      id: p.id,
      title: p.title,
      severity: p.severity,
      adr: p.adr,
      file: p.file,
    })),
    evaluated,
    skipped,
    edited: model.files.filter((f) => f.edited).map((f) => f.path),
    notes: [...model.notes],
  };
}

/**
 * Runs the whole check and writes the report. Returns the report (its `exitCode` is what the
 * process should exit with).
 * @param {CheckOptions} [options]
 * @returns {Promise<Report>}
 */
export async function runCheck(options = {}) {
  const root = resolve(options.root ?? '.');
  const format = options.format ?? 'text';
  const write = options.stdout ?? ((/** @type {string} */ s) => void process.stdout.write(s));
  /** @type {import('./model.js').SynthMode} */
  const mode = options.synth === false ? 'read' : 'synth';
  /** @type {import('./model.js').ModelOptions} */
  let parts = { k8s: mode, infra: mode };
  /** @type {string[]} */
  const notes = [];
  if (options.staged) {
    const staged = stagedPaths(root);
    if (staged) {
      const wanted = synthFor(staged);
      parts = { k8s: wanted.k8s ? mode : 'skip', infra: wanted.infra ? mode : 'skip' };
      if (!wanted.k8s || !wanted.infra)
        notes.push('pre-commit: what the staged files cannot change was not synthesized');
    }
  }
  // The catalogue first: a broken policy fails before minutes of synthesis.
  const catalogue = loadCatalogue(join(root, 'policies'));
  compile(catalogue.policies);
  const model = await buildModel(root, parts);
  const report = checkModel(catalogue, model);
  report.notes.unshift(...notes);
  const text =
    format === 'json'
      ? formatJson(report)
      : format === 'sarif'
        ? formatSarif(report, toolOf(root))
        : formatText(report);
  if (options.output) {
    writeFileSync(resolve(root, options.output), text);
    if (format !== 'text') write(formatText(report));
  } else {
    write(text);
  }
  return report;
}

/** @param {string} root */
function toolOf(root) {
  try {
    const record = JSON.parse(readFileSync(join(root, '.mlops-service/manifest.json'), 'utf8'));
    return { name: 'mlops-service-check', version: String(record.generator?.version ?? '0.0.0') };
  } catch {
    return { name: 'mlops-service-check', version: '0.0.0' };
  }
}
