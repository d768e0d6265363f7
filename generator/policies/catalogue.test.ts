/**
 * The policy catalogue and the agent files generated from it agree (issue 7): ids are unique and
 * complete, every rule an agent file names exists in the project's catalogue, every policy of the
 * project appears in its agent files, every ADR a policy cites is in the project, the agent files
 * have the frontmatter their tools read and stay under Windsurf's size cap, and this repository's
 * own agent files keep the same shape.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogue, policiesDir } from '../plan/policies.js';
import { hashTree } from '../record/record.js';
import { packageRoot } from '../version.js';
import { generateProject } from '../test-support/generate.js';

const windsurfCap = 6000;
const clouds = {
  none: { cloud: 'none' },
  gcp: { cloud: 'gcp', gcpProject: 'acme-ml-prod', githubRepo: 'acme/churn-api' },
  aws: { cloud: 'aws', awsAccountId: '123456789012', githubRepo: 'acme/churn-api' },
  both: {
    cloud: 'both',
    gcpProject: 'acme-ml-prod',
    awsAccountId: '123456789012',
    githubRepo: 'acme/churn-api',
  },
};

/** `---\nyaml\n---\nbody` -> the parsed frontmatter and the body. */
function frontmatter(text: string): { data: Record<string, unknown>; body: string } {
  const m = /^---\n([\s\S]*?)\n---\n([\s\S]*)$/.exec(text);
  if (!m) throw new Error('no frontmatter');
  return { data: parseYaml(m[1]!) as Record<string, unknown>, body: m[2]! };
}

const idsIn = (text: string) => new Set(text.match(/MLOPS-\d{3}/g) ?? []);

describe('the catalogue', () => {
  const ids = catalogue.policies.map((p) => p.id);

  it('has unique ids, each in its file name and object name, with every field', () => {
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of catalogue.policies) {
      expect(p.file).toMatch(
        new RegExp(`^policies/(kubernetes|project)/${p.id}-[a-z0-9-]+\\.yaml$`),
      );
      expect(p.name.startsWith(`${p.id.toLowerCase()}-`), p.file).toBe(true);
      for (const field of [p.title, p.rationale, p.fix, p.adr, p.area])
        expect(field, p.file).not.toBe('');
      expect(['error', 'warning']).toContain(p.severity);
    }
  });

  it("covers the issue's lessons", () => {
    // single process, the worker, HPA (CPU only, target, min replicas), probes, security context,
    // resources, model outside the image, digests, PSS, PDB, deny-all, allow policies, identity,
    // secrets, runtime pin, buckets, state, actions and permissions, conflict markers, hand edits.
    for (const id of [
      'MLOPS-001',
      'MLOPS-002',
      'MLOPS-003',
      'MLOPS-004',
      'MLOPS-005',
      'MLOPS-006',
      'MLOPS-010',
      'MLOPS-011',
      'MLOPS-012',
      'MLOPS-013',
      'MLOPS-014',
      'MLOPS-015',
      'MLOPS-016',
      'MLOPS-017',
      'MLOPS-018',
      'MLOPS-019',
      'MLOPS-020',
      'MLOPS-021',
      'MLOPS-022',
      'MLOPS-023',
      'MLOPS-024',
      'MLOPS-025',
      'MLOPS-026',
      'MLOPS-027',
      'MLOPS-028',
      'MLOPS-030',
      'MLOPS-031',
      'MLOPS-032',
      'MLOPS-033',
      'MLOPS-040',
      'MLOPS-041',
      'MLOPS-090',
      'MLOPS-091',
    ])
      expect(ids).toContain(id);
  });

  it('writes Kubernetes rules as real ValidatingAdmissionPolicy objects, the rest as ProjectPolicy', async () => {
    for (const p of catalogue.policies) {
      const doc = parseYaml(await readFile(join(packageRoot, p.file), 'utf8'));
      if (p.kind === 'admission') {
        expect(doc.apiVersion, p.file).toBe('admissionregistration.k8s.io/v1');
        expect(doc.kind, p.file).toBe('ValidatingAdmissionPolicy');
        expect(doc.spec.failurePolicy, p.file).toBe('Fail');
        expect(doc.spec.paramKind, p.file).toBeUndefined();
      } else {
        expect([doc.apiVersion, doc.kind], p.file).toEqual([
          'policy.mlops-service/v1alpha1',
          'ProjectPolicy',
        ]);
      }
    }
  });

  it('every area an agent file is made for has policies, and every policy has an area', () => {
    const areas = new Set(catalogue.areas.map((a) => a.id));
    for (const p of catalogue.policies) expect(areas, p.id).toContain(p.area);
    for (const a of catalogue.areas)
      expect(
        catalogue.policies.some((p) => p.area === a.id),
        a.id,
      ).toBe(true);
  });
});

