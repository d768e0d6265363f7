/**
 * The exit path: what `npm run synth:infra` writes is plain Terraform JSON that runs with
 * terraform or OpenTofu alone, without cdktf. Each stack directory is self-contained; when a
 * terraform (or tofu) binary and the providers are available, `terraform validate` checks it too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { App } from 'cdktf';
import { afterAll, describe, expect, it } from 'vitest';
import { buildStacks } from '../main.js';
import type { TerraformJson } from './support/synth.js';

const outdir = mkdtempSync(join(tmpdir(), 'infra-synth-'));
const app = new App({ outdir });
const stackIds = [...buildStacks(app).keys()];
app.synth();
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const stackDir = (id: string): string => join(outdir, 'stacks', id);
const read = (id: string): { text: string; tf: TerraformJson } => {
  const text = readFileSync(join(stackDir(id), 'cdk.tf.json'), 'utf8');
  return { text, tf: JSON.parse(text) as TerraformJson };
};

/** Every `type.name` (or `data.type.name`, `var.x`, `local.x`, `module.x`) an expression refers to. */
function references(text: string): string[] {
  const refs = new Set<string>();
  for (const [, expr] of text.matchAll(/\$\{([^}]*)\}/g)) {
    const code = expr!.replace(/\\?"(?:[^"\\]|\\.)*\\?"/g, '""');
    for (const [ref] of code.matchAll(
      /\b(?:data\.[a-z0-9_]+\.[\w-]+|(?:var|local|module)\.[\w-]+|[a-z][a-z0-9]*_[a-z0-9_]+\.[\w-]+)/g,
    )) {
      refs.add(ref);
    }
  }
  return [...refs];
}

describe.each(stackIds)('%s, synthesized', (id) => {
  const { text, tf } = read(id);

  it('is one Terraform JSON file with pinned providers and a backend', () => {
    expect(readdirSync(stackDir(id))).toEqual(['cdk.tf.json']);
    const providers = Object.entries(tf.terraform.required_providers ?? {});
    expect(providers.length).toBeGreaterThan(0);
    for (const [, p] of providers) expect(p.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Object.keys(tf.terraform.backend ?? {})).toHaveLength(1);
  });

  it('refers only to what it declares: no other stack, module, variable, file or machine path', () => {
    for (const ref of references(text)) {
      const [head, type, name] = ref.split('.');
      if (head === 'data') expect(tf.data?.[type!]?.[name!], ref).toBeDefined();
      else if (head === 'var' || head === 'local' || head === 'module')
        expect.fail(`${ref}: not self-contained`);
      else expect(tf.resource?.[head!]?.[type!], ref).toBeDefined();
    }
    expect(text).not.toMatch(
      /terraform_remote_state|"module"\s*:|\b(?:file|templatefile|filebase64)\(|path\.(?:module|root|cwd)/,
    );
    expect(text).not.toContain('TfToken');
    expect(text).not.toContain(process.cwd());
    expect(text).not.toContain(outdir);
    const used = new Set(
      [...Object.keys(tf.resource ?? {}), ...Object.keys(tf.data ?? {})].map(
        (type) => type.split('_')[0]!,
      ),
    );
    expect([...used].sort()).toEqual(Object.keys(tf.terraform.required_providers ?? {}).sort());
  });
});

/** A terraform or tofu binary on PATH ($TERRAFORM_BINARY wins). */
function findTerraform(): string | undefined {
  const candidates = process.env.TERRAFORM_BINARY ? [process.env.TERRAFORM_BINARY] : [];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of ['terraform', 'tofu']) candidates.push(join(dir, name));
  }
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      execFileSync(candidate, ['version'], { stdio: 'ignore', timeout: 20_000 });
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

const terraform = findTerraform();
const noBinary =
  'skipped: no terraform or tofu binary on PATH (set TERRAFORM_BINARY to point at one)';

describe('terraform validate', () => {
  const pluginCache = mkdtempSync(join(tmpdir(), 'tf-plugin-cache-'));
  afterAll(() => rmSync(pluginCache, { recursive: true, force: true }));

  it.skipIf(!terraform).for(stackIds)(
    `%s${terraform ? '' : ` (${noBinary})`}`,
    { timeout: 600_000 },
    (id, ctx) => {
      const dir = mkdtempSync(join(tmpdir(), `tf-validate-${id}-`));
      try {
        copyFileSync(join(stackDir(id), 'cdk.tf.json'), join(dir, 'cdk.tf.json'));
        const env = {
          ...process.env,
          TF_IN_AUTOMATION: '1',
          TF_PLUGIN_CACHE_DIR: process.env.TF_PLUGIN_CACHE_DIR ?? pluginCache,
        };
        const pluginDir = process.env.TF_PLUGIN_DIR
          ? [`-plugin-dir=${process.env.TF_PLUGIN_DIR}`]
          : [];
        const init = spawnSync(
          terraform!,
          ['init', '-backend=false', '-input=false', '-no-color', ...pluginDir],
          {
            cwd: dir,
            env,
            encoding: 'utf8',
            timeout: 300_000,
          },
        );
        if (init.status !== 0) {
          const output = `${init.stdout}\n${init.stderr}`;
          if (
            /provider|registry|plugin|could not connect|no available releases|Failed to (?:query|install)/i.test(
              output,
            )
          ) {
            const detail =
              /(Could not retrieve[\s\S]*?)(?:\n\s*\n|$)/.exec(output)?.[1] ??
              /Error: (.*)/.exec(output)?.[1];
            const reason = (detail ?? 'provider installation failed').replace(/\s+/g, ' ').trim();
            const note = `skipped: the providers are not available (${reason}); set TF_PLUGIN_DIR to a provider mirror`;
            console.warn(`${id}: ${note}`);
            ctx.skip(note);
          }
          expect.fail(`terraform init failed:\n${output}`);
        }
        const validate = spawnSync(terraform!, ['validate', '-json', '-no-color'], {
          cwd: dir,
          env,
          encoding: 'utf8',
        });
        const result = JSON.parse(validate.stdout) as {
          valid: boolean;
          diagnostics: Array<{ severity: string; summary: string; detail?: string }>;
        };
        expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        expect(result.valid).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
