#!/usr/bin/env node
/**
 * `npm run check [-- options]`: every policy of policies/ over this project.
 *
 *   --format text|json|sarif   report format (default text)
 *   --output <file>            write the report there (a text summary still goes to stdout)
 *   --no-synth                 use the last synthesis (deploy/k8s/dist, deploy/infra/cdktf.out)
 *   --staged                   pre-commit: synthesize only what the staged files can change
 *
 * Exit 0: no error; 1: an error-severity policy fails; 2: the check could not run.
 */
import { parseArgs } from 'node:util';
import { formats, runCheck } from './check.js';

const usage =
  'usage: npm run check -- [--format text|json|sarif] [--output <file>] [--no-synth] [--staged]';

try {
  const { values } = parseArgs({
    options: {
      format: { type: 'string', default: 'text' },
      output: { type: 'string' },
      'no-synth': { type: 'boolean', default: false },
      staged: { type: 'boolean', default: false },
      root: { type: 'string', default: '.' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const format = /** @type {'text' | 'json' | 'sarif'} */ (values.format);
  if (!(/** @type {readonly string[]} */ (formats).includes(format))) {
    process.stderr.write(`unknown --format ${values.format}\n${usage}\n`);
    process.exit(2);
  }
  const report = await runCheck({
    root: values.root,
    format,
    ...(values.output ? { output: values.output } : {}),
    synth: !values['no-synth'],
    staged: values.staged,
  });
  process.exitCode = report.exitCode;
} catch (e) {
  process.stderr.write(`check could not run: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 2;
}
