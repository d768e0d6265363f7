/**
 * The policy catalogue (`policies/`): one YAML file per policy, each a Kubernetes-shaped object.
 *
 * - `policies/kubernetes/*.yaml`: real `admissionregistration.k8s.io/v1` ValidatingAdmissionPolicy
 *   objects. `npm run check` evaluates them offline against the synthesized manifests, and the cdk8s
 *   app (deploy/k8s/policies.ts) emits the same objects with a binding per environment.
 * - `policies/project/*.yaml`: `ProjectPolicy` objects of the same shape (variables, validations
 *   with CEL `expression` and `messageExpression`) over a parsed model of the project.
 * - `policies/agents.yaml`: the areas the agent rule files are grouped by, and the actions an agent
 *   may take alone, must propose or must never take.
 *
 * Catalogue fields live in the object's metadata, so the object in the cluster carries them too:
 * the label `policy.mlops-service/id` and the annotations `policy.mlops-service/{title, severity,
 * area, adr, rationale, fix, stages}`.
 *
 * This module is plain JavaScript (checked by `tsc` through JSDoc) so that the project runs it with
 * node alone and create-mlops-service loads the very same file when it renders agent files.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const prefix = 'policy.mlops-service/';
export const vapApiVersion = 'admissionregistration.k8s.io/v1';
export const projectApiVersion = 'policy.mlops-service/v1alpha1';
export const severities = /** @type {const} */ (['error', 'warning']);
export const stages = /** @type {const} */ (['dev', 'staging', 'prod']);
export const targets = /** @type {const} */ ([
  'source',
  'packageJson',
  'dockerfile',
  'workflows',
  'terraform',
  'manifests',
  'files',
  'models',
]);

/** @typedef {import('./types.js').Policy} Policy */
/** @typedef {import('./types.js').Catalogue} Catalogue */
/** @typedef {import('./types.js').Area} Area */

export class CatalogueError extends Error {
  /** @param {string} message @param {string[]} [details] */
  constructor(message, details = []) {
    super(details.length > 0 ? `${message}\n  ${details.join('\n  ')}` : message);
    this.name = 'CatalogueError';
    this.details = details;
  }
}

/** @param {string} dir @returns {string[]} */
function yamlFiles(dir) {
  try {
    return readdirSync(dir)
      .filter((n) => n.endsWith('.yaml') || n.endsWith('.yml'))
      .sort();
  } catch {
    return [];
  }
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, any>}
 */
