/**
 * The `create-mlops-service` command line (the program; `cli.ts` runs it). Commands: create (default), schema. `check` and
 * `upgrade` join here as commands of their own modules.
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

export function buildProgram(): Command {
  const program = new Command('create-mlops-service')
    .description('Stamp out a production-grade ML inference service from an ONNX model.')
    .version(generatorVersion, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      writeOut: (s) => process.stdout.write(s),
    });

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
      `--${flagName(key)} <${meta.kind === 'number' ? 'n' : 'value'}>`,
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
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.ok;
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
