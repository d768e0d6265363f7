/* eslint-disable @typescript-eslint/no-explicit-any -- edits reach into parsed manifests and JSON */
/**
 * The bad-edit suite (issue 7): a freshly generated project (cloud both, the bank-churn model, its
 * dependencies installed from the registry once) passes every policy; each known bad edit makes the
 * check fail with exactly the policy written for it. The project is synthesized once; each edit is
 * applied to a copy of the parsed model, or to one file re-parsed by the engine's own parser. The
 * engine is the project's (scripts/check), the one `npm run check` and `create-mlops-service check`
 * run. Also: the admission policies the cdk8s app emits are the catalogue's files, bound per stage.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test-support/cli.js';
import {
  type Engine,
  type Policy,
  type ProjectModel,
  installedProject,
  loadEngine,
} from '../test-support/installed-project.js';

let dir: string;
let engine: Engine;
let policies: readonly Policy[];
let model: ProjectModel;
let ts: unknown;

beforeAll(async () => {
  dir = await installedProject({
    cloud: 'both',
    gcpProject: 'acme-ml-prod',
    awsAccountId: '123456789012',
    githubRepo: 'acme/churn-api',
  });
  engine = await loadEngine(dir);
  policies = engine.loadCatalogue(join(dir, 'policies')).policies;
  model = await engine.buildModel(dir);
  ts = createRequire(join(dir, 'package.json'))('typescript');
}, 600_000);

/** The ids of the error-severity findings, each once. */
function errorsOf(m: ProjectModel): string[] {
  const { findings } = engine.evaluate(policies, m);
  return [...new Set(findings.filter((f) => f.severity === 'error').map((f) => f.policy))].sort();
}

function edited(edit: (m: ProjectModel) => void): ProjectModel {
  const copy = structuredClone(model);
  edit(copy);
  return copy;
}

const objects = (m: ProjectModel, kind: string, stage?: string) =>
  (m.manifests ?? [])
    .filter((e) => stage === undefined || e.stage === stage)
    .flatMap((e) => e.objects.filter((o) => o.kind === kind));
const container = (d: any) => d.spec.template.spec.containers[0];
const resources = (m: ProjectModel, type: string) =>
  (m.terraform ?? []).flatMap((s) => s.resources.filter((r) => r.type === type));
const dropResources = (m: ProjectModel, type: string) =>
  (m.terraform ?? []).forEach((s) => (s.resources = s.resources.filter((r) => r.type !== type)));
const dropObjects = (m: ProjectModel, keep: (o: any) => boolean) =>
  (m.manifests ?? []).forEach((e) => (e.objects = e.objects.filter(keep)));

/** A source file of the project, changed and re-parsed by the engine. */
async function withSource(path: string, change: (text: string) => string): Promise<ProjectModel> {
  const text = change(await readFile(join(dir, path), 'utf8'));
  const file = engine.parseImports(ts, path, text, (p) => existsSync(join(dir, p)));
  const m = structuredClone(model);
  m.source.files = m.source.files.map((f) => (f.path === path ? file : f));
  return m;
}

/**
 * The project's Dockerfile, or (until the service template ships one) the shape it must have:
 * multi-stage, the model left to the init container, a numeric non-root user.
 */
const fixtureDockerfile = `# syntax=docker/dockerfile:1
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER 10001:10001
EXPOSE 8080
CMD ["node", "dist/src/server.js"]
`;
const fixtureDockerignore = 'node_modules\ndist\nmodel/\n*.onnx\n.git\n';

async function dockerfile(): Promise<{ text: string; ignore: string }> {
  if (!existsSync(join(dir, 'Dockerfile')))
    return { text: fixtureDockerfile, ignore: fixtureDockerignore };
  return {
    text: await readFile(join(dir, 'Dockerfile'), 'utf8'),
    ignore: await readFile(join(dir, '.dockerignore'), 'utf8').catch(() => ''),
  };
}

async function withDockerfile(
  change: (text: string) => string,
  ignore?: string,
): Promise<ProjectModel> {
  const base = await dockerfile();
  const m = structuredClone(model);
  m.dockerfile = engine.parseDockerfile(change(base.text), 'Dockerfile', {
    dockerignore: ignore ?? base.ignore,
  });
  return m;
}

