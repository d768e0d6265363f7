// @ts-check
/**
 * The measured tables in README.md: `npm run bench:cost` and `npm run bench:profile` each replace
 * what is between their two markers,
 *
 *   <!-- bench:cost:start -->
 *   ...
 *   <!-- bench:cost:end -->
 *
 * with their table, the date, the machine and the command that measured it. Everything outside
 * the markers is yours and stays as it is; a README without the markers is refused, not appended to.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus } from 'node:os';

/** @param {string} name e.g. `cost` */
export function markersOf(name) {
  return { start: `<!-- bench:${name}:start -->`, end: `<!-- bench:${name}:end -->` };
}

/**
 * `text` with what is between the markers of `name` replaced by `body` (one line after the start
 * marker, one before the end marker). Replacing again with the same body gives the same text.
 * @param {string} text
 * @param {string} name
 * @param {string} body
 * @param {string} [file] named in the error
 */
export function replaceBetweenMarkers(text, name, body, file = 'README.md') {
  const { start, end } = markersOf(name);
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  const twice = i >= 0 && text.indexOf(start, i + 1) >= 0;
  if (i < 0 || j < 0 || j < i || twice || text.indexOf(end, j + 1) >= 0) {
    const found =
      i < 0 && j < 0
        ? 'neither marker is there'
        : i < 0
          ? 'the start marker is missing'
          : j < 0
            ? 'the end marker is missing'
            : 'the markers are not one pair';
    throw new Error(
      `${file}: the table of npm run bench:${name} goes between the lines "${start}" and ` +
        `"${end}", and ${found}. Put those two lines back, once each and in that order, where ` +
        `the table should go (the generated README has them in its "Performance" section), then ` +
        `run the bench again.`,
    );
  }
  return `${text.slice(0, i + start.length)}\n${body.trim()}\n${text.slice(j)}`;
}

/**
 * Writes `body` between the markers of `name` in the README at `file`; throws (and writes
 * nothing) when the markers are missing.
 * @param {string} file
 * @param {string} name
 * @param {string} body
 */
export async function writeReadmeTable(file, name, body) {
  const text = await readFile(file, 'utf8');
  const next = replaceBetweenMarkers(text, name, body, file);
  if (next !== text) await writeFile(file, next);
}

/**
 * `writeReadmeTable` for a bench's last step: says what it replaced, or prints why it could not
 * (the bench's results file is written already) and sets the exit code to 1.
 * @param {string} file
 * @param {string} name
 * @param {string} body
 */
export async function updateReadme(file, name, body) {
  try {
    await writeReadmeTable(file, name, body);
    process.stdout.write(`${file}: the table between the bench:${name} markers is replaced\n`);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}

/** The machine a measurement ran on. */
export function machine() {
  return {
    cpus: availableParallelism(),
    model: cpus()[0]?.model?.trim() ?? 'unknown',
    node: process.version,
  };
}

/**
 * The line under a measured table: when, where, and the command that measured it.
 * @param {{ time: string, machine: { cpus: number, model: string, node: string }, command: string }} m
 */
export function provenance(m) {
  return `Measured ${m.time.slice(0, 10)} on ${m.machine.cpus} CPUs (${m.machine.model}), Node ${m.machine.node}, with \`${m.command}\`.`;
}

/**
 * A Markdown table.
 * @param {string[]} header
 * @param {Array<Array<string | number>>} rows
 */
export function markdownTable(header, rows) {
  const line = (/** @type {Array<string | number>} */ cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * Whether `--no-readme` is among the arguments: the bench then leaves README.md alone (the
 * table is in its results file all the same).
 * @param {string[]} argv
 */
export function readmeWanted(argv) {
  return !argv.includes('--no-readme');
}
