/**
 * Every GitHub Actions workflow, this repository's and the ones a generated project gets for each
 * cloud choice, is validated by a real workflow validator (@action-validator/core: the SchemaStore
 * schema, offline) and by our rules: every action pinned by a full commit SHA (the verified pins
 * below) with its version comment, explicit least-privilege permissions (the exact table below),
 * concurrency groups, timeouts, no credentials left in checkouts, no `${{ }}` inside scripts, and
 * references (jobs, step ids, outputs, local workflows, scripts, npm scripts) that exist.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPlan } from '../plan/plan.js';
import { validateAnswers } from '../answers/resolve.js';
import { introspectModel } from '../model/introspect.js';
import { packageRoot } from '../version.js';
import { fixturesDir } from '../test-support/cli.js';
import { generateProject } from '../test-support/generate.js';
import { installedProject } from '../test-support/installed-project.js';

const require = createRequire(import.meta.url);
const validator = require('@action-validator/core') as {
  validateWorkflow(src: string): {
    errors: Array<{ code: string; path?: string; title: string; detail?: string }>;
  };
};

/**
 * The third-party actions the workflows may use, each pinned to one commit. Another action, or
 * another commit, fails this test: bump a pin here and in every workflow together, after checking
 * that the tag points at the commit (`git ls-remote https://github.com/<owner>/<repo> refs/tags/<tag>`,
 * the peeled `^{}` line for annotated tags). How each was checked when added (this environment has
 * no network): the same SHA with the same version comment in several unrelated public
 * repositories' workflows, or GitHub runner logs resolving the tag to that SHA.
 */
const pins: Readonly<Record<string, { sha: string; version: string; evidence: string }>> = {
  'actions/checkout': {
    sha: 'de0fac2e4500dabe0009e67214ff5f5447ce83dd',
    version: 'v6.0.2',
    evidence: 'many workflows pin it "# v6.0.2"',
  },
  'actions/setup-node': {
    sha: '2028fbc5c25fe9cf00d9f06a71cc4710d4507903',
    version: 'v6.0.0',
    evidence: 'many workflows pin it "# v6.0.0"',
  },
  'actions/upload-artifact': {
    sha: 'b7c566a772e6b6bfb58ed0dc250532a479d7789f',
    version: 'v6.0.0',
    evidence: 'many workflows pin it "# v6.0.0"',
  },
  'docker/setup-buildx-action': {
    sha: 'e468171a9de216ec08956ac3ada2f0791b6bd435',
    version: 'v3.11.1',
    evidence: 'many workflows pin it "# v3.11.1"',
  },
  'docker/build-push-action': {
    sha: '263435318d21b8e681c14492fe198d362a7d2c83',
    version: 'v6.18.0',
    evidence: 'many workflows pin it "# v6.18.0"',
  },
  'docker/login-action': {
    sha: '5e57cd118135c172c3672efd75eb46360885c0ef',
    version: 'v3.6.0',
    evidence: 'many workflows pin it "# v3.6.0"',
  },
  'sigstore/cosign-installer': {
    sha: 'd58896d6a1865668819e1d91763c7751a165e159',
    version: 'v3.9.2',
    evidence: 'several workflows pin it "# v3.9.2" (peeled commit)',
  },
  'anchore/sbom-action': {
    sha: '17ae1740179002c89186b61233e0f892c3118b11',
    version: 'v0.23.0',
    evidence: 'several workflows pin it "# v0.23.0"',
  },
  'aquasecurity/trivy-action': {
    sha: 'ed142fd0673e97e23eac54620cfb913e5ce36c25',
    version: 'v0.36.0',
    evidence:
      'several workflows pin it as v0.36.0 ("GitHub-verified", peeled commit); a release after the March 2026 tag hijack',
  },
  'github/codeql-action/upload-sarif': {
    sha: '5d4e8d1aca955e8d8589aabd499c5cae939e33c7',
    version: 'v4.31.9',
    evidence: 'several workflows pin it "# v4.31.9"',
  },
  'helm/kind-action': {
    sha: 'a1b0e391336a6ee6713a0583f8c6240d70863de3',
    version: 'v1.12.0',
    evidence:
      'several workflows pin it "# v1.12.0"; the action\'s own test workflow at this commit has the registry inputs',
  },
  'google-github-actions/auth': {
    sha: '7c6bc770dae815cd3e89ee6cdf493a5fab2cc093',
    version: 'v3.0.0',
    evidence: 'several workflows pin it "# v3.0.0"',
  },
  'google-github-actions/get-gke-credentials': {
    sha: '9025e8f90f2d8e0c3dafc3128cc705a26d992a6a',
    version: 'v2',
    evidence:
      "runner logs (Jan 2025): 'get-gke-credentials@v2' (SHA:9025e8f...); the exact v2.x.y is unconfirmed",
  },
  'aws-actions/configure-aws-credentials': {
    sha: 'a03048d87541d1d9fcf2ecf528a4a65ba9bd7838',
    version: 'v5.0.0',
    evidence: 'the "release 5.0.0" commit; workflows pin it "# v5.0.0"',
  },
  'aws-actions/amazon-ecr-login': {
    sha: '062b18b96a7aff071d4dc91bc00c4c1a7945b076',
    version: 'v2.0.1',
    evidence: 'many workflows pin it "# v2.0.1"',
  },
  'peter-evans/create-pull-request': {
    sha: '271a8d0340265f705b14b6d32b9829c1cb33d45e',
    version: 'v7.0.8',
    evidence: 'many workflows pin it "# v7.0.8"',
  },
};