/** The project's CI workflow, changed as YAML and re-parsed. */
async function withWorkflow(change: (doc: any) => void): Promise<ProjectModel> {
  const path = '.github/workflows/ci.yml';
  const doc = parseYaml(await readFile(join(dir, path), 'utf8'));
  change(doc);
  const m = structuredClone(model);
  m.workflows = m.workflows.map((w) =>
    w.file === path ? engine.parseWorkflow(stringifyYaml(doc), path) : w,
  );
  return m;
}

describe('the freshly generated project (cloud both)', () => {
  it('synthesizes every environment and stack, and passes every policy', () => {
    expect(model.manifests?.map((e) => e.id)).toEqual([
      'aws-dev',
      'aws-prod',
      'aws-staging',
      'gcp-dev',
      'gcp-prod',
      'gcp-staging',
    ]);
    expect((model.terraform ?? []).length).toBeGreaterThanOrEqual(6);
    expect(model.workflows.length).toBeGreaterThan(0);
    const { findings, evaluated, skipped } = engine.evaluate(policies, model);
    expect(findings).toEqual([]);
    // Only the Dockerfile's policies may wait for the service template's Dockerfile.
    const waiting = model.dockerfile ? [] : ['MLOPS-005', 'MLOPS-006'];
    expect(skipped.map((s) => s.policy)).toEqual(waiting);
    expect(evaluated.length + skipped.length).toBe(policies.length);
  });

  it('its Dockerfile (or the fixture until there is one) passes the image policies', async () => {
    expect(errorsOf(await withDockerfile((t) => t))).toEqual([]);
  });
});

