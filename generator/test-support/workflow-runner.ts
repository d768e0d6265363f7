/**
 * Runs one job of a GitHub Actions workflow the way a runner would, as far as a rehearsal needs:
 * steps in order, `if:` conditions and `${{ }}` expressions evaluated with GitHub's own expression
 * library (@actions/expressions), `run:` scripts in bash with the runner's environment
 * (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP...), step outputs and outcomes, and the status
 * functions (a failed step skips the rest, except steps whose `if` asks for `failure()`).
 * `uses:` steps are not run: they are recorded with their evaluated inputs, so a test can assert
 * what an action was given (an identity, a cluster endpoint...).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';

export interface WorkflowStep {
  readonly id?: string;
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly if?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, unknown>;
  readonly 'working-directory'?: string;
}

export interface RecordedStep {
  readonly name: string;
  readonly kind: 'run' | 'uses' | 'skipped';
  readonly outcome: 'success' | 'failure' | 'skipped';
  /** The action (for `uses`) and its evaluated inputs. */
  readonly uses?: string;
  readonly with?: Record<string, string>;
  readonly output?: string;
  /** What a `run:` step wrote to GITHUB_OUTPUT. */
  readonly outputs?: Record<string, string>;
}

export interface RunnerOptions {
  readonly cwd: string;
  /** The contexts the expressions read: inputs, vars, github, secrets. */
  readonly contexts: Record<string, unknown>;
  /** Job-level `env:`. */
  readonly env?: Record<string, unknown>;
  /** Extra process environment for `run:` steps (PATH with stand-ins, ...). */
  readonly processEnv?: NodeJS.ProcessEnv;
  /** Outputs a `uses:` step would set, by step id. */
  readonly actionOutputs?: Record<string, Record<string, string>>;
  /** `run:` scripts that are not run but recorded as passed (tested elsewhere), by prefix. */
  readonly notRun?: readonly string[];
}

const contextNames = ['inputs', 'vars', 'github', 'secrets', 'env', 'steps', 'needs', 'runner'];

function toData(value: unknown): data.ExpressionData {
  if (value === null || value === undefined) return new data.Null();
  if (typeof value === 'string') return new data.StringData(value);
  if (typeof value === 'number') return new data.NumberData(value);
  if (typeof value === 'boolean') return new data.BooleanData(value);
  if (Array.isArray(value)) return new data.Array(...value.map(toData));
  return new data.Dictionary(
    ...Object.entries(value as Record<string, unknown>).map(([key, v]) => ({
      key,
      value: toData(v),
    })),
  );
}

/** Evaluates one expression (without `${{ }}`) against `contexts`. */
export function evaluate(
  expression: string,
  contexts: Record<string, unknown>,
): data.ExpressionData {
  const lexed = new Lexer(expression).lex();
  const parsed = new Parser(lexed.tokens, contextNames, []).parse();
  return new Evaluator(parsed, toData(contexts) as data.Dictionary).evaluate();
}

/** A string with `${{ }}` parts, interpolated. */
export function interpolate(text: string, contexts: Record<string, unknown>): string {
  return text.replace(/\$\{\{([\s\S]+?)\}\}/g, (_, e: string) =>
    evaluate(e.trim(), contexts).coerceString(),
  );
}

/** An `if:` with the job's status so far: success(), failure(), always(), cancelled(). */
function shouldRun(
  condition: string | undefined,
  failed: boolean,
  contexts: Record<string, unknown>,
): boolean {
  const raw = (condition ?? 'success()').replace(/^\$\{\{([\s\S]*)\}\}$/, '$1').trim();
  const withStatus = /\b(success|failure|always|cancelled)\(\)/.test(raw)
    ? raw
    : `success() && (${raw})`;
  const resolved = withStatus
    .replace(/\bsuccess\(\)/g, String(!failed))
    .replace(/\bfailure\(\)/g, String(failed))
    .replace(/\balways\(\)/g, 'true')
    .replace(/\bcancelled\(\)/g, 'false');
  return truthy(evaluate(resolved, contexts));
}

/** GitHub's truthiness: false, null, 0, NaN and '' are false. */
function truthy(d: data.ExpressionData): boolean {
  switch (d.kind) {
    case data.Kind.Null:
      return false;
    case data.Kind.Boolean:
      return (d as data.BooleanData).value;
    case data.Kind.Number:
      return d.number() !== 0 && !Number.isNaN(d.number());
    case data.Kind.String:
      return d.coerceString() !== '';
    default:
      return true;
  }
}

const evaluated = (
  values: Record<string, unknown> | undefined,
  contexts: Record<string, unknown>,
) =>
  Object.fromEntries(
    Object.entries(values ?? {}).map(([k, v]) => [k, interpolate(String(v), contexts)]),
  );

function readOutputs(file: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) outputs[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return outputs;
}

/** Runs the steps; returns what each did, in order. */
export function runJob(steps: readonly WorkflowStep[], options: RunnerOptions): RecordedStep[] {
  const temp = mkdtempSync(join(tmpdir(), 'runner-'));
  const stepsContext: Record<string, { outputs: Record<string, string>; outcome: string }> = {};
  const contexts = () => ({ ...options.contexts, steps: stepsContext, env: jobEnv });
  const jobEnv: Record<string, string> = {};
  Object.assign(jobEnv, evaluated(options.env, { ...options.contexts, steps: stepsContext }));
  const recorded: RecordedStep[] = [];
  let failed = false;
  for (const [i, step] of steps.entries()) {
    const name = step.name ?? step.uses ?? step.run?.split('\n')[0] ?? `step ${i}`;
    if (!shouldRun(step.if, failed, contexts())) {
      recorded.push({ name, kind: 'skipped', outcome: 'skipped' });
      if (step.id) stepsContext[step.id] = { outputs: {}, outcome: 'skipped' };
      continue;
    }
    if (step.uses) {
      const outputs = (step.id && options.actionOutputs?.[step.id]) || {};
      recorded.push({
        name,
        kind: 'uses',
        outcome: 'success',
        uses: step.uses,
        with: evaluated(step.with, contexts()),
      });
      if (step.id) stepsContext[step.id] = { outputs, outcome: 'success' };
      continue;
    }
    const script = step.run ?? '';
    if (options.notRun?.some((prefix) => script.trim().startsWith(prefix))) {
      recorded.push({ name, kind: 'run', outcome: 'success', output: '(not run here)' });
      continue;
    }
    const outputFile = join(temp, `output-${i}`);
    writeFileSync(outputFile, '');
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
      cwd: join(options.cwd, interpolate(step['working-directory'] ?? '.', contexts())),
      encoding: 'utf8',
      env: {
        ...process.env,
        ...options.processEnv,
        ...jobEnv,
        ...evaluated(step.env, contexts()),
        GITHUB_OUTPUT: outputFile,
        GITHUB_STEP_SUMMARY: join(temp, 'summary.md'),
        RUNNER_TEMP: temp,
      },
    });
    if (r.error) throw r.error;
    const outcome = r.status === 0 ? 'success' : 'failure';
    if (outcome === 'failure') failed = true;
    const outputs = readOutputs(outputFile);
    recorded.push({ name, kind: 'run', outcome, output: `${r.stdout}${r.stderr}`, outputs });
    if (step.id) stepsContext[step.id] = { outputs, outcome };
  }
  return recorded;
}