type Permissions = Record<string, 'read' | 'write' | 'none'>;

/** Least privilege, job by job: widening a job's token means changing this table too. */
const allowedPermissions: Record<string, Record<string, Permissions>> = {
  // generated projects
  'ci.yml': {
    verify: { contents: 'read', actions: 'read', 'security-events': 'write' },
    image: { contents: 'read' },
    publish: { contents: 'read', packages: 'write', 'id-token': 'write' },
    promote: { contents: 'read', packages: 'read' },
    deploy: { actions: 'write', contents: 'read' },
    // this repository's ci.yml
    test: { contents: 'read' },
    examples: { contents: 'read' },
    'fresh-project': { contents: 'read' },
    pack: { contents: 'read' },
  },
  'golden-path.yml': {
    environments: { contents: 'read' },
    kind: { contents: 'read' },
    canary: { contents: 'read' },
  },
  'deploy-environment.yml': {
    runner: { contents: 'read' },
    deploy: { contents: 'read', packages: 'read', 'id-token': 'write' },
  },
  'deploy-gcp.yml': Object.fromEntries(
    ['dev', 'staging', 'prod'].map((j) => [
      j,
      { contents: 'read', packages: 'read', 'id-token': 'write' },
    ]),
  ),
  'deploy-aws.yml': Object.fromEntries(
    ['dev', 'staging', 'prod'].map((j) => [
      j,
      { contents: 'read', packages: 'read', 'id-token': 'write' },
    ]),
  ),
  'template-update.yml': { upgrade: { contents: 'write', 'pull-requests': 'write' } },
  'model-release.yml': { gates: { contents: 'read' } },
  // this repository
  'deploy-examples.yml': { plan: { contents: 'read' }, 'golden-path': { contents: 'read' } },
  'release.yml': { publish: { contents: 'read', 'id-token': 'write' } },
};

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  if?: string;
  'working-directory'?: string;
}
interface Job {
  name?: string;
  uses?: string;
  with?: Record<string, unknown>;
  needs?: string | string[];
  if?: string;
  permissions?: unknown;
  concurrency?: unknown;
  environment?: unknown;
  outputs?: Record<string, string>;
  env?: Record<string, unknown>;
  steps?: Step[];
  strategy?: { matrix?: unknown };
  'timeout-minutes'?: number;
}
interface Workflow {
  name?: string;
  on: Record<string, unknown>;
  permissions?: unknown;
  concurrency?: { group?: string };
  env?: Record<string, unknown>;
  jobs: Record<string, Job>;
}

interface WorkflowFile {
  /** e.g. `gcp:.github/workflows/ci.yml` or `repo:.github/workflows/ci.yml`. */
  readonly label: string;
  readonly name: string;
  readonly text: string;
  /** The project (or repository) it belongs to. */
  readonly root: string;
  readonly generated: boolean;
}

const needsOf = (job: Job) =>
  job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The rules; returns one line per problem. */