describe('each bad edit fails with exactly its policy', () => {
  const manifestEdits: Array<[string, string, (m: ProjectModel) => void]> = [
    [
      'a memory metric in the HPA',
      'MLOPS-010',
      (m) =>
        objects(m, 'HorizontalPodAutoscaler').forEach((h) =>
          h.spec.metrics.push({
            type: 'Resource',
            resource: { name: 'memory', target: { type: 'Utilization', averageUtilization: 80 } },
          }),
        ),
    ],
    [
      'an HPA CPU target of 90%',
      'MLOPS-011',
      (m) =>
        objects(m, 'HorizontalPodAutoscaler').forEach(
          (h) => (h.spec.metrics[0].resource.target.averageUtilization = 90),
        ),
    ],
    [
      'one replica in prod',
      'MLOPS-012',
      (m) => objects(m, 'HorizontalPodAutoscaler', 'prod').forEach((h) => (h.spec.minReplicas = 1)),
    ],
    [
      'the liveness probe removed',
      'MLOPS-013',
      (m) => objects(m, 'Deployment').forEach((d) => delete container(d).livenessProbe),
    ],
    [
      'liveness on the readiness path',
      'MLOPS-013',
      (m) =>
        objects(m, 'Deployment').forEach(
          (d) =>
            (container(d).livenessProbe.httpGet.path = container(d).readinessProbe.httpGet.path),
        ),
    ],
    [
      'a writable root filesystem',
      'MLOPS-014',
      (m) =>
        objects(m, 'Deployment').forEach(
          (d) => (container(d).securityContext.readOnlyRootFilesystem = false),
        ),
    ],
    [
      'runAsNonRoot dropped from the pod and its containers',
      'MLOPS-014',
      (m) =>
        objects(m, 'Deployment').forEach((d) => {
          delete d.spec.template.spec.securityContext.runAsNonRoot;
          for (const c of [
            ...d.spec.template.spec.containers,
            ...(d.spec.template.spec.initContainers ?? []),
          ])
            delete c.securityContext.runAsNonRoot;
        }),
    ],
    [
      'a CPU request below the limit',
      'MLOPS-015',
      (m) =>
        objects(m, 'Deployment').forEach((d) => (container(d).resources.requests.cpu = '250m')),
    ],
    [
      ':latest in prod',
      'MLOPS-016',
      (m) =>
        objects(m, 'Deployment', 'prod').forEach(
          (d) => (container(d).image = `${container(d).image.split('@')[0]}:latest`),
        ),
    ],
    [
      'a Pod Security label removed',
      'MLOPS-017',
      (m) =>
        objects(m, 'Namespace').forEach(
          (n) => delete n.metadata.labels['pod-security.kubernetes.io/warn'],
        ),
    ],
    [
      'prod enforcing baseline',
      'MLOPS-018',
      (m) =>
        objects(m, 'Namespace', 'prod').forEach(
          (n) => (n.metadata.labels['pod-security.kubernetes.io/enforce'] = 'baseline'),
        ),
    ],
    [
      'a static cloud key in an env var',
      'MLOPS-019',
      (m) =>
        objects(m, 'Deployment').forEach((d) =>
          container(d).env.push({ name: 'AWS_SECRET_ACCESS_KEY', value: 'wJalrXUtnFEMI/K7MDENG' }),
        ),
    ],
    [
      'the workload identity annotation removed',
      'MLOPS-019',
      (m) => objects(m, 'ServiceAccount').forEach((s) => delete s.metadata.annotations),
    ],
    [
      'a password as an env literal',
      'MLOPS-020',
      (m) =>
        objects(m, 'Deployment').forEach((d) =>
          container(d).env.push({ name: 'DB_PASSWORD', value: 'hunter2' }),
        ),
    ],
    [
      'the PodDisruptionBudget removed',
      'MLOPS-021',
      (m) => dropObjects(m, (o) => o.kind !== 'PodDisruptionBudget'),
    ],
    [
      'the default-deny NetworkPolicy removed',
      'MLOPS-022',
      (m) =>
        dropObjects(
          m,
          (o) =>
            !(o.kind === 'NetworkPolicy' && Object.keys(o.spec.podSelector ?? {}).length === 0),
        ),
    ],
    [
      'a pod with no allow policy (the drift job its policy removed)',
      'MLOPS-023',
      (m) =>
        dropObjects(
          m,
          (o) =>
            !(
              o.kind === 'NetworkPolicy' &&
              o.spec.podSelector?.matchLabels?.['app.kubernetes.io/component'] === 'drift-check'
            ),
        ),
    ],
    [
      'a Secret with values in the manifests',
      'MLOPS-024',
      (m) =>
        (m.manifests ?? []).forEach((e) => {
          const ns = e.objects.find((o) => o.kind === 'Namespace')!.metadata.name;
          e.objects.push({
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'db', namespace: ns },
            stringData: { password: 'hunter2' },
          });
        }),
    ],
    [
      'AUTH_MODE none in prod',
      'MLOPS-026',
      (m) =>
        objects(m, 'Deployment', 'prod').forEach((d) =>
          container(d)
            .env.filter((e: any) => e.name === 'AUTH_MODE')
            .forEach((e: any) => (e.value = 'none')),
        ),
    ],
    [
      'AUTH_MODE removed from prod (the server defaults to none)',
      'MLOPS-026',
      (m) =>
        objects(m, 'Deployment', 'prod').forEach(
          (d) => (container(d).env = container(d).env.filter((e: any) => e.name !== 'AUTH_MODE')),
        ),
    ],
    [
      'a prod Rollout whose canary runs no analysis (a copy of the Deployment)',
      'MLOPS-027',
      (m) =>
        (m.manifests ?? [])
          .filter((e) => e.stage === 'prod')
          .forEach((e) => {
            const d = structuredClone(e.objects.find((o) => o.kind === 'Deployment'))!;
            e.objects = e.objects.filter((o) => o.kind !== 'Deployment');
            e.objects.push({
              ...d,
              apiVersion: 'argoproj.io/v1alpha1',
              kind: 'Rollout',
              spec: {
                ...d.spec,
                strategy: { canary: { steps: [{ setWeight: 50 }, { pause: { duration: '5m' } }] } },
              },
            });
          }),
    ],
    [
      'an admission policy unbound in prod',
      'MLOPS-025',
      (m) =>
        (m.manifests ?? [])
          .filter((e) => e.stage === 'prod')
          .forEach(
            (e) =>
              (e.objects = e.objects.filter(
                (o) =>
                  !(
                    o.kind === 'ValidatingAdmissionPolicyBinding' &&
                    o.spec.policyName === 'mlops-010-hpa-cpu-only'
                  ),
              )),
          ),
    ],
    [
      'Warn instead of Deny in prod',
      'MLOPS-025',
      (m) =>
        objects(m, 'ValidatingAdmissionPolicyBinding', 'prod').forEach(
          (b) => (b.spec.validationActions = ['Warn']),
        ),
    ],
    [
      'an emitted admission policy that differs from the catalogue',
      'MLOPS-025',
      (m) =>
        objects(m, 'ValidatingAdmissionPolicy')
          .filter((v) => v.metadata.name === 'mlops-011-hpa-cpu-target')
          .forEach((v) => (v.spec.validations[0].expression = 'true')),
    ],
  ];

  it.each(manifestEdits)('%s: %s', (_name, id, edit) => {
    expect(errorsOf(edited(edit))).toEqual([id]);
  });

  const stackEdits: Array<[string, string, (m: ProjectModel) => void]> = [
    [
      'a GCS bucket without versioning',
      'MLOPS-030',
      (m) =>
        resources(m, 'google_storage_bucket').forEach((b) => (b.values.versioning.enabled = false)),
    ],
    [
      'an S3 bucket without versioning',
      'MLOPS-030',
      (m) => dropResources(m, 'aws_s3_bucket_versioning'),
    ],
    [
      'an S3 bucket without server-side encryption',
      'MLOPS-031',
      (m) => dropResources(m, 'aws_s3_bucket_server_side_encryption_configuration'),
    ],
    [
      "prod's GCS bucket on Google-managed keys",
      'MLOPS-031',
      (m) =>
        (m.terraform ?? [])
          .filter((s) => s.stage === 'prod')
          .flatMap((s) => s.resources.filter((r) => r.type === 'google_storage_bucket'))
          .forEach((b) => delete b.values.encryption),
    ],
    [
      'a GCS bucket readable by allUsers',
      'MLOPS-032',
      (m) =>
        (m.terraform ?? [])
          .filter((s) => s.resources.some((r) => r.type === 'google_storage_bucket'))
          .forEach((s) => {
            const bucket = s.resources.find((r) => r.type === 'google_storage_bucket')!;
            s.resources.push({
              type: 'google_storage_bucket_iam_member',
              name: 'public',
              address: 'google_storage_bucket_iam_member.public',
              values: {
                bucket: `\${${bucket.address}.name}`,
                member: 'allUsers',
                role: 'roles/storage.objectViewer',
              },
              refs: [bucket.address],
            });
          }),
    ],
    [
      'an S3 bucket without its public access block',
      'MLOPS-032',
      (m) => dropResources(m, 'aws_s3_bucket_public_access_block'),
    ],
    [
      'local Terraform state',
      'MLOPS-033',
      (m) =>
        (m.terraform ?? []).forEach(
          (s) => (s.backend = { type: 'local', config: { path: 'terraform.tfstate' } }),
        ),
    ],
  ];

  it.each(stackEdits)('%s: %s', (_name, id, edit) => {
    expect(errorsOf(edited(edit))).toEqual([id]);
  });

  const serverImport = (t: string) => `import cluster from 'node:cluster';\n${t}`;
  it("MLOPS-019 admits the namespace's default ServiceAccount and one declared without cloud access, and no other without an identity", () => {
    const withAccount = (sa: Record<string, unknown>) =>
      edited((m) =>
        m.manifests![0]!.objects.push({ apiVersion: 'v1', kind: 'ServiceAccount', ...sa }),
      );
    // Kubernetes creates `default` in every namespace; the smoke pods run under an account that
    // declares it never reaches the cloud.
    expect(errorsOf(withAccount({ metadata: { name: 'default', namespace: 'x' } }))).toEqual([]);
    expect(
      errorsOf(
        withAccount({
          metadata: {
            name: 'svc-smoke',
            namespace: 'x',
            labels: { 'policy.mlops-service/cloud-identity': 'none' },
          },
          automountServiceAccountToken: false,
        }),
      ),
    ).toEqual([]);
    expect(errorsOf(withAccount({ metadata: { name: 'svc-other', namespace: 'x' } }))).toEqual([
      'MLOPS-019',
    ]);
  });

  it('cluster.fork in the server: MLOPS-001', async () => {
    const m = await withSource(
      'src/server.ts',
      (t) =>
        `${serverImport(t)}\nif (cluster.isPrimary) for (let i = 0; i < 2; i++) cluster.fork();\n`,
    );
    expect(errorsOf(m)).toEqual(['MLOPS-001']);
  });

  it('onnxruntime-node imported in a route: MLOPS-003 (a type-only import is fine)', async () => {
    const route = 'src/routes/predict.ts';
    expect(
      errorsOf(
        await withSource(route, (t) => `import * as ort from 'onnxruntime-node';\nvoid ort;\n${t}`),
      ),
    ).toEqual(['MLOPS-003']);
    expect(
      errorsOf(
        await withSource(route, (t) => `import type { Tensor } from 'onnxruntime-node';\n${t}`),
      ),
    ).toEqual([]);
    expect(
      errorsOf(await withSource(route, (t) => `import '../inference/worker.js';\n${t}`)),
    ).toEqual(['MLOPS-003']);
  });

  it('a process manager in package.json: MLOPS-002', () => {
    const m = edited((x) => (x.packageJson!.dependencies.pm2 = '6.0.8'));
    expect(errorsOf(m)).toEqual(['MLOPS-002']);
    const s = edited(
      (x) => (x.packageJson!.scripts.start = 'pm2-runtime start dist/src/server.js -i 4'),
    );
    expect(errorsOf(s)).toEqual(['MLOPS-002']);
  });

  it('the model runtime on a range, or the lockfile disagreeing: MLOPS-004', () => {
    expect(
      errorsOf(edited((m) => (m.packageJson!.dependencies['onnxruntime-node'] = '^1.30.0'))),
    ).toEqual(['MLOPS-004']);
    expect(
      errorsOf(edited((m) => (m.packageJson!.lock.packages['onnxruntime-node'] = '1.21.0'))),
    ).toEqual(['MLOPS-004']);
  });

  it('a model file copied into the image: MLOPS-005', async () => {
    const copyModel = (t: string) =>
      t.replace(/^(USER .*)$/m, 'COPY model/model.onnx /models/model.onnx\n$1');
    expect(errorsOf(await withDockerfile(copyModel))).toEqual(['MLOPS-005']);
    // The whole context, with a .dockerignore that lets model/ in.
    const copyAll = (t: string) => t.replace(/^(USER .*)$/m, 'COPY . .\n$1');
    expect(errorsOf(await withDockerfile(copyAll, 'node_modules\n'))).toEqual(['MLOPS-005']);
  });

  it('a challenger in model/challenger/ with other features: MLOPS-028 (the same contract passes)', () => {
    const champion = model.models.find((m) => m.role === 'champion')!;
    expect(champion.features.length).toBeGreaterThan(1);
    const withChallenger = (features: readonly string[], described = true) =>
      edited((m) =>
        m.models.push({
          role: 'challenger',
          file: 'model/challenger/model.onnx',
          described,
          features: [...features],
        }),
      );
    expect(errorsOf(withChallenger(champion.features))).toEqual([]);
    const dropped = withChallenger(champion.features.slice(1));
    expect(errorsOf(dropped)).toEqual(['MLOPS-028']);
    const finding = engine
      .evaluate(policies, dropped)
      .findings.find((f) => f.policy === 'MLOPS-028')!;
    expect(finding.message).toContain(`model/ has ${champion.features[0]}`);
    expect(errorsOf(withChallenger([], false))).toEqual(['MLOPS-028']);
  });

  it('USER root in the Dockerfile: MLOPS-006', async () => {
    expect(errorsOf(await withDockerfile((t) => t.replace(/^USER .*$/m, 'USER root')))).toEqual([
      'MLOPS-006',
    ]);
    expect(errorsOf(await withDockerfile((t) => t.replace(/^USER .*\n/m, '')))).toEqual([
      'MLOPS-006',
    ]);
  });

  it('an action pinned by tag in a workflow: MLOPS-040', async () => {
    const m = await withWorkflow((doc) => {
      const job = Object.values(doc.jobs as Record<string, any>).find((j) => j.steps)!;
      const step = job.steps.find((s: any) => typeof s.uses === 'string')!;
      step.uses = `${step.uses.split('@')[0]}@v4`;
    });
    expect(errorsOf(m)).toEqual(['MLOPS-040']);
  });

  it('a workflow without token permissions: MLOPS-041', async () => {
    const m = await withWorkflow((doc) => {
      delete doc.permissions;
      for (const job of Object.values(doc.jobs as Record<string, any>)) delete job.permissions;
    });
    expect(errorsOf(m)).toEqual(['MLOPS-041']);
  });

  it('a leftover conflict marker: MLOPS-090; a hand-edited AGENTS.md: a MLOPS-091 warning', () => {
    const conflict = edited((m) => {
      const f = m.files.find((x) => x.path === 'deploy/k8s/config.ts')!;
      f.conflictLines = [12];
    });
    expect(errorsOf(conflict)).toEqual(['MLOPS-090']);
    const agents = edited((m) => (m.files.find((x) => x.path === 'AGENTS.md')!.edited = true));
    expect(errorsOf(agents)).toEqual([]);
    const { findings } = engine.evaluate(policies, agents);
    expect(findings.map((f) => [f.policy, f.severity, f.file])).toEqual([
      ['MLOPS-091', 'warning', 'AGENTS.md'],
    ]);
  });
});

