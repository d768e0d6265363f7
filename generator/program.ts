/**
 * The `create-mlops-service` command line (the program; `cli.ts` runs it). Commands: create
 * (default), schema, upgrade, check, diff. Each command's module is loaded on use.
 */
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, UserError } from './errors.js';
import { answerFields, answerKeys, flagName } from './answers/schema.js';
import { generatorVersion } from './version.js';

function isInteractive(opts: { yes?: boolean; json?: boolean; interactive?: boolean }): boolean {
  if (opts.interactive === false || opts.yes || opts.json) return false;
  if (process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0') return false;
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

/** What a command wants the process to exit with when it did not throw (upgrade: 3 on conflicts). */
export interface RunState {
  exitCode: ExitCode;
}

export function buildProgram(state: RunState = { exitCode: ExitCode.ok }): Command {
  const program = new Command('create-mlops-service')
    .description('Stamp out a production-grade ML inference service from an ONNX model.')
    .version(generatorVersion, '-v, --version')
    // Options after a subcommand are the subcommand's (`upgrade --json`), not the program's.
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      writeOut: (s) => process.stdout.write(s),
    });
  addCreate(program);
  addSchema(program);
  addUpgrade(program, state);
  addCheck(program, state);
  addDiff(program);
  return program;
}

/** The default command, create: its own flags and one per answer. */
function addCreate(program: Command): void {
  program
    .argument('[dir]', 'directory to create (default: the service name)')
    .option('--answers <file>', 'JSON file of answers (flags win over it)')
    .option('-y, --yes', 'take the default for every question not answered (no prompts)', false)
    .option('--overwrite', 'replace the contents of a non-empty directory', false)
    .option('--no-git', 'do not run git init / first commit')
    .option('--no-install', 'do not run npm install')
    .option('--json', 'print a machine-readable report on stdout', false)
    .option('--no-interactive', 'never prompt, even in a terminal');
  for (const key of answerKeys) {
    const { schema, meta } = answerFields[key];
    const option = new Option(
      `--${flagName(key)} <${meta.kind === 'number' ? 'n' : meta.kind === 'list' ? 'a,b,...' : 'value'}>`,
      schema.description ?? meta.message,
    );
    program.addOption(option);
  }
  program.action(async (dir: string | undefined, opts: Record<string, unknown>) => {
    const flags = Object.fromEntries(answerKeys.map((k) => [k, opts[k]]));
    // Loaded on use: `--help` and `--version` stay fast.
    const { create } = await import('./commands/create.js');
    const report = await create({
      ...(dir !== undefined ? { dir } : {}),
      ...(typeof opts.answers === 'string' ? { answersFile: opts.answers } : {}),
      yes: Boolean(opts.yes),
      overwrite: Boolean(opts.overwrite),
      git: opts.git !== false,
      install: opts.install !== false,
      json: Boolean(opts.json),
      interactive: isInteractive(opts as { yes?: boolean; json?: boolean; interactive?: boolean }),
      flags,
    });
    if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  });
}

/** `schema`: the JSON Schema of the answers file, or of model.schema.json. */
function addSchema(program: Command): void {
  program
    .command('schema')
    .description(
      'print the JSON Schema of the answers file (or, with --sidecar, of model.schema.json)',
    )
    .option('--sidecar', 'the schema of model.schema.json instead', false)
    .action(async (opts: { sidecar: boolean }) => {
      const { schemaCommand } = await import('./commands/schema.js');
      process.stdout.write(schemaCommand(opts));
    });
}