function workflowProblems(file: WorkflowFile, scripts: Record<string, string>): string[] {
  const problems: string[] = [];
  const p = (what: string) => problems.push(`${file.label}: ${what}`);

  for (const error of validator.validateWorkflow(file.text).errors) {
    p(
      `validator: ${error.title}${error.path ? ` at ${error.path}` : ''}${error.detail ? ` (${error.detail})` : ''}`,
    );
  }

  // Pinned actions, with their version comment, from the verified table.
  for (const line of file.text.split('\n')) {
    const m = /^\s*(?:-\s+)?uses:\s*['"]?([^'"\s#]+)['"]?\s*(#.*)?$/.exec(line);
    if (!m) continue;
    const ref = m[1]!;
    if (ref.startsWith('./')) {
      if (!existsSync(join(file.root, ref))) p(`uses ${ref}, which does not exist`);
      continue;
    }
    const pinned = /^([\w.-]+\/[\w.-]+(?:\/[\w./-]+)?)@([0-9a-f]{40})$/.exec(ref);
    if (!pinned) {
      p(`${ref} is not pinned by a full commit SHA`);
      continue;
    }
    const [, action, sha] = pinned;
    const pin = pins[action!];
    if (!pin)
      p(
        `${action} is not one of the verified actions (generator/workflows/workflows.test.ts pins)`,
      );
    else if (pin.sha !== sha)
      p(`${action}@${sha} is not the verified pin ${pin.sha} (${pin.version})`);
    const comment = /^#\s*(v\d+(?:\.\d+){0,2})\s*$/.exec(m[2] ?? '');
    if (!comment) p(`${ref} has no "# vX.Y.Z" comment`);
    else if (pin && comment[1] !== pin.version)
      p(`${action} comment says ${comment[1]}, the pin is ${pin.version}`);
  }

  let wf: Workflow;
  try {
    wf = parseYaml(file.text) as Workflow;
  } catch (error) {
    p(`YAML: ${(error as Error).message}`);
    return problems;
  }
  const callOnly = isMap(wf.on) && Object.keys(wf.on).length === 1 && 'workflow_call' in wf.on;

  if (!isMap(wf.permissions) || Object.keys(wf.permissions).length > 0) {
    p('the workflow-level permissions must be {} (each job asks for its own)');
  }
  if (!callOnly && !wf.concurrency?.group) p('no concurrency group');

  const jobs = wf.jobs ?? {};
  const allowed = allowedPermissions[file.name];
  for (const [id, job] of Object.entries(jobs)) {
    const j = (what: string) => p(`job ${id}: ${what}`);
    if (!isMap(job.permissions)) j('no explicit permissions map');
    else {
      for (const [scope, level] of Object.entries(job.permissions)) {
        if (!['read', 'write', 'none'].includes(String(level)))
          j(`permission ${scope}: ${String(level)}`);
      }
      const expected = allowed?.[id];
      if (!expected) j('has no entry in the least-privilege table');
      else if (
        JSON.stringify(Object.entries(job.permissions).sort()) !==
        JSON.stringify(Object.entries(expected).sort())
      ) {
        j(
          `permissions ${JSON.stringify(job.permissions)} differ from the least-privilege table ${JSON.stringify(expected)}`,
        );
      }
    }
    if (callOnly && !isMap(job.concurrency))
      j("a reusable workflow's job needs its own concurrency group");
    for (const need of needsOf(job)) if (!(need in jobs)) j(`needs ${need}, which is not a job`);
    if (job.uses) continue;
    const timeout = job['timeout-minutes'];
    if (typeof timeout !== 'number' || timeout > 90) j('needs timeout-minutes (at most 90)');
    const steps = job.steps ?? [];
    const ids = new Set(steps.map((s) => s.id).filter(Boolean));
    const text = JSON.stringify(job);
    for (const m of text.matchAll(/steps\.([\w-]+)\.(outputs|outcome|conclusion)/g)) {
      if (!ids.has(m[1]!)) j(`refers to steps.${m[1]}, no such step id`);
    }
    for (const m of text.matchAll(/needs\.([\w-]+)\.outputs\.([\w-]+)/g)) {
      const other = jobs[m[1]!];
      if (!other || !needsOf(job).includes(m[1]!)) j(`refers to needs.${m[1]} without needing it`);
      else if (!other.outputs || !(m[2]! in other.outputs))
        j(`refers to needs.${m[1]}.outputs.${m[2]}, not an output`);
    }
    for (const step of steps) {
      const s = (what: string) =>
        j(`step ${step.name ?? step.id ?? step.uses ?? step.run?.split('\n')[0]}: ${what}`);
      if (
        step.uses?.startsWith('actions/checkout@') &&
        step.with?.['persist-credentials'] !== false
      ) {
        s('checkout must set persist-credentials: false');
      }
      if (step.run === undefined) continue;
      if (step.run.includes('${{')) s('`${{ }}` inside a script (pass it through env:)');
      for (const m of step.run.matchAll(/(?:^|[\s;&|(])npm run ([\w:.-]+)(\s+--if-present)?/g)) {
        const script = m[1]!;
        const guarded = m[2] !== undefined || step.run.includes(`npm pkg get scripts.${script}`);
        if (!guarded && !(script in scripts))
          s(`npm run ${script}: no such script in package.json`);
      }
      for (const m of step.run.matchAll(/scripts\/ci\/([\w.-]+)/g)) {
        const where = file.generated ? file.root : join(packageRoot, 'templates');
        if (!existsSync(join(where, 'scripts/ci', m[1]!)))
          s(`runs scripts/ci/${m[1]}, which does not exist`);
      }
    }
  }
  return problems;
}

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
} as const;
type Cloud = keyof typeof clouds;

const projects = {} as Record<Cloud, string>;
const files: WorkflowFile[] = [];

async function workflowsIn(
  root: string,
  prefix: string,
  generated: boolean,
): Promise<WorkflowFile[]> {
  const dir = join(root, '.github/workflows');
  if (!existsSync(dir)) return [];
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  return Promise.all(
    names.map(async (name) => ({
      label: `${prefix}:.github/workflows/${name}`,
      name,
      text: await readFile(join(dir, name), 'utf8'),
      root,
      generated,
    })),
  );
}

async function scriptsOf(root: string): Promise<Record<string, string>> {
  return (
    (
      JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
        scripts?: Record<string, string>;
      }
    ).scripts ?? {}
  );
}