describe('the admission policies in the cluster are the catalogue files', () => {
  it('every environment emits each kubernetes/ policy of its stage unchanged, bound with Deny in prod and Warn elsewhere', async () => {
    const files = (await readdir(join(dir, 'policies/kubernetes'))).filter((f) =>
      f.endsWith('.yaml'),
    );
    expect(files.length).toBeGreaterThanOrEqual(10);
    const catalogue = await Promise.all(
      files.map(async (f) =>
        parseYaml(await readFile(join(dir, 'policies/kubernetes', f), 'utf8')),
      ),
    );
    for (const env of model.manifests ?? []) {
      const namespace = env.objects.find((o) => o.kind === 'Namespace')!.metadata.name;
      for (const policy of catalogue) {
        const stages = policy.metadata.annotations['policy.mlops-service/stages'];
        const bound = stages === undefined || stages.split(',').includes(env.stage);
        const emitted = env.objects.filter(
          (o) => o.kind === 'ValidatingAdmissionPolicy' && o.metadata.name === policy.metadata.name,
        );
        const bindings = env.objects.filter(
          (o) =>
            o.kind === 'ValidatingAdmissionPolicyBinding' &&
            o.spec.policyName === policy.metadata.name,
        );
        const where = `${env.id} ${policy.metadata.name}`;
        if (!bound) {
          expect([emitted.length, bindings.length], where).toEqual([0, 0]);
          continue;
        }
        expect(emitted.length, where).toBe(1);
        expect(isDeepStrictEqual(emitted[0], policy), where).toBe(true);
        expect(
          bindings.map((b) => b.spec),
          where,
        ).toEqual([
          {
            policyName: policy.metadata.name,
            validationActions: env.stage === 'prod' ? ['Deny'] : ['Warn'],
            matchResources: {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
            },
          },
        ]);
      }
    }
  });
});