/** `upgrade`: the current templates merged into a generated project. */
function addUpgrade(program: Command, state: RunState): void {
  program
    .command('upgrade')
    .description(
      'merge the current templates into this generated project, keeping your edits (exit 3: conflicts to resolve)',
    )
    .argument('[dir]', 'the generated project', '.')
    .option(
      '--to <version>',
      "the version to upgrade to (only this generator's own is available offline)",
    )
    .option(
      '--dry-run',
      'print the unified diff of what would change; write nothing (exit 3 if it would conflict)',
      false,
    )
    .option('--json', 'print the report (as in .mlops-service/UPDATE_REPORT.json) on stdout', false)
    .option(
      '--model <path>',
      "replace the project's model and its artifacts (model/) with this .onnx file's, or a folder's",
    )
    .option(
      '--allow-dirty',
      'upgrade even with uncommitted changes, or outside a git repository',
      false,
    )
    .option(
      '--base <dir>',
      'a pristine render of the recorded version, when the project lost its base',
    )
    .option('--no-interactive', 'never prompt for new questions (they take their defaults)')
    .addOption(
      new Option(
        '--templates <dir>',
        'render the new version from this template tree (template development, tests)',
      ).hideHelp(),
    )
    .action(async (dir: string, opts: Record<string, unknown>) => {
      const { upgrade } = await import('./commands/upgrade.js');
      const json = Boolean(opts.json);
      const result = await upgrade({
        dir,
        ...(typeof opts.to === 'string' ? { to: opts.to } : {}),
        dryRun: Boolean(opts.dryRun),
        json,
        allowDirty: Boolean(opts.allowDirty),
        interactive: isInteractive({ json, interactive: opts.interactive as boolean }),
        ...(typeof opts.base === 'string' ? { baseDir: opts.base } : {}),
        ...(typeof opts.model === 'string' ? { model: opts.model } : {}),
        ...(typeof opts.templates === 'string' ? { templatesDir: opts.templates } : {}),
      });
      if (json) {
        const out = opts.dryRun ? { ...result.report, diff: result.diff } : result.report;
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      } else if (opts.dryRun) {
        process.stdout.write(result.diff);
      }
      state.exitCode = result.report.exitCode as ExitCode;
    });
}

/** `check`: the project's policies evaluated. */
function addCheck(program: Command, state: RunState): void {
  program
    .command('check')
    .description(
      "evaluate the project's policies (policies/): exit 1 on an error, 2 if the check cannot run",
    )
    .argument('[dir]', 'the generated project', '.')
    .addOption(
      new Option('--format <format>', 'report format')
        .choices(['text', 'json', 'sarif'])
        .default('text'),
    )
    .option('--output <file>', 'write the report to this file (a text summary goes to stdout)')
    .option(
      '--no-synth',
      'use the last synthesis (deploy/k8s/dist, deploy/infra/cdktf.out) instead of running it',
    )
    .option('--staged', 'pre-commit mode: synthesize only what the staged files can change', false)
    .action(async (dir: string, opts: Record<string, unknown>) => {
      const { check } = await import('./commands/check.js');
      const result = await check({
        dir,
        format: opts.format as 'text' | 'json' | 'sarif',
        ...(typeof opts.output === 'string' ? { output: opts.output } : {}),
        synth: opts.synth !== false,
        staged: Boolean(opts.staged),
      });
      state.exitCode = result.exitCode as ExitCode;
    });
}

/** `diff`: the user's edits against the pristine render. */
function addDiff(program: Command): void {
  program
    .command('diff')
    .description('show your edits against the pristine render of the recorded version')
    .argument('[paths...]', 'only these files or folders')
    .option('-C, --dir <dir>', 'the generated project', '.')
    .option(
      '--base <dir>',
      'a pristine render of the recorded version, when the project lost its base',
    )
    .option('--json', 'print the list of edited files as JSON', false)
    .action(async (paths: string[], opts: { dir: string; base?: string; json: boolean }) => {
      const { diffProject } = await import('./commands/diff.js');
      const result = await diffProject({
        dir: opts.dir,
        paths,
        ...(opts.base ? { baseDir: opts.base } : {}),
      });
      process.stdout.write(
        opts.json
          ? `${JSON.stringify({ files: result.files, base: result.base }, null, 2)}\n`
          : result.diff,
      );
    });
}

export async function main(argv: string[]): Promise<number> {
  const state: RunState = { exitCode: ExitCode.ok };
  const program = buildProgram(state);
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return state.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return ExitCode.ok;
      return ExitCode.usage;
    }
    if (err instanceof UserError) {
      if (json)
        process.stdout.write(
          `${JSON.stringify({ ok: false, error: err.message, details: err.details, exitCode: err.exitCode }, null, 2)}\n`,
        );
      process.stderr.write(`\n${err.message}\n${err.details.map((d) => `  ${d}\n`).join('')}`);
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    if (json)
      process.stdout.write(
        `${JSON.stringify({ ok: false, error: message, exitCode: 1 }, null, 2)}\n`,
      );
    process.stderr.write(`\nUnexpected error: ${message}\n`);
    if (process.env.DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
    return ExitCode.failure;
  }
}