beforeAll(async () => {
  for (const [cloud, flags] of Object.entries(clouds) as Array<[Cloud, Record<string, unknown>]>) {
    const dir = await generateProject(
      { model: join(fixturesDir, 'tabular.onnx'), ...flags },
      { prefix: 'cms-workflows-' },
    );
    projects[cloud] = dir;
    files.push(...(await workflowsIn(dir, cloud, true)));
  }
  files.push(...(await workflowsIn(packageRoot, 'repo', false)));
}, 120_000);

const workflow = (label: string) => {
  const f = files.find((x) => x.label === label);
  if (!f) throw new Error(`no workflow ${label}`);
  return parseYaml(f.text) as Workflow;
};
const stepsOf = (wf: Workflow) => Object.values(wf.jobs).flatMap((j) => j.steps ?? []);
const runs = (wf: Workflow) =>
  stepsOf(wf)
    .map((s) => s.run ?? '')
    .join('\n');
const uses = (wf: Workflow) => stepsOf(wf).map((s) => s.uses ?? '');

describe("every workflow (generated for each cloud choice, and this repository's)", () => {
  it('is found', () => {
    const expected: Record<string, string[]> = {
      none: ['ci.yml', 'model-release.yml', 'template-update.yml'],
      gcp: [
        'ci.yml',
        'deploy-environment.yml',
        'deploy-gcp.yml',
        'golden-path.yml',
        'model-release.yml',
        'template-update.yml',
      ],
      aws: [
        'ci.yml',
        'deploy-aws.yml',
        'deploy-environment.yml',
        'golden-path.yml',
        'model-release.yml',
        'template-update.yml',
      ],
      both: [
        'ci.yml',
        'deploy-aws.yml',
        'deploy-environment.yml',
        'deploy-gcp.yml',
        'golden-path.yml',
        'model-release.yml',
        'template-update.yml',
      ],
      repo: ['ci.yml', 'deploy-examples.yml', 'release.yml'],
    };
    for (const [prefix, names] of Object.entries(expected)) {
      expect(
        files.filter((f) => f.label.startsWith(`${prefix}:`)).map((f) => f.name),
        prefix,
      ).toEqual(names);
    }
  });

  it('passes the validator and the rules (pins, permissions, concurrency, references)', async () => {
    const problems: string[] = [];
    const generatedScripts = await scriptsOf(projects.both);
    for (const f of files) {
      const scripts = f.generated
        ? await scriptsOf(f.root)
        : { ...(await scriptsOf(packageRoot)), ...generatedScripts };
      problems.push(...workflowProblems(f, scripts));
    }
    expect(problems).toEqual([]);
  });

  it('the generated project ships the Dockerfile its workflows build (context: .)', () => {
    for (const cloud of Object.keys(clouds) as Cloud[]) {
      expect(existsSync(join(projects[cloud], 'Dockerfile')), `${cloud}: Dockerfile`).toBe(true);
    }
  });

  it('pins the base image by digest and has Dependabot keep npm, actions and that digest fresh', async () => {
    for (const cloud of Object.keys(clouds) as Cloud[]) {
      const dockerfile = await readFile(join(projects[cloud], 'Dockerfile'), 'utf8');
      const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
      // One external base, by digest; every other stage builds on it.
      expect(froms.filter((f) => f !== 'base')).toEqual([
        expect.stringMatching(/^node:\d+-bookworm-slim@sha256:[a-f0-9]{64}$/),
      ]);
      const dependabot = parseYaml(
        await readFile(join(projects[cloud], '.github/dependabot.yml'), 'utf8'),
      ) as { version: number; updates: Array<{ 'package-ecosystem': string; directory: string }> };
      expect(dependabot.version).toBe(2);
      expect(dependabot.updates.map((u) => u['package-ecosystem']).sort()).toEqual([
        'docker',
        'github-actions',
        'npm',
      ]);
    }
  });

  it('each action is pinned to the same verified commit everywhere', () => {
    const seen = new Map<string, Set<string>>();
    for (const f of files) {
      for (const m of f.text.matchAll(/uses:\s*([\w.-]+\/[\w.-]+(?:\/[\w./-]+)?)@(\S+)/g)) {
        seen.set(m[1]!, (seen.get(m[1]!) ?? new Set()).add(m[2]!));
      }
    }
    for (const [action, shas] of seen) expect([...shas], action).toEqual([pins[action]?.sha]);
    // Every pin is used somewhere (no stale entries).
    expect([...seen.keys()].sort()).toEqual(Object.keys(pins).sort());
  });
});

