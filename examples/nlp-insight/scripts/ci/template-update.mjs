#!/usr/bin/env node
/**
 * `npx create-mlops-service@<version> upgrade --json` for .github/workflows/template-update.yml:
 * merges the current templates into this project (three-way: your edits stay), refreshes the
 * lockfile when package.json changed, and writes the pull request's title, labels and body.
 *
 *   node scripts/ci/template-update.mjs [--version latest] [--body <file>]
 *
 * Outputs (to $GITHUB_OUTPUT when set): changed=true|false, title, labels (comma separated:
 * `template-update`, plus `conflicts` when files hold conflict markers to resolve).
 * Exit 1 only when the upgrade itself failed (exit codes other than 0, and 3 = conflicts written).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const labels = { update: 'template-update', conflicts: 'conflicts' };

/** The pull request for an upgrade report (the JSON `upgrade --json` prints). */
export function pullRequest(report) {
  const conflicts = report.conflicts ?? [];
  const files = (report.files ?? []).filter((f) => f.action !== 'unchanged');
  const title = `create-mlops-service ${report.from?.version ?? '?'} -> ${report.to?.version ?? '?'}${
    conflicts.length > 0
      ? ` (${conflicts.length} conflict${conflicts.length === 1 ? '' : 's'})`
      : ''
  }`;
  const lines = [
    `Upgrade of this project's templates with \`create-mlops-service upgrade\`, from ${report.from?.version} to ${report.to?.version}: what changed in the templates is merged into your files, three-way; your edits stay.`,
    '',
  ];
  if (conflicts.length > 0) {
    lines.push(
      `### ${conflicts.length} file${conflicts.length === 1 ? '' : 's'} to resolve`,
      '',
      'Both you and the templates changed these lines: resolve the conflict markers (or the `.mlops-new` side file) and commit.',
      '',
      ...conflicts.map((c) => `- [ ] \`${c}\``),
      '',
    );
  }
  if (files.length > 0) {
    lines.push('### Files', '', '| file | what happened |', '| --- | --- |');
    for (const f of files.slice(0, 200)) {
      const what = [f.action, f.method, f.from ? `from \`${f.from}\`` : '', f.note ?? '']
        .filter(Boolean)
        .join(', ');
      lines.push(`| \`${f.path}\` | ${what.replace(/\|/g, '\\|')} |`);
    }
    if (files.length > 200) lines.push(`| ... | ${files.length - 200} more |`);
    lines.push('');
  }
  const answers = report.answers ?? {};
  const added = Object.keys(answers.added ?? {});
  const changed = Object.keys(answers.changed ?? {});
  if ((answers.migrations ?? []).length + added.length + changed.length > 0) {
    lines.push('### Answers', '');
    for (const m of answers.migrations ?? []) lines.push(`- migration: ${m}`);
    if (added.length > 0)
      lines.push(
        `- new questions, answered with their defaults: ${added.map((a) => `\`${a}\``).join(', ')}`,
      );
    if (changed.length > 0) lines.push(`- changed: ${changed.map((a) => `\`${a}\``).join(', ')}`);
    lines.push('');
  }
  for (const l of report.lockfiles ?? []) lines.push(`- \`${l.path}\`: ${l.note}`);
  if ((report.nextSteps ?? []).length > 0)
    lines.push('', '### Next steps', '', ...report.nextSteps.map((s) => `- ${s}`));
  lines.push('', '<sub>Opened by .github/workflows/template-update.yml.</sub>');
  return {
    changed: report.upToDate !== true,
    title,
    labels: conflicts.length > 0 ? [labels.update, labels.conflicts] : [labels.update],
    body: `${lines.join('\n')}\n`,
  };
}

function option(argv, name, fallback) {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
}

function output(name, value) {
  if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `${name}=${value}\n`);
  else console.log(`${name}=${value}`);
}

function main(argv) {
  const version = option(argv, '--version', 'latest');
  const bodyFile = option(
    argv,
    '--body',
    join(process.env.RUNNER_TEMP ?? tmpdir(), 'template-update.md'),
  );
  const r = spawnSync(
    'npx',
    ['--yes', `create-mlops-service@${version}`, 'upgrade', '--json', '--no-interactive'],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (r.error) throw r.error;
  if (r.status !== 0 && r.status !== 3)
    throw new Error(`create-mlops-service upgrade failed (exit ${r.status})`);
  const report = JSON.parse(r.stdout);
  const pr = pullRequest(report);
  if (
    pr.changed &&
    (report.files ?? []).some((f) => f.path === 'package.json' && f.action !== 'unchanged')
  ) {
    const lock = spawnSync(
      'npm',
      ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'],
      { stdio: 'inherit' },
    );
    if (lock.status !== 0)
      pr.body +=
        '\n> `npm install --package-lock-only` failed: refresh package-lock.json by hand.\n';
  }
  writeFileSync(bodyFile, pr.body);
  output('changed', String(pr.changed));
  output('title', pr.title);
  output('labels', pr.labels.join(','));
  output('body', bodyFile);
  console.log(`${pr.title}: ${pr.changed ? 'changes to propose' : 'up to date'}`);
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