describe.each(Object.entries(clouds))('the agent files of a project with cloud=%s', (_c, flags) => {
  let dir: string;
  let files: string[];
  let shipped: Set<string>;
  const read = (rel: string) => readFile(join(dir, rel), 'utf8');

  beforeAll(async () => {
    dir = await generateProject(flags, { prefix: 'cms-agents-' });
    files = Object.keys(await hashTree(dir));
    shipped = new Set(
      files
        .filter((f) => /^policies\/(kubernetes|project)\/MLOPS-\d{3}-/.test(f))
        .map((f) => /MLOPS-\d{3}/.exec(f)![0]),
    );
  });

  const agentFiles = () =>
    files.filter(
      (f) =>
        f === 'AGENTS.md' ||
        f === 'CLAUDE.md' ||
        f === 'docs/policies.md' ||
        f.startsWith('.windsurf/') ||
        f.startsWith('.cursor/'),
    );

  it('ships the catalogue byte for byte: the policies that apply, with the README and agents.yaml', async () => {
    const hasCloud = flags.cloud !== 'none';
    const expected = catalogue.policies
      .filter((p) => hasCloud || !catalogue.areas.find((a) => a.id === p.area)!.cloud)
      .map((p) => p.id);
    expect([...shipped].sort()).toEqual(expected);
    for (const f of files.filter((x) => x.startsWith('policies/'))) {
      expect(await read(f), f).toBe(
        await readFile(join(policiesDir, f.slice('policies/'.length)), 'utf8'),
      );
    }
    expect(files).toContain('policies/README.md');
    expect(files).toContain('policies/agents.yaml');
  });

  it('names only rules that exist in the project', async () => {
    for (const f of agentFiles()) {
      for (const id of idsIn(await read(f))) expect(shipped, `${f} names ${id}`).toContain(id);
    }
  });

  it('states every rule in AGENTS.md, docs/policies.md, one .windsurf rule file and one .cursor rule file', async () => {
    const agents = idsIn(await read('AGENTS.md'));
    const docs = idsIn(await read('docs/policies.md'));
    const rules = async (prefix: string) => {
      const count = new Map<string, number>();
      for (const f of files.filter((x) => x.startsWith(prefix)))
        for (const m of (await read(f)).matchAll(/^- \*\*(MLOPS-\d{3})\*\*/gm))
          count.set(m[1]!, (count.get(m[1]!) ?? 0) + 1);
      return count;
    };
    const windsurf = await rules('.windsurf/rules/');
    const cursor = await rules('.cursor/rules/');
    for (const id of shipped) {
      expect(agents, id).toContain(id);
      expect(docs, id).toContain(id);
      expect(windsurf.get(id), `${id} in .windsurf/rules`).toBe(1);
      expect(cursor.get(id), `${id} in .cursor/rules`).toBe(1);
    }
  });

  it('cites only ADRs the project has', async () => {
    const cited = new Set<string>();
    for (const f of [...agentFiles(), ...files.filter((x) => x.startsWith('policies/'))]) {
      for (const m of (await read(f)).matchAll(/docs\/adr\/\d{4}-[a-z0-9-]+\.md/g)) cited.add(m[0]);
    }
    expect(cited.size).toBeGreaterThanOrEqual(3);
    for (const adr of cited) expect(files, adr).toContain(adr);
  });

  it('.windsurf/rules: trigger always_on, or glob with globs; each under 6,000 characters', async () => {
    const rules = files.filter((f) => f.startsWith('.windsurf/rules/'));
    expect(rules.length).toBeGreaterThanOrEqual(5);
    let always = 0;
    for (const f of rules) {
      const text = await read(f);
      expect(text.length, f).toBeLessThan(windsurfCap);
      const { data } = frontmatter(text);
      expect(['always_on', 'glob'], f).toContain(data.trigger);
      if (data.trigger === 'glob') {
        expect(Array.isArray(data.globs), f).toBe(true);
        expect((data.globs as unknown[]).length, f).toBeGreaterThan(0);
      } else always++;
      expect(typeof data.description, f).toBe('string');
    }
    expect(always).toBe(1);
  });

  it('.cursor/rules: the same areas, with description and globs or alwaysApply', async () => {
    const cursor = files.filter((f) => f.startsWith('.cursor/rules/'));
    const names = (list: string[], ext: string) =>
      list.map((f) => f.split('/').pop()!.replace(ext, '')).sort();
    expect(names(cursor, '.mdc')).toEqual(
      names(
        files.filter((f) => f.startsWith('.windsurf/rules/')),
        '.md',
      ),
    );
    for (const f of cursor) {
      const { data } = frontmatter(await read(f));
      expect(typeof data.description, f).toBe('string');
      expect(typeof data.alwaysApply, f).toBe('boolean');
      if (!data.alwaysApply) expect(typeof data.globs, f).toBe('string');
    }
  });

  it('.windsurf/workflows: the routine jobs, each with a description and steps marked auto, consult or stop', async () => {
    const workflows = files.filter((f) => f.startsWith('.windsurf/workflows/'));
    expect(workflows.map((f) => f.split('/').pop()).sort()).toEqual([
      'drift-check.md',
      'incident.md',
      'load-test.md',
      'new-model-version.md',
      'promote-challenger.md',
      'quality-alert.md',
      'release.md',
      'rollback.md',
    ]);
    for (const f of workflows) {
      const text = await read(f);
      expect(text.length, f).toBeLessThan(windsurfCap);
      const { data, body } = frontmatter(text);
      expect(typeof data.description, f).toBe('string');
      expect(body, f).toMatch(/^1\. \[(auto|consult|stop)\]/m);
    }
  });

  it('AGENTS.md has the service, the commands and the auto / consult / stop actions; CLAUDE.md imports it', async () => {
    const agents = await read('AGENTS.md');
    for (const heading of ['## Map', '## Commands', '## Rules', '## What an agent may do'])
      expect(agents).toContain(heading);
    for (const mode of ['**Auto**', '**Consult**', '**Stop**']) expect(agents).toContain(mode);
    for (const action of [...catalogue.actions.auto, ...catalogue.actions.stop])
      expect(agents).toContain(action);
    const pkg = JSON.parse(await read('package.json')) as { scripts: Record<string, string> };
    for (const m of agents.matchAll(/`npm run ([a-z0-9:-]+)/g))
      expect(Object.keys(pkg.scripts), `AGENTS.md runs ${m[1]}`).toContain(m[1]);
    expect((await read('CLAUDE.md')).split('\n')).toContain('@AGENTS.md');
  });
});

describe("this repository's own agent files", () => {
  it('AGENTS.md points at the catalogue; .windsurf files have frontmatter and stay under 6,000 characters', async () => {
    const agents = await readFile(join(packageRoot, 'AGENTS.md'), 'utf8');
    expect(agents).toContain('policies/');
    for (const sub of ['rules', 'workflows']) {
      const dir = join(packageRoot, '.windsurf', sub);
      for (const name of await readdir(dir)) {
        const text = await readFile(join(dir, name), 'utf8');
        expect(text.length, name).toBeLessThan(windsurfCap);
        const { data } = frontmatter(text);
        if (sub === 'rules') expect(['always_on', 'glob'], name).toContain(data.trigger);
        else expect(typeof data.description, name).toBe('string');
      }
    }
  });
});
