/**
 * Evaluates the catalogue over a project model with CEL (@marcbachmann/cel-js), the way the API
 * server evaluates a ValidatingAdmissionPolicy: match the object against `matchConstraints` and
 * `matchConditions`, compute `variables` in order, then every validation; a `false` is a violation
 * with the `messageExpression`'s text, an evaluation error is a violation too (failurePolicy Fail).
 *
 * Project policies have the same shape. Their `spec.subjects` (CEL over the target's variables)
 * lists the objects to validate, each bound to `object`; they may also call `selects(selector,
 * labels)`, the Kubernetes label-selector match, which admission policies cannot (it is not part of
 * the API server's CEL).
 */
import { Environment } from '@marcbachmann/cel-js';

/** @typedef {import('./types.js').Policy} Policy */
/** @typedef {import('./types.js').Finding} Finding */
/** @typedef {import('./types.js').ProjectModel} ProjectModel */
/** @typedef {import('./types.js').Location} Location */

/** Where a model object came from (set by model.js; invisible to CEL). */
export const location = Symbol('location');

/**
 * Kubernetes integers are CEL ints: JS numbers that are integers become BigInt, as the API server
 * would type them. Objects are copied; their location travels with them.
 * @param {unknown} value
 * @returns {unknown}
 */
export function toCel(value) {
  if (typeof value === 'number') return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === 'object') {
    /** @type {Record<string | symbol, unknown>} */
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) out[k] = toCel(v);
    }
    const loc = /** @type {any} */ (value)[location];
    if (loc) out[location] = loc;
    return out;
  }
  return value;
}

/**
 * @param {Record<string, any>} selector a LabelSelector
 * @param {Record<string, any>} labels
 */
export function selects(selector, labels) {
  const has = (/** @type {string} */ k) => Object.prototype.hasOwnProperty.call(labels, k);
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (!has(k) || labels[k] !== v) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const values = /** @type {string[]} */ (e.values ?? []);
    if (e.operator === 'In' && !(has(e.key) && values.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has(e.key) && values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has(e.key)) return false;
    if (e.operator === 'DoesNotExist' && has(e.key)) return false;
  }
  return true;
}

function admissionEnvironment() {
  return new Environment({ unlistedVariablesAreDyn: true });
}

function projectEnvironment() {
  return new Environment({ unlistedVariablesAreDyn: true }).registerFunction(
    'selects(map, map): bool',
    (/** @type {any} */ selector, /** @type {any} */ labels) => selects(selector, labels),
  );
}

/**
 * A compiled policy: every expression parsed once.
 * @typedef {{
 *   policy: Policy,
 *   subjects?: (ctx: object) => unknown,
 *   conditions: Array<{ name: string, run: (ctx: object) => unknown }>,
 *   variables: Array<{ name: string, run: (ctx: object) => unknown }>,
 *   validations: Array<{ expression: string, run: (ctx: object) => unknown,
 *     message?: (ctx: object) => unknown, text?: string }>,
 * }} Compiled
 */

/**
 * Parses every expression of every policy; throws with the list of those that do not parse.
 * @param {readonly Policy[]} policies
 * @returns {Compiled[]}
 */
export function compile(policies) {
  const admission = admissionEnvironment();
  const project = projectEnvironment();
  /** @type {string[]} */
  const problems = [];
  const compiled = policies.map((policy) => {
    const env = policy.kind === 'admission' ? admission : project;
    const spec = policy.object.spec ?? {};
    /** @param {string} expression @param {string} where */
    const parse = (expression, where) => {
      try {
        const fn = env.parse(expression);
        return /** @type {(ctx: object) => unknown} */ ((ctx) => fn(ctx));
      } catch (e) {
        problems.push(`${policy.file} ${where}: ${firstLine(e)}`);
        return () => undefined;
      }
    };
    /** @type {Compiled} */
    const c = {
      policy,
      conditions: (spec.matchConditions ?? []).map((/** @type {any} */ m) => ({
        name: String(m.name),
        run: parse(m.expression, `matchConditions ${m.name}`),
      })),
      variables: (spec.variables ?? []).map((/** @type {any} */ v) => ({
        name: String(v.name),
        run: parse(v.expression, `variable ${v.name}`),
      })),
      validations: (spec.validations ?? []).map(
        (/** @type {any} */ v, /** @type {number} */ i) => ({
          expression: v.expression,
          run: parse(v.expression, `validation ${i}`),
          ...(typeof v.messageExpression === 'string'
            ? { message: parse(v.messageExpression, `validation ${i} messageExpression`) }
            : {}),
          ...(typeof v.message === 'string' ? { text: v.message } : {}),
        }),
      ),
    };
    if (typeof spec.subjects === 'string') c.subjects = parse(spec.subjects, 'subjects');
    return c;
  });
  if (problems.length > 0) {
    throw new Error(`Policy expressions that do not parse:\n  ${problems.join('\n  ')}`);
  }
  return compiled;
}