/** The project's own policy engine (scripts/check), from an installed project: it needs cel-js. */
async function loadEngine(): Promise<{
  runCheck(options: {
    root: string;
    format: 'json';
    synth: boolean;
    stdout: (s: string) => void;
  }): Promise<{ findings: Array<{ policy: string; message: string }> }>;
}> {
  const dir = await installedProject(clouds.both);
  return import(pathToFileURL(join(dir, 'scripts/check/check.js')).href);
}
const engine = await loadEngine();

describe('the policies of the catalogue', () => {
  it('MLOPS-040 (actions pinned) and MLOPS-041 (permissions) pass on every generated project', async () => {
    for (const cloud of Object.keys(clouds) as Cloud[]) {
      const report = await engine.runCheck({
        root: projects[cloud],
        format: 'json',
        synth: false,
        stdout: () => {},
      });
      const ci = report.findings.filter((f) => /MLOPS-04\d/.test(f.policy));
      expect(ci, cloud).toEqual([]);
    }
  });
});

describe('the rules catch what they are for', () => {
  const base = (job: string) => `name: x
on: push
permissions: {}
concurrency:
  group: x
jobs:
${job}`;
  const check = (text: string) =>
    workflowProblems(
      { label: 't', name: 'ci.yml', text, root: packageRoot, generated: false },
      { test: 'vitest' },
    );

  it('a tag, a branch or a short SHA is not a pin', () => {
    const text = base(`  test:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@main
      - uses: docker/login-action@5e57cd1 # v3.6.0
`);
    const problems = check(text);
    expect(problems.filter((x) => x.includes('not pinned'))).toHaveLength(3);
  });

  it('a pin without its comment, or an unknown action, is refused', () => {
    const text = base(`  test:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    permissions:
      contents: read
    steps:
      - uses: actions/setup-node@2028fbc5c25fe9cf00d9f06a71cc4710d4507903
      - uses: someone/else@2028fbc5c25fe9cf00d9f06a71cc4710d4507903 # v1.0.0
`);
    expect(check(text).join('\n')).toMatch(
      /no "# vX.Y.Z" comment[\s\S]*someone\/else is not one of the verified actions/,
    );
  });

  it('missing or broad permissions, no concurrency, scripts with expressions are refused', () => {
    const text = `name: x
on: pull_request
permissions: write-all
jobs:
  test:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    steps:
      - run: echo "\${{ github.event.pull_request.title }}"
      - run: npm run nope
`;
    const problems = check(text).join('\n');
    expect(problems).toContain('workflow-level permissions must be {}');
    expect(problems).toContain('no concurrency group');
    expect(problems).toContain('no explicit permissions map');
    expect(problems).toContain('inside a script');
    expect(problems).toContain('npm run nope: no such script');
  });

  it('a broken workflow fails the validator', () => {
    expect(check(base(`  test:\n    runs-on: ubuntu-24.04\n    stepz: []\n`)).join('\n')).toContain(
      'validator:',
    );
  });
});

