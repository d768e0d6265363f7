/**
 * `create-mlops-service check [dir]`: runs the project's own policy check (`scripts/check/`, the
 * engine behind its `npm run check`) on its own catalogue (`policies/`), in this process. One
 * engine, shipped in the project: the generator does not evaluate policies a second way, and
 * `check` here says exactly what the project's pre-commit hook and CI say.
 *
 * Exit codes: 0 no error-severity violation, 1 at least one, 2 the check could not run.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ExitCode, UserError } from '../errors.js';

export const checkEntry = 'scripts/check/check.js';

export interface CheckOptions {
  readonly dir: string;
  readonly format: 'text' | 'json' | 'sarif';
  readonly output?: string;
  readonly synth: boolean;
  readonly staged: boolean;
}

export interface CheckResult {
  readonly exitCode: number;
  readonly errors: number;
  readonly warnings: number;
}

interface Engine {
  runCheck(options: {
    root: string;
    format: CheckOptions['format'];
    output?: string;
    synth: boolean;
    staged: boolean;
  }): Promise<CheckResult>;
}

export async function check(options: CheckOptions): Promise<CheckResult> {
  const root = resolve(options.dir);
  const entry = join(root, checkEntry);
  if (!existsSync(entry)) {
    throw new UserError(
      `${root} has no policy check (${checkEntry})`,
      [
        'Run check in a project made by create-mlops-service (or its directory: check <dir>).',
        'A project made before the policy check: npx create-mlops-service upgrade adds it.',
      ],
      ExitCode.usage,
    );
  }
  if (!existsSync(join(root, 'node_modules/@marcbachmann/cel-js'))) {
    throw new UserError(
      `The project's dependencies are not installed in ${root}`,
      [
        'Run npm install there first: the check uses the project’s own CEL evaluator and synthesis.',
      ],
      ExitCode.usage,
    );
  }
  const engine = (await import(pathToFileURL(entry).href)) as Engine;
  try {
    return await engine.runCheck({
      root,
      format: options.format,
      ...(options.output ? { output: options.output } : {}),
      synth: options.synth,
      staged: options.staged,
    });
  } catch (e) {
    throw new UserError(`The check could not run: ${(e as Error).message}`, [], ExitCode.usage);
  }
}