function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads and checks the catalogue in `dir` (a project's `policies/`). Throws a CatalogueError that
 * lists every problem at once.
 * @param {string} dir
 * @returns {Catalogue}
 */
export function loadCatalogue(dir) {
  /** @type {string[]} */
  const problems = [];
  /** @type {Policy[]} */
  const policies = [];
  const agents = loadAgents(join(dir, 'agents.yaml'), problems);
  const areaIds = new Set(agents.areas.map((a) => a.id));
  for (const kind of /** @type {const} */ (['kubernetes', 'project'])) {
    for (const name of yamlFiles(join(dir, kind))) {
      const file = `policies/${kind}/${name}`;
      let doc;
      try {
        doc = parse(readFileSync(join(dir, kind, name), 'utf8'));
      } catch (e) {
        problems.push(`${file}: not YAML: ${/** @type {Error} */ (e).message}`);
        continue;
      }
      const policy = readPolicy(doc, file, kind, problems);
      if (policy) {
        if (!areaIds.has(policy.area)) problems.push(`${file}: unknown area "${policy.area}"`);
        policies.push(policy);
      }
    }
  }
  const seen = new Map();
  for (const p of policies) {
    if (seen.has(p.id)) problems.push(`${p.file}: id ${p.id} is also used by ${seen.get(p.id)}`);
    seen.set(p.id, p.file);
    if (!p.file.includes(`/${p.id}-`))
      problems.push(`${p.file}: file name must start with ${p.id}-`);
  }
  if (problems.length > 0) throw new CatalogueError('The policy catalogue is invalid:', problems);
  policies.sort((a, b) => a.id.localeCompare(b.id));
  return { policies, areas: agents.areas, actions: agents.actions };
}

/**
 * One policy file read and checked; every problem found is added to `problems` (in file order:
 * identity, annotations, spec), and then there is no policy.
 * @param {any} doc
 * @param {string} file
 * @param {'kubernetes' | 'project'} kind
 * @param {string[]} problems
 * @returns {Policy | undefined}
 */
function readPolicy(doc, file, kind, problems) {
  const before = problems.length;
  const want =
    kind === 'kubernetes'
      ? { apiVersion: vapApiVersion, kind: 'ValidatingAdmissionPolicy' }
      : { apiVersion: projectApiVersion, kind: 'ProjectPolicy' };
  if (!isObject(doc) || doc.apiVersion !== want.apiVersion || doc.kind !== want.kind) {
    problems.push(`${file}: must be apiVersion ${want.apiVersion}, kind ${want.kind}`);
    return undefined;
  }
  const meta = isObject(doc.metadata) ? doc.metadata : {};
  const labels = isObject(meta.labels) ? meta.labels : {};
  const id = labels[`${prefix}id`];
  if (typeof id !== 'string' || !/^MLOPS-\d{3}$/.test(id))
    problems.push(`${file}: label ${prefix}id must be MLOPS-NNN`);
  if (typeof meta.name !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(meta.name))
    problems.push(`${file}: metadata.name must be a DNS label`);
  else if (typeof id === 'string' && !meta.name.startsWith(`${id.toLowerCase()}-`))
    problems.push(`${file}: metadata.name must start with ${id.toLowerCase()}-`);
  const notes = readAnnotations(isObject(meta.annotations) ? meta.annotations : {}, file, problems);
  const target = checkSpec(isObject(doc.spec) ? doc.spec : {}, kind, file, problems);
  if (problems.length > before) return undefined;
  return {
    id: /** @type {string} */ (id),
    name: meta.name,
    kind: kind === 'kubernetes' ? 'admission' : 'project',
    target: /** @type {Policy['target']} */ (target),
    ...notes,
    file,
    object: doc,
  };
}

/**
 * A policy's annotations: its title, severity, area, ADR, rationale, fix and the stages it applies
 * to, each required and checked.
 * @param {Record<string, unknown>} annotations @param {string} file @param {string[]} problems
 */
function readAnnotations(annotations, file, problems) {
  /** @param {string} field */
  const text = (field) => {
    const v = annotations[`${prefix}${field}`];
    if (typeof v !== 'string' || v.trim() === '') {
      problems.push(`${file}: annotation ${prefix}${field} is required`);
      return '';
    }
    return v.trim().replace(/\s+/g, ' ');
  };
  const title = text('title');
  const severity = text('severity');
  const area = text('area');
  const adr = text('adr');
  const rationale = text('rationale');
  const fix = text('fix');
  if (!(/** @type {readonly string[]} */ (severities).includes(severity)))
    problems.push(`${file}: severity must be one of ${severities.join(', ')}`);
  if (!/^docs\/adr\/\d{4}-[a-z0-9-]+\.md$/.test(adr))
    problems.push(`${file}: adr must be docs/adr/NNNN-name.md`);
  const stagesNote = annotations[`${prefix}stages`];
  const scoped =
    typeof stagesNote === 'string' ? stagesNote.split(',').map((s) => s.trim()) : [...stages];
  for (const s of scoped)
    if (!(/** @type {readonly string[]} */ (stages).includes(s)))
      problems.push(`${file}: unknown stage "${s}" in ${prefix}stages`);
  return {
    title,
    severity: /** @type {Policy['severity']} */ (severity),
    area,
    adr,
    rationale,
    fix,
    stages: /** @type {Policy['stages']} */ (scoped),
  };
}

/**
 * A policy's spec checked: CEL validations and variables, and what each kind needs (an admission
 * policy's resource rules; a project policy's target). Returns the target it checks.
 * @param {Record<string, any>} spec @param {'kubernetes' | 'project'} kind @param {string} file
 * @param {string[]} problems
 * @returns {string}
 */
function checkSpec(spec, kind, file, problems) {
  const validations = Array.isArray(spec.validations) ? spec.validations : [];
  if (validations.length === 0) problems.push(`${file}: spec.validations is empty`);
  for (const [i, v] of validations.entries()) {
    if (!isObject(v) || typeof v.expression !== 'string')
      problems.push(`${file}: spec.validations[${i}].expression must be a string`);
  }
  for (const [i, v] of (Array.isArray(spec.variables) ? spec.variables : []).entries()) {
    if (!isObject(v) || typeof v.name !== 'string' || typeof v.expression !== 'string')
      problems.push(`${file}: spec.variables[${i}] needs a name and an expression`);
  }
  if (kind === 'kubernetes') {
    if (spec.paramKind !== undefined)
      problems.push(`${file}: paramKind is not supported (the offline check has no params)`);
    if (!isObject(spec.matchConstraints) || !Array.isArray(spec.matchConstraints.resourceRules))
      problems.push(`${file}: spec.matchConstraints.resourceRules is required`);
    return 'manifests';
  }
  const target = spec.target;
  if (!(/** @type {readonly string[]} */ (targets).includes(target)))
    problems.push(`${file}: spec.target must be one of ${targets.join(', ')}`);
  if (spec.subjects !== undefined && typeof spec.subjects !== 'string')
    problems.push(`${file}: spec.subjects must be a CEL expression`);
  return target;
}

/**
 * @param {string} file
 * @param {string[]} problems
 * @returns {{ areas: Area[], actions: Catalogue['actions'] }}
 */
function loadAgents(file, problems) {
  /** @type {any} */
  let doc;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    problems.push(`policies/agents.yaml: ${/** @type {Error} */ (e).message}`);
    return { areas: [], actions: { auto: [], consult: [], stop: [] } };
  }
  /** @type {Area[]} */
  const areas = [];
  for (const a of Array.isArray(doc?.areas) ? doc.areas : []) {
    if (!isObject(a) || typeof a.id !== 'string' || typeof a.title !== 'string') {
      problems.push('policies/agents.yaml: each area needs an id and a title');
      continue;
    }
    areas.push({
      id: a.id,
      title: a.title,
      always: a.always === true,
      cloud: a.cloud === true,
      globs: Array.isArray(a.globs) ? a.globs.map(String) : [],
      verify: typeof a.verify === 'string' ? a.verify : 'npm run check',
    });
  }
  /** @param {string} mode @returns {string[]} */
  const list = (mode) => {
    const items = doc?.actions?.[mode];
    if (!Array.isArray(items) || items.length === 0) {
      problems.push(`policies/agents.yaml: actions.${mode} must list at least one action`);
      return [];
    }
    return items.map((s) => String(s).trim().replace(/\s+/g, ' '));
  };
  return { areas, actions: { auto: list('auto'), consult: list('consult'), stop: list('stop') } };
}