describe('create-mlops-service check and npm run check', () => {
  it('pass on the project, with a SARIF 2.1.0 report of every policy', async () => {
    const r = await runCli([
      'check',
      dir,
      '--no-synth',
      '--format',
      'sarif',
      '--output',
      'check.sarif',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/check passed: \d+ policies evaluated/);
    const sarif = JSON.parse(await readFile(join(dir, 'check.sarif'), 'utf8'));
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0].tool.driver.rules.map((r: { id: string }) => r.id)).toEqual(
      policies.map((p) => p.id),
    );
    expect(sarif.runs[0].results).toEqual([]);
  });

  it('fail with the file, object, policy id, message and fix of a real edit (exit 1)', async () => {
    const server = join(dir, 'src/server.ts');
    const original = await readFile(server, 'utf8');
    await writeFile(server, `import cluster from 'node:cluster';\nvoid cluster;\n${original}`);
    try {
      const r = await runCli(['check', dir, '--no-synth']);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toContain('MLOPS-001 error: One server process per pod');
      expect(r.stdout).toContain('src/server.ts');
      expect(r.stdout).toContain('imports the cluster module (line 1)');
      expect(r.stdout).toContain('fix: Remove the cluster import');
      expect(r.stdout).toContain('why: docs/adr/0003-one-server-process-per-pod.md');
      expect(r.stdout).toMatch(/check failed: .* 1 error\(s\)/);

      const { spawnSync } = await import('node:child_process');
      const own = spawnSync(
        process.execPath,
        ['scripts/check/cli.js', '--no-synth', '--format', 'json'],
        {
          cwd: dir,
          encoding: 'utf8',
        },
      );
      expect(own.status, own.stderr).toBe(1);
      const report = JSON.parse(own.stdout);
      expect(
        report.findings.map((f: { policy: string; file: string }) => [f.policy, f.file]),
      ).toEqual([['MLOPS-001', 'src/server.ts']]);
      expect(report.edited).toContain('src/server.ts');
    } finally {
      await writeFile(server, original);
    }
  });

  it('says what to do in a directory that is not a generated project (exit 2)', async () => {
    const r = await runCli(['check', join(dir, 'src')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('has no policy check (scripts/check/check.js)');
  });
});