/** @param {unknown} e */
function firstLine(e) {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

/**
 * Runs a policy's variables and validations for one `object`. Returns the failure messages.
 * @param {Compiled} c
 * @param {Record<string, unknown>} context the scope's variables, `object` included
 * @returns {string[]}
 */
function validate(c, context) {
  /** @type {Record<string, unknown>} */
  const variables = {};
  /** @type {Map<string, string>} */
  const broken = new Map();
  const ctx = { ...context, variables };
  for (const v of c.variables) {
    try {
      variables[v.name] = v.run(ctx);
    } catch (e) {
      broken.set(v.name, firstLine(e));
    }
  }
  /** @type {string[]} */
  const failures = [];
  for (const v of c.validations) {
    const uses = [...broken.keys()].find((n) =>
      new RegExp(`variables\\.${n}\\b`).test(v.expression),
    );
    if (uses) {
      failures.push(`could not evaluate variable ${uses}: ${broken.get(uses)}`);
      continue;
    }
    let ok;
    try {
      ok = v.run(ctx);
    } catch (e) {
      failures.push(`could not evaluate ${v.expression.slice(0, 80)}: ${firstLine(e)}`);
      continue;
    }
    if (ok === true) continue;
    let message = v.text ?? `failed: ${v.expression}`;
    if (v.message) {
      try {
        const m = v.message(ctx);
        if (typeof m === 'string' && m.trim() !== '') message = m;
      } catch {
        // K8s falls back to `message` as well.
      }
    }
    failures.push(ok === false ? message : `${message} (the expression gave ${String(ok)})`);
  }
  return failures;
}

const pluralExceptions = /** @type {Record<string, string>} */ ({
  Endpoints: 'endpoints',
});

/** `apps/v1` + `Deployment` -> { group: 'apps', version: 'v1', resource: 'deployments' }. */
/** @param {any} o */
function resourceOf(o) {
  const [group, version] = String(o.apiVersion ?? '').includes('/')
    ? String(o.apiVersion).split('/')
    : ['', String(o.apiVersion ?? '')];
  const kind = String(o.kind ?? '');
  const lower = kind.toLowerCase();
  const resource =
    pluralExceptions[kind] ??
    (lower.endsWith('y')
      ? `${lower.slice(0, -1)}ies`
      : lower.endsWith('s')
        ? `${lower}es`
        : `${lower}s`);
  return { group: group ?? '', version: version ?? '', resource };
}

/**
 * @param {any[] | undefined} rules
 * @param {{ group: string, version: string, resource: string }} r
 */
function ruleMatches(rules, r) {
  const any = (/** @type {string[] | undefined} */ list, /** @type {string} */ v) =>
    Array.isArray(list) && (list.includes('*') || list.includes(v));
  return (rules ?? []).some(
    (rule) =>
      any(rule.apiGroups, r.group) &&
      any(rule.apiVersions, r.version) &&
      any(rule.resources, r.resource) &&
      (rule.operations === undefined || any(rule.operations, 'CREATE')),
  );
}

/**
 * Whether an admission policy applies to an object (as a CREATE of it).
 * @param {Compiled} c
 * @param {any} object
 * @param {Record<string, unknown>} ctx
 * @returns {true | false | string} a string when a match condition could not be evaluated
 */
function admissionMatches(c, object, ctx) {
  const m = c.policy.object.spec.matchConstraints ?? {};
  const r = resourceOf(object);
  if (!ruleMatches(m.resourceRules, r) || ruleMatches(m.excludeResourceRules, r)) return false;
  if (m.objectSelector && !selects(m.objectSelector, object.metadata?.labels ?? {})) return false;
  for (const cond of c.conditions) {
    try {
      if (cond.run(ctx) !== true) return false;
    } catch (e) {
      return `match condition ${cond.name}: ${firstLine(e)}`;
    }
  }
  return true;
}

/**
 * @param {Compiled} c
 * @param {string} message
 * @param {Location} where
 * @param {string} [scope]
 * @returns {Finding}
 */
function finding(c, message, where, scope) {
  const p = c.policy;
  return {
    policy: p.id,
    title: p.title,
    severity: p.severity,
    message,
    fix: p.fix,
    adr: p.adr,
    file: where.file,
    ...(where.line ? { line: where.line } : {}),
    ...(where.object ? { object: where.object } : {}),
    ...(scope ? { scope } : {}),
  };
}

/**
 * Where a subject is: its own location when the model recorded one, else the scope's file.
 * @param {any} subject
 * @param {string} file
 * @returns {Location}
 */
function locate(subject, file) {
  const recorded = subject?.[location];
  if (recorded) return recorded;
  /** @type {string | undefined} */
  let object;
  if (subject && typeof subject === 'object') {
    if (typeof subject.kind === 'string' && subject.metadata?.name)
      object = `${subject.kind}/${subject.metadata.name}`;
    else if (typeof subject.address === 'string') object = subject.address;
    else if (typeof subject.uses === 'string') object = subject.uses;
    else if (typeof subject.keyword === 'string') object = subject.keyword;
    else if (typeof subject.name === 'string' && subject.name !== '') object = subject.name;
  }
  const own = typeof subject?.path === 'string' ? subject.path : subject?.file;
  const line =
    typeof subject?.line === 'bigint' || typeof subject?.line === 'number'
      ? Number(subject.line)
      : undefined;
  return {
    file: typeof own === 'string' ? own : file,
    ...(line ? { line } : {}),
    ...(object ? { object } : {}),
  };
}

/**
 * The scopes a target is evaluated in: each with its CEL variables and a default file.
 * @param {import('./types.js').Target} target
 * @param {ProjectModel} model
 * @param {readonly Policy[]} catalogue
 * @returns {Array<{ vars: Record<string, unknown>, file: string, scope?: string, stage?: string }> | null}
 */
function scopesOf(target, model, catalogue) {
  switch (target) {
    case 'source':
      return [{ vars: { source: toCel(model.source) }, file: 'src' }];
    case 'packageJson':
      return model.packageJson
        ? [{ vars: { packageJson: toCel(model.packageJson) }, file: model.packageJson.file }]
        : null;
    case 'dockerfile':
      return model.dockerfile
        ? [{ vars: { dockerfile: toCel(model.dockerfile) }, file: model.dockerfile.file }]
        : null;
    case 'workflows':
      return model.workflows.length > 0
        ? model.workflows.map((w) => ({ vars: { workflow: toCel(w) }, file: w.file }))
        : null;
    case 'terraform':
      return model.terraform
        ? model.terraform.map((s) => ({
            vars: { stack: toCel(s) },
            file: s.file,
            scope: s.name,
            stage: s.stage,
          }))
        : null;
    case 'manifests':
      return model.manifests
        ? model.manifests.map((e) => ({
            vars: {
              environment: toCel({ id: e.id, stage: e.stage, cloud: e.cloud }),
              manifests: toCel(e.objects),
              // The catalogue's admission policies, to check the cluster gets them unchanged.
              policies: toCel(
                catalogue
                  .filter((p) => p.kind === 'admission')
                  .map((p) => ({ id: p.id, name: p.name, stages: p.stages, object: p.object })),
              ),
            },
            file: e.file,
            scope: e.id,
            stage: e.stage,
          }))
        : null;
    case 'files':
      return [{ vars: { files: toCel(model.files) }, file: '.' }];
    case 'models':
      return model.models.length > 0
        ? [{ vars: { models: toCel(model.models) }, file: model.models[0]?.file ?? 'model' }]
        : null;
  }
}

/**
 * Evaluates every policy. `skipped` lists the policies whose target is not in the model.
 * @param {readonly Policy[]} policies
 * @param {ProjectModel} model
 * @returns {{ findings: Finding[], evaluated: string[], skipped: Array<{ policy: string, reason: string }> }}
 */
export function evaluate(policies, model) {
  const compiled = compile(policies);
  /** @type {Finding[]} */
  const findings = [];
  /** @type {string[]} */
  const evaluated = [];
  /** @type {Array<{ policy: string, reason: string }>} */
  const skipped = [];
  /** @type {Map<string, ReturnType<typeof scopesOf>>} */
  const scopeCache = new Map();
  const scopes = (/** @type {import('./types.js').Target} */ t) => {
    if (!scopeCache.has(t)) scopeCache.set(t, scopesOf(t, model, policies));
    return scopeCache.get(t) ?? null;
  };
  for (const c of compiled) {
    const p = c.policy;
    const list = scopes(p.target);
    if (!list) {
      skipped.push({ policy: p.id, reason: `no ${p.target} in this project or not synthesized` });
      continue;
    }
    evaluated.push(p.id);
    for (const s of list) {
      if (
        s.stage &&
        p.stages.length < 3 &&
        !(/** @type {readonly string[]} */ (p.stages).includes(s.stage))
      )
        continue;
      if (p.kind === 'admission') {
        for (const object of /** @type {any[]} */ (s.vars.manifests)) {
          const ctx = { object, oldObject: null, request: { operation: 'CREATE' } };
          const match = admissionMatches(c, object, ctx);
          if (match === false) continue;
          const where = locate(object, s.file);
          const failures = match === true ? validate(c, ctx) : [match];
          for (const f of failures) findings.push(finding(c, f, where, s.scope));
        }
        continue;
      }
      let subjects;
      try {
        subjects = c.subjects ? c.subjects(s.vars) : [Object.values(s.vars)[0]];
      } catch (e) {
        findings.push(
          finding(c, `could not evaluate subjects: ${firstLine(e)}`, { file: p.file }, s.scope),
        );
        continue;
      }
      if (!Array.isArray(subjects)) {
        findings.push(finding(c, 'spec.subjects did not give a list', { file: p.file }, s.scope));
        continue;
      }
      for (const object of subjects) {
        const failures = validate(c, { ...s.vars, object });
        const where = locate(object, s.file);
        for (const f of failures) findings.push(finding(c, f, where, s.scope));
      }
    }
  }
  return { findings, evaluated, skipped };
}
