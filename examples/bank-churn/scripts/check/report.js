/**
 * The check's report: text for people, JSON for tools, SARIF 2.1.0 for GitHub code scanning.
 */

/** @typedef {import('./types.js').Finding} Finding */
/** @typedef {import('./types.js').Policy} Policy */

/**
 * @typedef {{
 *   ok: boolean,
 *   exitCode: number,
 *   errors: number,
 *   warnings: number,
 *   findings: Finding[],
 *   policies: Array<{ id: string, title: string, severity: string, adr: string, file: string }>,
 *   evaluated: string[],
 *   skipped: Array<{ policy: string, reason: string }>,
 *   edited: string[],
 *   notes: string[],
 * }} Report
 */

/**
 * Findings that differ only by environment, once, with the environments listed.
 * @param {Finding[]} findings
 */
function grouped(findings) {
  /** @type {Map<string, { finding: Finding, scopes: string[] }>} */
  const groups = new Map();
  for (const f of findings) {
    const key = `${f.policy}\0${f.object ?? ''}\0${f.message}\0${f.file.replace(/\/(gcp|aws)-[a-z]+\//, '/*/')}`;
    const g = groups.get(key);
    if (g) {
      if (f.scope) g.scopes.push(f.scope);
    } else groups.set(key, { finding: f, scopes: f.scope ? [f.scope] : [] });
  }
  return [...groups.values()];
}

/**
 * @param {Report} report
 * @returns {string}
 */
export function formatText(report) {
  const lines = [];
  const byPolicy = new Map();
  for (const g of grouped(report.findings)) {
    const list = byPolicy.get(g.finding.policy) ?? [];
    list.push(g);
    byPolicy.set(g.finding.policy, list);
  }
  for (const [id, groups] of [...byPolicy.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const first = groups[0].finding;
    lines.push(`${id} ${first.severity}: ${first.title}`);
    for (const { finding: f, scopes } of groups) {
      const where = `${f.file}${f.line ? `:${f.line}` : ''}`;
      const what = f.object ? `  ${f.object}` : '';
      const envs = scopes.length > 0 ? `  [${scopes.join(', ')}]` : '';
      lines.push(`  ${where}${what}${envs}`);
      lines.push(`    ${f.message}`);
    }
    lines.push(`  fix: ${first.fix}`);
    lines.push(`  why: ${first.adr}`);
    lines.push('');
  }
  for (const n of report.notes) lines.push(`note: ${n}`);
  if (report.edited.length > 0) {
    lines.push(
      `note: ${report.edited.length} file(s) differ from what the generator wrote (your edits; ` +
        '`npx create-mlops-service diff` shows them, `upgrade` keeps them):',
    );
    for (const e of report.edited.slice(0, 20)) lines.push(`  ${e}`);
    if (report.edited.length > 20) lines.push(`  ... and ${report.edited.length - 20} more`);
  }
  const skipped = report.skipped.length > 0 ? `, ${report.skipped.length} not applicable` : '';
  lines.push(
    `${report.ok ? 'check passed' : 'check failed'}: ${report.evaluated.length} policies evaluated${skipped}, ` +
      `${report.errors} error(s), ${report.warnings} warning(s)`,
  );
  return `${lines.join('\n')}\n`;
}

/** @param {Report} report */
export function formatJson(report) {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/**
 * SARIF 2.1.0: one rule per policy of the catalogue, one result per finding, locations relative to
 * the repository root (`%SRCROOT%`, as GitHub code scanning resolves them).
 * @param {Report} report
 * @param {{ name: string, version: string }} tool
 */
export function formatSarif(report, tool) {
  const index = new Map(report.policies.map((p, i) => [p.id, i]));
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: tool.name,
            version: tool.version,
            rules: report.policies.map((p) => ({
              id: p.id,
              name: p.id.replace('-', ''),
              shortDescription: { text: p.title },
              fullDescription: { text: `${p.title}. See ${p.adr}.` },
              help: {
                text: `Policy ${p.file}; rationale: ${p.adr}`,
                markdown: `[${p.adr}](${p.adr})`,
              },
              defaultConfiguration: { level: p.severity === 'error' ? 'error' : 'warning' },
              properties: { tags: ['mlops', 'policy'], precision: 'very-high' },
            })),
          },
        },
        results: report.findings.map((f) => ({
          ruleId: f.policy,
          ruleIndex: index.get(f.policy) ?? 0,
          level: f.severity === 'error' ? 'error' : 'warning',
          message: {
            text: `${f.message}${f.scope ? ` [${f.scope}]` : ''}. Fix: ${f.fix}`,
          },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: f.file, uriBaseId: '%SRCROOT%' },
                ...(f.line ? { region: { startLine: f.line } } : {}),
              },
              ...(f.object ? { logicalLocations: [{ name: f.object, kind: 'object' }] } : {}),
            },
          ],
          partialFingerprints: {
            'mlopsPolicy/v1': `${f.policy}:${f.scope ?? ''}:${f.object ?? f.file}:${f.message}`,
          },
        })),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
