/**
 * The scripts the generated workflows run (templates/scripts/ci/), without a cluster or a cloud:
 * the plan reader against a real rendered deploy/plan.ts, the kind overlay and the admission
 * policies of the golden path, the smoke pod's objects, the template-update pull request, and the
 * deploy dispatcher with a fake `gh`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { create } from '../commands/create.js';
import { fixturesDir, tempDir } from '../test-support/cli.js';
import { templatesDir } from '../version.js';

const ciScripts = join(templatesDir, 'scripts/ci');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const load = (name: string): Promise<any> => import(pathToFileURL(join(ciScripts, name)).href);

let project = '';
let planModule = '';

beforeAll(async () => {
  project = join(await tempDir('cms-ci-scripts-'), 'svc');
  await create({
    dir: project,
    yes: true,
    overwrite: false,
    git: false,
    install: false,
    json: true,
    interactive: false,
    flags: {
      model: join(fixturesDir, 'tabular.onnx'),
      cloud: 'both',
      gcpProject: 'acme-ml-prod',
      awsAccountId: '123456789012',
      githubRepo: 'acme/churn-api',
    },
  });
  // What `npm run synth:k8s` compiles (deploy/k8s/dist/.build/plan.js), without installing anything.
  const source = await readFile(join(project, 'deploy/plan.ts'), 'utf8');
  planModule = join(project, 'plan.compiled.mjs');
  writeFileSync(
    planModule,
    ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText,
  );
}, 120_000);

const planCli = (...args: string[]) =>
  spawnSync(process.execPath, ['scripts/ci/plan.mjs', ...args, '--plan', planModule], {
    cwd: project,
    encoding: 'utf8',
  });

describe('plan.mjs reads deploy/plan.ts for the workflows', () => {
  it('lists the dev environments, and each environment flat with what the deploy steps use', () => {
    const ids = planCli('ids', '--stage', 'dev');
    expect(ids.status, ids.stderr).toBe(0);
    expect(JSON.parse(ids.stdout)).toEqual(['gcp-dev', 'aws-dev']);
    const all = JSON.parse(planCli('ids').stdout) as string[];
    expect(all).toHaveLength(6);
    for (const id of all) {
      const r = planCli('environment', id);
      expect(r.status, r.stderr).toBe(0);
      const env = JSON.parse(r.stdout) as Record<string, unknown>;
      for (const key of [
        'id',
        'cloud',
        'stage',
        'namespace',
        'service',
        'image',
        'registryHost',
        'region',
        'cluster',
        'modelSha256',
      ]) {
        expect(
          typeof env[key] === 'string' && (env[key] as string).length > 0,
          `${id}.${key} = ${String(env[key])}`,
        ).toBe(true);
      }
      expect(env.port).toBeTypeOf('number');
      expect(env.selectorLabels).toBeTypeOf('object');
      expect(env[env.cloud === 'gcp' ? 'project' : 'accountId']).toBeTruthy();
      expect(String(env.image).startsWith(String(env.registryHost))).toBe(true);
    }
  });

  it('names an unknown environment and a missing plan clearly', () => {
    expect(planCli('environment', 'gcp-qa').stderr).toMatch(
      /no environment gcp-qa in deploy\/plan.ts \(gcp-dev, /,
    );
    const none = spawnSync(
      process.execPath,
      [join(ciScripts, 'plan.mjs'), 'ids', '--plan', 'nowhere.js'],
      { cwd: project, encoding: 'utf8' },
    );
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('cannot read the deploy plan');
  });
});

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'svc', namespace: 'svc-dev' },
  spec: {
    template: {
      spec: {
        initContainers: [
          {
            name: 'fetch-model',
            image: 'docker.io/google/cloud-sdk:1-slim@sha256:' + 'a'.repeat(64),
          },
        ],
        containers: [
          {
            name: 'svc',
            image: 'us-central1-docker.pkg.dev/acme/svc/svc',
            env: [{ name: 'MODEL_PATH', value: '/models/model.onnx' }],
            securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true },
            volumeMounts: [
              { name: 'tmp', mountPath: '/tmp' },
              { name: 'model', mountPath: '/models', readOnly: true },
            ],
          },
        ],
      },
    },
  },
};

describe('golden-path.mjs: the kind overlay', () => {
  const digest = 'sha256:' + 'b'.repeat(64);
  const overlay = async () =>
    (await load('golden-path.mjs')).goldenOverlay({
      envId: 'gcp-dev',
      deployment,
      cronJobs: [{ metadata: { name: 'svc-drift' } }],
      bindings: [{ metadata: { name: 'svc-mlops-014' } }],
      modelImage: `kind-registry:5000/service-golden-model@sha256:${'c'.repeat(64)}`,
      modelSha256: 'd'.repeat(64),
      image: `kind-registry:5000/service@${digest}`,
      imageName: 'us-central1-docker.pkg.dev/acme/svc/svc',
    });

  it('replaces the bucket fetch with a copy from the golden-model image into the same volume, suspends CronJobs, makes bindings Deny, pins the image', async () => {
    const o = await overlay();
    expect(o.resources).toEqual(['../../gcp-dev']);
    expect(o.replaced).toEqual(['fetch-model']);
    expect(o.images).toEqual([
      {
        name: 'us-central1-docker.pkg.dev/acme/svc/svc',
        newName: 'kind-registry:5000/service',
        digest,
      },
    ]);
    const [init, cron, binding] = o.patches as Array<{
      target: { kind: string; name: string };
      patch: string;
    }>;
    expect(init!.target).toMatchObject({ kind: 'Deployment', name: 'svc' });
    const [op] = JSON.parse(init!.patch);
    expect(op).toMatchObject({ op: 'replace', path: '/spec/template/spec/initContainers' });
    const [container] = op.value;
    expect(container.image).toMatch(/@sha256:c{64}$/);
    expect(container.volumeMounts).toEqual([{ name: 'model', mountPath: '/models' }]);
    expect(container.env).toEqual([{ name: 'MODEL_SHA256', value: 'd'.repeat(64) }]);
    expect(container.resources.requests.cpu).toBe(container.resources.limits.cpu);
    expect(JSON.parse(cron!.patch)).toEqual([{ op: 'add', path: '/spec/suspend', value: true }]);
    expect(binding!.target).toMatchObject({
      kind: 'ValidatingAdmissionPolicyBinding',
      name: 'svc-mlops-014',
    });
    expect(JSON.parse(binding!.patch)).toEqual([
      { op: 'add', path: '/spec/validationActions', value: ['Deny'] },
    ]);
  });

  it("the init container's script copies the model and refuses a wrong sha256", async () => {
    const o = await overlay();
    const script: string = JSON.parse((o.patches as Array<{ patch: string }>)[0]!.patch)[0].value[0]
      .command[2];
    const dir = await tempDir('cms-golden-model-');
    const src = join(dir, 'golden-model');
    const dest = join(dir, 'models');
    mkdirSync(src);
    mkdirSync(dest);
    writeFileSync(join(src, 'model.onnx'), 'weights');
    writeFileSync(join(src, 'golden.json'), '{}');
    const local = script
      .replaceAll("'/golden-model'", JSON.stringify(src))
      .replaceAll('"/models', JSON.stringify(dest).slice(0, -1));
    const sum = createHash('sha256').update('weights').digest('hex');
    const ok = spawnSync(process.execPath, ['-e', local], {
      env: { ...process.env, MODEL_SHA256: sum },
      encoding: 'utf8',
    });
    expect(ok.status, ok.stderr).toBe(0);
    expect(readFileSync(join(dest, 'golden.json'), 'utf8')).toBe('{}');
    const bad = spawnSync(process.execPath, ['-e', local], {
      env: { ...process.env, MODEL_SHA256: 'e'.repeat(64) },
      encoding: 'utf8',
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('model sha256');
  });

  it("installs the environment's policies and prod's digest rule, every binding Deny", async () => {
    const { admissionPolicies, requiresDigest } = await load('golden-path.mjs');
    const vap = (name: string, expression: string) => ({
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name },
      spec: { validations: [{ expression }] },
    });
    const binding = (name: string, policyName: string, action: string) => ({
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name },
      spec: {
        policyName,
        validationActions: [action],
        matchResources: {
          namespaceSelector: {
            matchLabels: {
              'kubernetes.io/metadata.name': name.endsWith('-prod') ? 'svc-prod' : 'svc-dev',
            },
          },
        },
      },
    });
    const overlays = new Map([
      [
        'gcp-dev',
        [
          vap('mlops-014', 'true'),
          binding('svc-mlops-014', 'mlops-014', 'Warn'),
          { kind: 'Deployment', metadata: { name: 'svc' } },
        ],
      ],
      [
        'gcp-prod',
        [
          vap('mlops-014', 'true'),
          binding('svc-mlops-014', 'mlops-014', 'Deny'),
          vap('mlops-016', "c.image.matches('@sha256:[a-f0-9]{64}$')"),
          binding('svc-mlops-016-prod', 'mlops-016', 'Deny'),
          vap('mlops-018', 'restricted'),
          binding('svc-mlops-018-prod', 'mlops-018', 'Deny'),
        ],
      ],
    ]);
    const policies = admissionPolicies('gcp-dev', overlays, 'svc-dev') as Array<{
      doc: {
        kind: string;
        metadata: { name: string };
        spec: { validationActions?: string[]; matchResources?: unknown };
      };
      from: string;
    }>;
    expect(policies.map((p) => `${p.doc.kind}/${p.doc.metadata.name}@${p.from}`)).toEqual([
      'ValidatingAdmissionPolicy/mlops-014@gcp-dev',
      'ValidatingAdmissionPolicyBinding/svc-mlops-014@gcp-dev',
      'ValidatingAdmissionPolicy/mlops-016@gcp-prod',
      'ValidatingAdmissionPolicyBinding/svc-mlops-016-prod@gcp-prod',
    ]);
    for (const p of policies.filter((x) => x.doc.kind.endsWith('Binding'))) {
      expect(p.doc.spec.validationActions).toEqual(['Deny']);
      // Every binding, prod's included, applies to the golden environment's namespace.
      expect(JSON.stringify(p.doc.spec)).toContain('"kubernetes.io/metadata.name":"svc-dev"');
    }
    expect(requiresDigest(policies)).toBe(true);
    expect(requiresDigest(policies.slice(0, 2))).toBe(false);

    // The namespace exists before any Deny binding: Kubernetes creates its `default` account.
    const { applyNamespaceThenPolicies } = await load('golden-path.mjs');
    const applied: string[] = [];
    const namespaceDoc = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'svc-dev' } };
    applyNamespaceThenPolicies(
      { envId: 'gcp-dev', namespace: 'svc-dev', namespaceDoc, overlays },
      (doc: { kind: string; items?: Array<{ kind: string }> }) =>
        applied.push(doc.kind === 'List' ? doc.items!.map((i) => i.kind).join('+') : doc.kind),
    );
    expect(applied[0]).toBe('Namespace');
    expect(applied[1]).toMatch(/ValidatingAdmissionPolicyBinding/);
  });
});

describe('cluster-smoke.mjs: the smoke pod and its policies', () => {
  const env = {
    namespace: 'svc-dev',
    service: 'svc',
    port: 8080,
    modelSha256: 'f'.repeat(64),
    selectorLabels: { 'app.kubernetes.io/name': 'svc', 'app.kubernetes.io/component': 'inference' },
    metricsUrls: ['http://10.0.0.7:8080', 'http://10.0.0.8:8080'],
  };
  const image = `registry.example/svc@sha256:${'a'.repeat(64)}`;

  it('reaches the metrics port too, and carries the credential of an environment that requires one', async () => {
    const { smokeObjects } = await load('cluster-smoke.mjs');
    const o = smokeObjects(
      { ...env, metricsPort: 9090, token: 'smoke-key' },
      { image, mode: 'deploy', goldenJson: '{"cases":[]}', runId: 'r2', denyCheck: false },
    );
    const ports = (p: {
      spec: {
        ingress?: Array<{ ports: Array<{ port: number }> }>;
        egress?: Array<{ ports: Array<{ port: number }> }>;
      };
    }) => (p.spec.ingress ?? p.spec.egress)![0]!.ports.map((x) => x.port);
    expect(ports(o.ingress)).toEqual([8080, 9090]);
    expect(ports(o.egress)).toEqual([8080, 9090]);
    expect(o.pod.spec.containers[0].env).toContainEqual({
      name: 'SMOKE_API_KEY',
      value: 'smoke-key',
    });
    const open = smokeObjects(env, {
      image,
      mode: 'deploy',
      goldenJson: '{}',
      runId: 'r3',
      denyCheck: false,
    });
    expect(open.pod.spec.containers[0].env.map((e: { name: string }) => e.name)).not.toContain(
      'SMOKE_API_KEY',
    );
  });

  it('runs the smoke script in the service image, restricted, through the Service, counting every pod', async () => {
    const { smokeObjects } = await load('cluster-smoke.mjs');
    const o = smokeObjects(env, {
      image,
      mode: 'golden',
      goldenJson: '{"cases":[]}',
      runId: 'r1',
      denyCheck: true,
    });
    const pod = o.pod;
    const [container] = pod.spec.containers;
    expect(container.image).toBe(image);
    expect(container.command.slice(0, 4)).toEqual([
      'node',
      '/smoke/smoke.mjs',
      '--url',
      'http://svc.svc-dev.svc.cluster.local',
    ]);
    expect(container.command.filter((a: string) => a === '--metrics-url')).toHaveLength(2);
    expect(container.command.join(' ')).toContain(
      `--mode golden --expect-sha256 ${'f'.repeat(64)}`,
    );
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.resources.requests.cpu).toBe(container.resources.limits.cpu);
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    // Its own account, declared without cloud access (MLOPS-019), applied before the pods.
    expect(pod.spec.serviceAccountName).toBe(o.serviceAccount.metadata.name);
    expect(o.denied.spec.serviceAccountName).toBe(o.serviceAccount.metadata.name);
    expect(o.serviceAccount.metadata.labels['policy.mlops-service/cloud-identity']).toBe('none');
    expect(Object.keys(o)[0]).toBe('serviceAccount');
    expect(o.configMap.data['smoke.mjs']).toBe(readFileSync(join(ciScripts, 'smoke.mjs'), 'utf8'));
  });

  it('opens exactly the smoke pod -> inference pods path, and keeps the denied probe out', async () => {
    const { smokeObjects } = await load('cluster-smoke.mjs');
    const o = smokeObjects(env, {
      image,
      mode: 'deploy',
      goldenJson: '{}',
      runId: 'r2',
      denyCheck: true,
    });
    const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => labels[k] === v);
    const smokeLabels = o.pod.metadata.labels;
    const deniedLabels = o.denied.metadata.labels;
    // Neither probe is an inference pod (the Service, the HPA and the PDB select those).
    expect(matches(env.selectorLabels, smokeLabels)).toBe(false);
    expect(matches(env.selectorLabels, deniedLabels)).toBe(false);
    // Both may leave (DNS, the inference port); only the smoke pod may enter the inference pods.
    expect(matches(o.egress.spec.podSelector.matchLabels, smokeLabels)).toBe(true);
    expect(matches(o.egress.spec.podSelector.matchLabels, deniedLabels)).toBe(true);
    expect(o.ingress.spec.podSelector.matchLabels).toEqual(env.selectorLabels);
    const from = o.ingress.spec.ingress[0].from[0].podSelector.matchLabels;
    expect(matches(from, smokeLabels)).toBe(true);
    expect(matches(from, deniedLabels)).toBe(false);
    expect(o.ingress.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 8080 }]);
    expect(o.denied.spec.containers[0].command.slice(0, 3)).toEqual([
      'node',
      '--input-type=module',
      '-e',
    ]);
  });

  it('the denied probe passes only when the service cannot be reached', async () => {
    const { smokeObjects } = await load('cluster-smoke.mjs');
    const o = smokeObjects(env, {
      image,
      mode: 'deploy',
      goldenJson: '{}',
      runId: 'r3',
      denyCheck: true,
    });
    const script: string = o.denied.spec.containers[0].command[3];
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const probe = (url: string) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
        const child = spawn(process.execPath, [
          '--input-type=module',
          '-e',
          script.replace('http://svc.svc-dev.svc.cluster.local/readyz', url),
        ]);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (status) => done({ status, stdout, stderr }));
      });
    try {
      const reached = await probe(`http://127.0.0.1:${port}/readyz`);
      expect(reached.status).toBe(1);
      expect(reached.stderr).toContain('the NetworkPolicies are not enforced');
    } finally {
      server.close();
    }
    const refused = await probe(`http://127.0.0.1:${port}/readyz`);
    expect(refused.status, refused.stderr).toBe(0);
    expect(refused.stdout).toContain('refused as expected: ECONNREFUSED');
  });
});

describe('template-update.mjs: the pull request', () => {
  const report = {
    upToDate: false,
    from: { version: '0.1.0' },
    to: { version: '0.2.0' },
    files: [
      { path: 'src/app.ts', action: 'merged', method: 'text' },
      {
        path: 'package.json',
        action: 'conflict',
        method: 'json',
        conflict: { keys: ['scripts.test'] },
      },
      { path: 'README.md', action: 'unchanged' },
    ],
    conflicts: ['package.json'],
    answers: { migrations: [], added: { newQuestion: 1 }, changed: {} },
    lockfiles: [],
    nextSteps: ['npm install'],
  };

  it('labels conflicts and lists them to resolve', async () => {
    const { pullRequest } = await load('template-update.mjs');
    const pr = pullRequest(report);
    expect(pr.changed).toBe(true);
    expect(pr.labels).toEqual(['template-update', 'conflicts']);
    expect(pr.title).toBe('create-mlops-service 0.1.0 -> 0.2.0 (1 conflict)');
    expect(pr.body).toContain('- [ ] `package.json`');
    expect(pr.body).toContain('| `src/app.ts` | merged, text |');
    expect(pr.body).not.toContain('README.md');
    expect(pr.body).toContain('`newQuestion`');
  });

  it('proposes nothing when the project is up to date', async () => {
    const { pullRequest } = await load('template-update.mjs');
    const pr = pullRequest({ ...report, upToDate: true, files: [], conflicts: [] });
    expect(pr.changed).toBe(false);
    expect(pr.labels).toEqual(['template-update']);
  });
});

describe('dispatch-deploys.sh (with a fake gh)', () => {
  async function setup(golden: string, deploys: string[]) {
    const dir = await tempDir('cms-dispatch-');
    mkdirSync(join(dir, '.github/workflows'), { recursive: true });
    mkdirSync(join(dir, 'bin'));
    if (golden !== 'absent')
      writeFileSync(join(dir, '.github/workflows/golden-path.yml'), 'name: x\n');
    for (const d of deploys) writeFileSync(join(dir, `.github/workflows/${d}`), 'name: x\n');
    const gh = join(dir, 'bin/gh');
    writeFileSync(
      gh,
      `#!/usr/bin/env bash\necho "$*" >> "${join(dir, 'gh.log')}"\nif [ "$1 $2" = "run list" ]; then echo "${golden}"; fi\n`,
    );
    chmodSync(gh, 0o755);
    const run = spawnSync('bash', [join(ciScripts, 'dispatch-deploys.sh')], {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
        DIGEST: `sha256:${'a'.repeat(64)}`,
        GITHUB_SHA: 'abc',
        GITHUB_REF_NAME: 'v1.2.3',
        GITHUB_STEP_SUMMARY: join(dir, 'summary.md'),
      },
    });
    const logFile = join(dir, 'gh.log');
    return { run, log: existsSync(logFile) ? readFileSync(logFile, 'utf8') : '' };
  }

  it('after a passed golden path, starts every deploy workflow on the same ref with the digest', async () => {
    const { run, log } = await setup('completed success https://x/runs/1', [
      'deploy-aws.yml',
      'deploy-gcp.yml',
    ]);
    expect(run.status, run.stderr).toBe(0);
    expect(log).toContain('run list --workflow golden-path.yml --commit abc --event push');
    expect(log).toContain(
      `workflow run deploy-aws.yml --ref v1.2.3 -f digest=sha256:${'a'.repeat(64)}`,
    );
    expect(log).toContain(
      `workflow run deploy-gcp.yml --ref v1.2.3 -f digest=sha256:${'a'.repeat(64)}`,
    );
  });

  it('starts nothing when the golden path failed, and nothing to do without deploy workflows', async () => {
    const failed = await setup('completed failure https://x/runs/2', ['deploy-gcp.yml']);
    expect(failed.run.status).toBe(1);
    expect(failed.run.stderr).toContain("ended 'failure'");
    expect(failed.log).not.toContain('workflow run');
    const none = await setup('absent', []);
    expect(none.run.status).toBe(0);
    expect(none.run.stdout).toContain('nothing to start');
  });
});