describe('generated ci.yml', () => {
  it('installs with cache, lints, type-checks, tests with coverage, synthesizes, checks with SARIF, audits, scans secrets', () => {
    const wf = workflow('both:.github/workflows/ci.yml');
    const verify = wf.jobs.verify!;
    const text = JSON.stringify(verify);
    expect(verify.steps?.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.cache).toBe(
      'npm',
    );
    for (const needle of [
      'npm ci',
      'npm run lint',
      'npm run typecheck',
      'npm run test:coverage',
      'npm run synth:k8s',
      'npm run synth:infra',
      'npm run check -- --no-synth --format sarif --output check.sarif',
      'npm audit --omit=dev --audit-level=high',
    ]) {
      expect(text, needle).toContain(needle);
    }
    expect(
      verify.steps?.find((s) => s.uses?.startsWith('github/codeql-action/upload-sarif@'))?.with
        ?.sarif_file,
    ).toBe('check.sarif');
    expect(verify.steps?.find((s) => s.with?.scanners === 'secret')?.with?.['exit-code']).toBe('1');
  });

  it("the coverage threshold is in the generated package.json, with its provider pinned to vitest's version", async () => {
    for (const cloud of Object.keys(clouds) as Cloud[]) {
      const pkg = JSON.parse(await readFile(join(projects[cloud], 'package.json'), 'utf8'));
      expect(pkg.scripts['test:coverage']).toMatch(/--coverage\.thresholds\.lines=\d+/);
      expect(pkg.devDependencies['@vitest/coverage-v8']).toBe(pkg.devDependencies.vitest);
    }
  });

  it('builds with buildx and its cache, blocks on HIGH and CRITICAL, makes an SBOM', () => {
    const image = workflow('none:.github/workflows/ci.yml').jobs.image!;
    const build = image.steps!.find((s) => s.uses?.startsWith('docker/build-push-action@'))!;
    expect(build.with).toMatchObject({ push: false, 'cache-from': 'type=gha,scope=image' });
    expect(image.steps!.some((s) => s.uses?.startsWith('docker/setup-buildx-action@'))).toBe(true);
    const scan = image.steps!.find((s) => s.uses?.startsWith('aquasecurity/trivy-action@'))!;
    expect(scan.with).toMatchObject({ severity: 'HIGH,CRITICAL', 'exit-code': '1' });
    expect(image.steps!.some((s) => s.uses?.startsWith('anchore/sbom-action@'))).toBe(true);
  });

  it('on pushes to main: push by digest, scan it, sign keylessly, attest the SBOM; a tag promotes that digest', () => {
    const wf = workflow('gcp:.github/workflows/ci.yml');
    expect(wf.on).toMatchObject({ push: { branches: ['main'], tags: ['v*'] } });
    const publish = wf.jobs.publish!;
    expect(publish.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    // A tag builds and signs nothing: it resolves the digest main signed for the same commit.
    const promote = wf.jobs.promote!;
    expect(promote.if).toBe("github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')");
    const promoteRun = runs({ ...wf, jobs: { promote } });
    expect(promoteRun).toContain('node scripts/ci/promote.mjs --image');
    expect(promoteRun).not.toMatch(/cosign (sign|attest)|docker push/);
    expect(needsOf(publish).sort()).toEqual(['image', 'verify']);
    const run = runs({ ...wf, jobs: { publish } });
    expect(run).toContain('cosign sign --yes "$REF"');
    expect(run).toContain('cosign attest --yes --type spdxjson --predicate sbom.spdx.json "$REF"');
    expect(JSON.stringify(publish)).toContain('@${{ steps.build.outputs.digest }}');
    expect(
      publish.steps!.find((s) => s.uses?.startsWith('aquasecurity/trivy-action@'))?.with?.[
        'exit-code'
      ],
    ).toBe('1');
    // The deploys start only after publishing (main) or promoting (tag), and only on pushes.
    expect(needsOf(wf.jobs.deploy!).sort()).toEqual(['promote', 'publish']);
    expect(wf.jobs.deploy!.if).toContain(
      "needs.publish.result == 'success' || needs.promote.result == 'success'",
    );
    expect(JSON.stringify(wf.jobs.deploy)).toContain(
      'needs.publish.outputs.digest || needs.promote.outputs.digest',
    );
    expect(wf.jobs.deploy!.steps!.at(-1)!.run).toBe('bash scripts/ci/dispatch-deploys.sh');
  });

  it('runs the Node.js major the generated image targets', async () => {
    const answers = validateAnswers({ name: 'svc', model: 'model/model.onnx', ...clouds.both });
    const plan = buildPlan(answers, await introspectModel(join(fixturesDir, 'tabular.onnx')));
    for (const name of ['ci.yml', 'golden-path.yml']) {
      expect(
        (workflow(`both:.github/workflows/${name}`) as unknown as { env: Record<string, string> })
          .env.NODE_VERSION,
      ).toBe(String(plan.runtime.nodeMajor));
    }
  });
});

describe('generated golden-path.yml', () => {
  it('runs every dev environment of the plan in kind with a local registry, by digest', () => {
    const wf = workflow('both:.github/workflows/golden-path.yml');
    expect(runs(wf)).toContain('node scripts/ci/plan.mjs ids --stage dev');
    const kind = wf.jobs.kind!;
    expect(JSON.stringify(kind.strategy?.matrix)).toContain(
      'fromJSON(needs.environments.outputs.dev)',
    );
    expect(kind.steps!.find((s) => s.uses?.startsWith('helm/kind-action@'))?.with).toMatchObject({
      registry: true,
    });
    expect(runs(wf)).toContain("docker inspect --format '{{index .RepoDigests 0}}'");
    expect(kind.steps!.at(-1)!.run).toBe(
      'node scripts/ci/golden-path.mjs --env "$ENVIRONMENT" --image "$IMAGE"',
    );
  });
});

describe('generated deploy workflows', () => {
  it.each([
    ['gcp', 'gcp'],
    ['aws', 'aws'],
    ['both', 'gcp'],
    ['both', 'aws'],
  ] as const)(
    '%s project, deploy-%s.yml: dev -> staging -> prod (tags only), plan environments',
    async (cloud, target) => {
      const wf = workflow(`${cloud}:.github/workflows/deploy-${target}.yml`);
      expect(Object.keys(wf.on)).toEqual(['workflow_dispatch']);
      const { dev, staging, prod } = wf.jobs;
      expect(needsOf(staging!)).toEqual(['dev']);
      expect(needsOf(prod!)).toEqual(['staging']);
      expect(prod!.if).toBe("startsWith(github.ref, 'refs/tags/v')");
      const answers = validateAnswers({ name: 'svc', model: 'model/model.onnx', ...clouds[cloud] });
      const plan = buildPlan(answers, await introspectModel(join(fixturesDir, 'tabular.onnx')));
      for (const [job, stage] of [
        [dev, 'dev'],
        [staging, 'staging'],
        [prod, 'prod'],
      ] as const) {
        expect(job!.uses).toBe('./.github/workflows/deploy-environment.yml');
        const id = job!.with!.environment;
        const env = plan.environments.find((e) => e.id === id);
        expect(env, `${String(id)} in the plan`).toMatchObject({ cloud: target, stage });
        expect(job!.with!.digest).toBe('${{ inputs.digest }}');
      }
    },
  );

  it('one environment: verified signature, OIDC only, kustomize edit set image, apply, rollout, smoke, rollback', () => {
    const wf = workflow('both:.github/workflows/deploy-environment.yml');
    const job = wf.jobs.deploy!;
    expect(job.environment).toBe('${{ inputs.environment }}');
    const text = runs(wf);
    for (const needle of [
      'node scripts/ci/deploy.mjs verify-image "$ENVIRONMENT" --source "$SOURCE" --digest "$DIGEST"',
      'node scripts/ci/deploy.mjs publish-model "$ENVIRONMENT"',
      'node scripts/ci/deploy.mjs copy-image "$ENVIRONMENT" --source "$SOURCE" --digest "$DIGEST"',
      'node scripts/ci/deploy.mjs previous-revision "$ENVIRONMENT"',
      'kustomize edit set image "$IMAGE=$IMAGE@$DIGEST"',
      'kubectl apply -k "deploy/k8s/dist/$ENVIRONMENT"',
      'node scripts/ci/deploy.mjs rollout "$ENVIRONMENT"',
      'node scripts/ci/cluster-smoke.mjs --env "$ENVIRONMENT" --image "$IMAGE@$DIGEST" --mode deploy',
      'node scripts/ci/deploy.mjs rollback "$ENVIRONMENT" --previous "$PREVIOUS"',
    ]) {
      expect(text, needle).toContain(needle);
    }
    const names = job.steps!.map((s) => s.name);
    const at = (prefix: string) => names.findIndex((n) => n?.startsWith(prefix));
    // The model is published and the revision noted before anything is applied.
    expect(at('Publish the model')).toBeGreaterThan(at('Authenticate to AWS'));
    expect(at('Publish the model')).toBeLessThan(at('Apply'));
    expect(at("The workload's revision before the apply")).toBeLessThan(at('Apply'));
    // With canary delivery the rollout is watched with the plugin of the release the golden path
    // installs (one version for both workflows); without it the step does nothing.
    expect(at("Argo Rollouts' kubectl plugin")).toBeLessThan(at('Rollout'));
    const golden = workflow('both:.github/workflows/golden-path.yml');
    expect(job.env?.ARGO_ROLLOUTS_VERSION).toBe(golden.env?.ARGO_ROLLOUTS_VERSION);
    expect(
      job.steps!.find((s) => s.name?.startsWith("Argo Rollouts' kubectl plugin"))?.run,
    ).toMatch(/^grep -q '"progressiveDelivery": true' deploy\/plan.ts \|\| exit 0\n/);
    expect(at('Apply')).toBeLessThan(at('Smoke test from inside the cluster'));
    // GKE's control plane is reached through its DNS endpoint.
    expect(
      job.steps!.find((s) => s.uses?.startsWith('google-github-actions/get-gke-credentials@'))
        ?.with,
    ).toMatchObject({ use_dns_based_endpoint: true });
    expect(job.steps!.find((s) => s.name === 'Roll back')?.if).toMatch(/^failure\(\) && /);
    // No static keys: OIDC federation only.
    const all = JSON.stringify(wf);
    for (const key of [
      'credentials_json',
      'aws-access-key-id',
      'aws-secret-access-key',
      'AWS_SECRET_ACCESS_KEY',
    ]) {
      expect(all).not.toContain(key);
    }
    expect(uses(wf).some((u) => u.startsWith('google-github-actions/auth@'))).toBe(true);
    expect(uses(wf).some((u) => u.startsWith('aws-actions/configure-aws-credentials@'))).toBe(true);
  });
});

describe('generated template-update.yml', () => {
  it('runs weekly, upgrades, and opens a labelled pull request with the report', () => {
    const wf = workflow('none:.github/workflows/template-update.yml');
    expect(wf.on).toHaveProperty('schedule');
    expect(runs(wf)).toContain('node scripts/ci/template-update.mjs');
    const pr = stepsOf(wf).find((s) => s.uses?.startsWith('peter-evans/create-pull-request@'))!;
    expect(pr.with).toMatchObject({
      labels: '${{ steps.upgrade.outputs.labels }}',
      'body-path': '${{ steps.upgrade.outputs.body }}',
    });
  });
});

describe('generated model-release.yml', () => {
  it("gates a pull request that changes model/ against the base branch's model, with the project's own check", async () => {
    const wf = workflow('none:.github/workflows/model-release.yml');
    expect((wf.on as { pull_request: { paths: string[] } }).pull_request.paths).toEqual([
      'model/**',
      'model-gates.json',
    ]);
    const text = runs(wf);
    // The base branch's model/ is checked out by the action, models in Git LFS included (with the
    // action's token: the first checkout keeps none for a later `git archive` to fetch them with).
    const base = stepsOf(wf).find((s) => s.name?.startsWith('The model served now'))!;
    expect(base.uses).toMatch(/^actions\/checkout@/);
    expect(base.with).toMatchObject({
      ref: '${{ github.event.pull_request.base.sha || github.event.repository.default_branch }}',
      path: 'base-branch',
      'sparse-checkout': 'model',
      lfs: true,
    });
    expect(text).not.toContain('git archive');
    expect(text).toContain('npm run model:check -- model --current base-branch/model/model.onnx');
    // A challenger is gated against the pull request's champion, only when there is one.
    const challenger = stepsOf(wf).find((s) => s.name?.includes('challenger'))!;
    expect(challenger.if).toContain("hashFiles('model/challenger/model.onnx') != ''");
    expect(challenger.run).toContain(
      'npm run model:check -- model/challenger --current model/model.onnx',
    );
    // An unchanged model/ (only a challenger added) is not re-gated against itself.
    expect(text).toContain(`git diff --quiet "$BASE" HEAD -- model ':(exclude)model/challenger'`);
    expect((await scriptsOf(projects.none!))['model:check']).toContain(
      'dist/src/cli/model-check.js',
    );
  });
});

describe('generated workflows and models kept in Git LFS', () => {
  /** The jobs that read model/ (tests, the golden model image, the gates, an upgrade's reading). */
  const readers: Array<[string, string]> = [
    ['ci.yml', 'verify'],
    ['golden-path.yml', 'kind'],
    ['golden-path.yml', 'canary'],
    ['model-release.yml', 'gates'],
    ['template-update.yml', 'upgrade'],
  ];

  it.each(readers)('%s %s checks the models out from Git LFS', (name, job) => {
    const checkout = workflow(`both:.github/workflows/${name}`).jobs[job]!.steps![0]!;
    expect(checkout.uses).toMatch(/^actions\/checkout@/);
    expect(checkout.with).toMatchObject({ lfs: true });
  });

  it('the deploy, which may run on a self-hosted runner, asks for LFS only when .gitattributes does', () => {
    const wf = workflow('both:.github/workflows/deploy-environment.yml');
    expect(wf.jobs.runner!.outputs?.lfs).toBe('${{ steps.lfs.outputs.lfs }}');
    expect(wf.jobs.deploy!.steps![0]!.with?.lfs).toBe("${{ needs.runner.outputs.lfs == 'true' }}");
    // Jobs that never read model/ do not fetch it (the image leaves model/ out: .dockerignore).
    for (const job of ['image', 'publish']) {
      expect(
        workflow('both:.github/workflows/ci.yml').jobs[job]!.steps![0]!.with?.lfs,
      ).toBeUndefined();
    }
  });
});

describe("this repository's workflows", () => {
  it('CI: tests on Node 20, 22 and 24; examples:check and each example suite; a fresh project; the packed tarball via npx', () => {
    const wf = workflow('repo:.github/workflows/ci.yml');
    expect((wf.jobs.test!.strategy!.matrix as { node: string[] }).node).toEqual(['20', '22', '24']);
    expect(wf.on).toHaveProperty('pull_request');
    expect((wf.jobs.examples!.strategy!.matrix as { example: string[] }).example.sort()).toEqual([
      'bank-churn',
      'chicago-taxi',
      'nlp-insight',
    ]);
    const text = runs(wf);
    expect(text).toContain('npm run examples:check');
    expect(text).toContain('node bin/create-mlops-service.js "$RUNNER_TEMP/svc"');
    expect(text).toMatch(/npm pack .*--pack-destination/);
    expect(text).toContain('npx --yes --package "$TARBALL" create-mlops-service churn-api');
  });

  it('deploy-examples: each example image built, then its golden path in kind', () => {
    const wf = workflow('repo:.github/workflows/deploy-examples.yml');
    const job = wf.jobs['golden-path']!;
    expect(
      job.steps!.find((s) => s.uses?.startsWith('docker/build-push-action@'))?.with?.context,
    ).toBe('examples/${{ matrix.example }}');
    expect(job.steps!.at(-1)).toMatchObject({
      'working-directory': 'examples/${{ matrix.example }}',
      run: 'node scripts/ci/golden-path.mjs --env "$ENVIRONMENT" --image "$IMAGE"',
    });
    expect(runs(wf)).toMatch(/for example in bank-churn nlp-insight chicago-taxi/);
  });

  it('release: on tags, npm publish with provenance', () => {
    const wf = workflow('repo:.github/workflows/release.yml');
    expect(wf.on).toEqual({ push: { tags: ['v*'] } });
    expect(runs(wf)).toContain('npm publish --provenance');
  });
});
