/* eslint-disable @typescript-eslint/no-explicit-any -- the plan is parsed JSON */
/**
 * A deploy rehearsal, offline: the generated deploy-environment.yml's job runs step by step (its own
 * `if:` conditions and expressions, its scripts in bash, in a generated project with its manifests
 * synthesized) against recorded stand-ins for gcloud, aws, kubectl, cosign and docker
 * (test-support/fake-cloud-cli.mjs), and the sequence of what it called is asserted: authenticate
 * as the deploy identity the plan names, publish the model before applying, reach the cluster the
 * way it allows, apply, wait, smoke, and roll back only when there is a revision to go back to.
 * The smoke script itself is tested against a real service in smoke.test.ts; here it is recorded.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../version.js';
import { installedProject } from '../test-support/installed-project.js';
import { type RecordedStep, type WorkflowStep, runJob } from '../test-support/workflow-runner.js';

const fake = resolve(packageRoot, 'generator/test-support/fake-cloud-cli.mjs');
const tools = ['gcloud', 'aws', 'kubectl', 'cosign', 'docker', 'kustomize'];
const repository = 'acme/churn-api';
const digest = `sha256:${'ab'.repeat(32)}`;
const source = `ghcr.io/${repository}`;

let dir = '';
let job: { env: Record<string, unknown>; steps: WorkflowStep[] };
let plan: {
  environments: Array<Record<string, any>>;
  model: { sha256: string };
  service: { k8s: { apiKeysSecret: string } };
};

beforeAll(async () => {
  dir = await installedProject({
    cloud: 'both',
    gcpProject: 'acme-ml',
    awsAccountId: '123456789012',
    githubRepo: repository,
  });
  const synth = spawnSync('npm', ['run', 'synth:k8s'], { cwd: dir, encoding: 'utf8' });
  expect(synth.status, synth.stderr).toBe(0);
  const wf = parseYaml(readFileSync(join(dir, '.github/workflows/deploy-environment.yml'), 'utf8'));
  job = wf.jobs.deploy;
  const read = spawnSync(
    process.execPath,
    [
      '-e',
      'import("./deploy/k8s/dist/.build/plan.js").then((p) => console.log(JSON.stringify(p)))',
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  plan = JSON.parse(read.stdout);
}, 300_000);

interface Rehearsal {
  readonly steps: RecordedStep[];
  /** Every stand-in call, in order: "tool arg arg...". */
  readonly calls: string[];
  readonly state: string;
}

/** A state directory for the stand-ins, prepared by `setup`. */
function rehearse(environment: string, setup: (state: string) => void = () => {}): Rehearsal {
  const root = mkdtempSync(join(tmpdir(), 'rehearsal-'));
  const bin = join(root, 'bin');
  const state = join(root, 'state');
  mkdirSync(bin);
  mkdirSync(join(state, 'signed'), { recursive: true });
  chmodSync(fake, 0o755);
  for (const t of tools) symlinkSync(fake, join(bin, t));
  // CI signed the image on main.
  writeFileSync(stateFile(state, 'signed', `${source}@${digest}`), '');
  setup(state);
  const log = join(root, 'calls.jsonl');
  writeFileSync(log, '');
  const steps = runJob(job.steps, {
    cwd: dir,
    env: job.env,
    contexts: {
      inputs: { environment, digest },
      vars: {
        GCP_DEPLOY_SERVICE_ACCOUNT: 'deployer@acme-ml.iam.gserviceaccount.com',
        AWS_DEPLOY_ROLE_ARN: 'arn:aws:iam::123456789012:role/deployer',
        GCP_WORKLOAD_IDENTITY_PROVIDER:
          'projects/1/locations/global/workloadIdentityPools/p/providers/github',
      },
      github: { repository, actor: 'ci', run_id: '7', sha: 'c0ffee' },
      secrets: { GITHUB_TOKEN: 'token' },
      needs: { runner: { outputs: { 'runs-on': '"ubuntu-24.04"', lfs: 'false' } } },
    },
    processEnv: {
      PATH: `${bin}:${process.env.PATH}`,
      FAKE_LOG: log,
      FAKE_STATE: state,
      GITHUB_REPOSITORY: repository,
      GITHUB_SHA: 'c0ffee0123456789',
      GITHUB_REF: 'refs/heads/main',
    },
    actionOutputs: { gcp: { access_token: 'token' } },
    notRun: ['npm ci', 'node scripts/ci/cluster-smoke.mjs'],
  });
  const calls = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const c = JSON.parse(l) as { tool: string; args: string[] };
      return [c.tool, ...c.args].join(' ');
    });
  return { steps, calls, state };
}

const envOf = (id: string) => plan.environments.find((e) => e.id === id)!;
const outcome = (r: Rehearsal, prefix: string) =>
  r.steps.find((s) => s.name.startsWith(prefix))?.outcome;
const firstIndex = (calls: string[], prefix: string) =>
  calls.findIndex((c) => c.startsWith(prefix));
/** A file of the stand-ins' state: `kind/<name>`, "/" written as %2F (fake-cloud-cli.mjs). */
const stateFile = (state: string, kind: string, name: string) =>
  join(state, kind, name.replace(/\//g, '%2F'));
const objectPath = (state: string, uri: string) => stateFile(state, 'objects', uri);
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('deploy rehearsal (recorded stand-ins for the cloud CLIs)', () => {
  it('gcp-dev, first deploy: identity from the plan, DNS endpoint, model published, image copied, applied, smoked', () => {
    const r = rehearse('gcp-dev');
    const failed = r.steps.filter((s) => s.outcome === 'failure');
    expect(failed, failed.map((s) => `${s.name}: ${s.output}`).join('\n')).toEqual([]);
    const env = envOf('gcp-dev');
    const auth = r.steps.find((s) => s.uses?.startsWith('google-github-actions/auth@'))!;
    // The deploy identity the bootstrap stack creates, named by the plan (not a variable).
    expect(auth.with?.service_account).toBe(env.gcp.deployServiceAccountEmail);
    expect(env.gcp.deployServiceAccountEmail).toMatch(/@acme-ml\.iam\.gserviceaccount\.com$/);
    expect(auth.with?.workload_identity_provider).toMatch(
      /^projects\/\d+\/locations\/global\/workloadIdentityPools\//,
    );
    const creds = r.steps.find((s) =>
      s.uses?.startsWith('google-github-actions/get-gke-credentials@'),
    )!;
    expect(creds.with).toMatchObject({
      cluster_name: env.gcp.cluster,
      project_id: env.gcp.project,
      use_dns_based_endpoint: 'true',
    });
    expect(r.steps.some((s) => s.uses?.startsWith('aws-actions/'))).toBe(false);
    // The model lands where the init container reads it, with the plan's sha256, before the apply.
    const modelUri: string = env.modelUri;
    expect(sha256(objectPath(r.state, modelUri))).toBe(plan.model.sha256);
    const upload = firstIndex(r.calls, `gcloud storage cp --no-clobber`);
    const apply = firstIndex(r.calls, 'kubectl apply -k');
    expect(upload).toBeGreaterThanOrEqual(0);
    expect(upload).toBeLessThan(apply);
    // The image: verified as CI's (main or a release tag), copied once, never re-signed.
    expect(r.calls[0]).toContain(`cosign verify ${source}@${digest} --certificate-identity-regexp`);
    expect(
      r.calls.some((c) => c.startsWith(`cosign copy ${source}@${digest} ${env.gcp.image}:`)),
    ).toBe(true);
    expect(r.calls.some((c) => /^cosign (sign|attest)/.test(c))).toBe(false);
    // Order: revision noted, apply, rollout, then the smoke step ran.
    expect(firstIndex(r.calls, 'kubectl get deployment/')).toBeLessThan(apply);
    expect(firstIndex(r.calls, 'kubectl rollout status')).toBeGreaterThan(apply);
    expect(outcome(r, 'Smoke test')).toBe('success');
    expect(outcome(r, 'Roll back')).toBe('skipped');
  });

  it('aws-staging, redeploy: nothing uploaded or copied twice; a failed rollout goes back to the revision before', () => {
    const env = envOf('aws-staging');
    const r = rehearse('aws-staging', (state) => {
      // An earlier deploy published this version and copied the image (immutable tags).
      const uri: string = env.modelUri;
      mkdirSync(join(state, 'objects'), { recursive: true });
      writeFileSync(objectPath(state, uri), readFileSync(join(dir, 'model/model.onnx')));
      for (const f of [
        'drift_baseline.json',
        'background.json',
        'golden.json',
        'metrics.json',
        'model.schema.json',
      ]) {
        const local = join(dir, 'model', f);
        if (existsSync(local))
          writeFileSync(
            objectPath(state, `${uri.slice(0, uri.lastIndexOf('/'))}/${f}`),
            readFileSync(local),
          );
      }
      writeFileSync(stateFile(state, 'signed', `${env.aws.image}@${digest}`), '');
      writeFileSync(join(state, 'revision'), '3');
      writeFileSync(join(state, 'rollout-fails'), '');
    });
    const auth = r.steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))!;
    expect(auth.with?.['role-to-assume']).toBe(env.aws.deployRoleArn);
    expect(env.aws.deployRoleArn).toMatch(/^arn:aws:iam::123456789012:role\//);
    expect(auth.with?.['aws-region']).toBe(env.aws.region);
    expect(r.calls.some((c) => c.startsWith('aws s3api put-object'))).toBe(false);
    expect(r.calls.some((c) => c.startsWith('cosign copy'))).toBe(false);
    expect(r.calls).toContain(
      `aws eks update-kubeconfig --name ${env.aws.cluster} --region ${env.aws.region}`,
    );
    expect(outcome(r, 'Rollout')).toBe('failure');
    expect(outcome(r, 'Smoke test')).toBe('skipped');
    expect(outcome(r, 'Roll back')).toBe('success');
    expect(
      r.calls.some((c) => c.startsWith('kubectl rollout undo') && c.includes('--to-revision=3')),
    ).toBe(true);
    // The failure explained itself: events and logs of the pods.
    expect(r.calls.some((c) => c.startsWith('kubectl get events'))).toBe(true);
  });

  it('a first rollout that fails is not "rolled back": the job says why and what failed', () => {
    const r = rehearse('gcp-staging', (state) => writeFileSync(join(state, 'rollout-fails'), ''));
    expect(outcome(r, 'Rollout')).toBe('failure');
    const rollback = r.steps.find((s) => s.name.startsWith('Roll back'))!;
    expect(rollback.outcome).toBe('failure');
    expect(rollback.output).toMatch(
      /first rollout of gcp-staging failed and there is no earlier revision/,
    );
    expect(r.calls.some((c) => c.startsWith('kubectl rollout undo'))).toBe(false);
    expect(r.calls.some((c) => c.startsWith('kubectl logs'))).toBe(true);
  });

  it('a published version is never overwritten: other bytes at the path stop the deploy before the apply', () => {
    const env = envOf('gcp-dev');
    const r = rehearse('gcp-dev', (state) => {
      mkdirSync(join(state, 'objects'), { recursive: true });
      writeFileSync(objectPath(state, env.modelUri), 'another model');
    });
    const publish = r.steps.find((s) => s.name.startsWith('Publish the model'))!;
    expect(publish.outcome).toBe('failure');
    expect(publish.output).toMatch(/never overwritten; bump the model version/);
    expect(readFileSync(objectPath(r.state, env.modelUri), 'utf8')).toBe('another model');
    expect(r.calls.some((c) => c.startsWith('kubectl apply'))).toBe(false);
    expect(outcome(r, 'Roll back')).toBe('skipped');
  });

  it('a checkout that left a Git LFS pointer in place of the model stops the publish, naming the fix', () => {
    const model = join(dir, 'model/model.onnx');
    const bytes = readFileSync(model);
    writeFileSync(
      model,
      `version https://git-lfs.github.com/spec/v1\noid sha256:${plan.model.sha256}\nsize ${bytes.byteLength}\n`,
    );
    try {
      const r = rehearse('gcp-dev');
      const publish = r.steps.find((s) => s.name.startsWith('Publish the model'))!;
      expect(publish.outcome).toBe('failure');
      expect(publish.output).toContain(
        'model/model.onnx is a Git LFS pointer, not the model: the checkout did not fetch the models from Git LFS (actions/checkout with `lfs: true`; the runner needs git-lfs), or run `git lfs pull`',
      );
      expect(r.calls.some((c) => c.startsWith('kubectl apply'))).toBe(false);
    } finally {
      writeFileSync(model, bytes);
    }
  });

  it("applies only the namespace's objects, after proving the identity may: a cluster never bootstrapped by an admin stops before the apply", () => {
    const ok = rehearse('gcp-prod');
    const preflight = ok.steps.find((s) => s.name.startsWith('May the deploy identity apply'))!;
    expect(preflight.outcome).toBe('success');
    const apply = firstIndex(ok.calls, 'kubectl apply -k');
    const canI = ok.calls.filter((c) => c.startsWith('kubectl auth can-i'));
    expect(canI).toContain(
      'kubectl auth can-i patch deployments.apps -n ' + envOf('gcp-prod').gcp.namespace,
    );
    expect(firstIndex(ok.calls, 'kubectl auth can-i')).toBeLessThan(apply);
    // What the deploy identity applies holds no cluster-scoped object and no RBAC; the admin's
    // part holds the namespace and the admission policies.
    const kinds = (file: string) =>
      readFileSync(join(dir, 'deploy/k8s/dist/gcp-prod', file), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('kind: '))
        .map((l) => l.slice(6));
    expect(kinds('manifests.yaml')).toContain('Deployment');
    for (const kind of [
      'Namespace',
      'ValidatingAdmissionPolicy',
      'ValidatingAdmissionPolicyBinding',
      'Role',
      'RoleBinding',
    ])
      expect(kinds('manifests.yaml')).not.toContain(kind);
    expect(kinds('cluster/manifests.yaml')).toEqual(
      expect.arrayContaining(['Namespace', 'ValidatingAdmissionPolicy', 'Role', 'RoleBinding']),
    );

    const r = rehearse('gcp-prod', (state) => writeFileSync(join(state, 'no-rbac'), ''));
    const refused = r.steps.find((s) => s.name.startsWith('May the deploy identity apply'))!;
    expect(refused.outcome).toBe('failure');
    expect(refused.output).toMatch(
      /may not .*create deployments\.apps.*kubectl apply -k deploy\/k8s\/dist\/gcp-prod\/cluster/,
    );
    expect(r.calls.some((c) => c.startsWith('kubectl apply'))).toBe(false);
    expect(outcome(r, 'Roll back')).toBe('skipped');
  });

  it("an image in the registry without CI's signature is refused, not deployed", () => {
    const env = envOf('aws-dev');
    const r = rehearse('aws-dev', (state) => {
      mkdirSync(join(state, 'present'), { recursive: true });
      writeFileSync(stateFile(state, 'present', `${env.aws.image}@${digest}`), '');
    });
    const copy = r.steps.find((s) => s.name.startsWith('Copy the signed image'))!;
    expect(copy.outcome).toBe('failure');
    expect(copy.output).toMatch(/carries no signature of this repository's CI/);
    expect(r.calls.some((c) => c.startsWith('kubectl apply'))).toBe(false);
  });
});

describe("the README's walkthrough from an empty account", () => {
  /** The shell commands of the section, one per `&&`-separated part of each line of its blocks. */
  function walkthrough(): string[] {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    const start = readme.indexOf('## From an empty account to a running service');
    expect(start).toBeGreaterThanOrEqual(0);
    const end = readme.indexOf('\n## ', start + 3);
    const section = readme.slice(start, end < 0 ? undefined : end);
    return [...section.matchAll(/```bash\n([\s\S]*?)```/g)]
      .flatMap((m) => m[1]!.split('\n'))
      .flatMap((l) => l.split(' && '))
      .map((c) => c.trim())
      .filter(Boolean);
  }

  it('runs only commands the project has: its scripts, stacks, outputs, kustomizations, clusters, environments and variables', () => {
    const scripts = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts as Record<
      string,
      string
    >;
    const envs = plan.environments;
    const stacks = new Set([
      ...envs.map((e) => e.id as string),
      ...new Set(envs.map((e) => `${e.cloud}-bootstrap`)),
    ]);
    const infraSource = spawnSync(
      'grep',
      ['-rhoE', "TerraformOutput\\([a-z]+, '[a-z_]+'", 'deploy/infra'],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    ).stdout;
    const outputs = new Set([...infraSource.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!));
    const workflows = ['deploy-environment.yml', 'deploy-gcp.yml', 'deploy-aws.yml']
      .map((f) => readFileSync(join(dir, '.github/workflows', f), 'utf8'))
      .join('\n');
    const rules: Array<[RegExp, (m: RegExpExecArray) => void]> = [
      [/^npm ci$/, () => {}],
      [/^npm run (\S+)$/, (m) => expect(scripts[m[1]!], `npm run ${m[1]}`).toBeDefined()],
      [
        /^cd (?:deploy\/infra\/cdktf\.out\/stacks\/|\.\.\/)(\S+)$/,
        (m) => expect(stacks.has(m[1]!), `stack ${m[1]}`).toBe(true),
      ],
      [/^terraform (init|apply)$/, () => {}],
      [/^terraform init -migrate-state$/, () => {}],
      [/^echo '.*' > backend_override\.tf\.json$/, () => {}],
      [/^rm backend_override\.tf\.json$/, () => {}],
      [
        /terraform (?:-chdir=deploy\/infra\/cdktf\.out\/stacks\/(\S+) )?output -(?:raw|json) ([a-z_]+)/,
        (m) => {
          expect(outputs.has(m[2]!), `output ${m[2]}`).toBe(true);
          if (m[1]) expect(stacks.has(m[1]), `stack ${m[1]}`).toBe(true);
        },
      ],
      [
        /^kubectl apply -k (\S+)$/,
        (m) => expect(existsSync(join(dir, m[1]!, 'kustomization.yaml')), m[1]).toBe(true),
      ],
      [
        /^gcloud container clusters get-credentials (\S+) --location (\S+) --project (\S+) --dns-endpoint$/,
        (m) =>
          expect(
            envs.some(
              (e) => e.gcp?.cluster === m[1] && e.gcp?.region === m[2] && e.gcp?.project === m[3],
            ),
            m[0],
          ).toBe(true),
      ],
      [
        /^aws eks update-kubeconfig --name (\S+) --region (\S+)$/,
        (m) =>
          expect(
            envs.some((e) => e.aws?.cluster === m[1] && e.aws?.region === m[2]),
            m[0],
          ).toBe(true),
      ],
      [
        /^gh api --method PUT repos\/(\S+)\/environments\/(\S+)$/,
        (m) => {
          expect(m[1]).toBe(repository);
          expect(envs.map((e) => e.githubEnvironment)).toContain(m[2]);
        },
      ],
      [
        /^gh variable set (\w+) --env (\S+) --body "\$\((.*)\)"$/,
        (m) => {
          expect(workflows, `vars.${m[1]}`).toContain(`vars.${m[1]}`);
          expect(envs.map((e) => e.githubEnvironment)).toContain(m[2]);
          const inner = rules.find(([re]) => re.test(m[3]!));
          expect(inner, m[3]).toBeDefined();
          inner![1](inner![0].exec(m[3]!)!);
        },
      ],
      [
        /^kubectl create secret generic (\S+) -n (\S+) --from-file=api-keys=\.\/api-keys$/,
        (m) => {
          expect(m[1]).toBe(plan.service.k8s.apiKeysSecret);
          const prod = envs.filter((e) => e.stage === 'prod');
          expect(prod.map((e) => (e.gcp ?? e.aws).namespace)).toContain(m[2]);
        },
      ],
      [
        /^gh secret set (\w+) --env (\S+)$/,
        (m) => {
          expect(workflows, `secrets.${m[1]}`).toContain(`secrets.${m[1]}`);
          expect(envs.map((e) => e.githubEnvironment)).toContain(m[2]);
        },
      ],
      [/^git push origin (main|v\d+\.\d+\.\d+)$/, () => {}],
      [/^git tag v\d+\.\d+\.\d+$/, () => {}],
    ];
    const commands = walkthrough();
    expect(commands.length).toBeGreaterThan(20);
    for (const command of commands) {
      const rule = rules.find(([re]) => re.test(command));
      expect(rule, `no rule knows: ${command}`).toBeDefined();
      rule![1](rule![0].exec(command)!);
    }
    // Both clouds' cluster parts, every environment's GitHub environment.
    for (const e of envs) {
      expect(commands).toContain(`kubectl apply -k deploy/k8s/dist/${e.id}/cluster`);
      expect(commands).toContain(`gh api --method PUT repos/${repository}/environments/${e.id}`);
    }
  });

  it(
    'publishes a challenger in model/challenger/ beside the champion, content-addressed, and the pods fetch it',
    { timeout: 180_000 },
    () => {
      const challengerDir = join(dir, 'model/challenger');
      mkdirSync(challengerDir, { recursive: true });
      for (const f of ['model.onnx', 'model.schema.json', 'metrics.json']) {
        if (existsSync(join(dir, 'model', f)))
          writeFileSync(join(challengerDir, f), readFileSync(join(dir, 'model', f)));
      }
      const synth = () => spawnSync('npm', ['run', 'synth:k8s'], { cwd: dir, encoding: 'utf8' });
      expect(synth().status).toBe(0);
      try {
        const r = rehearse('gcp-dev');
        const failed = r.steps.filter((s) => s.outcome === 'failure');
        expect(failed, failed.map((s) => `${s.name}: ${s.output}`).join('\n')).toEqual([]);
        const docs = readFileSync(join(dir, 'deploy/k8s/dist/gcp-dev/manifests.yaml'), 'utf8')
          .split(/^---$/m)
          .map((d) => parseYaml(d))
          .filter(Boolean);
        const init = docs
          .flatMap((d) => d.spec?.template?.spec?.initContainers ?? [])
          .find((c: any) => c.env?.some((e: any) => e.name === 'CHALLENGER_URI'));
        const env = Object.fromEntries(init.env.map((e: any) => [e.name, e.value]));
        const versions = envOf('gcp-dev').modelUri.split('/').slice(0, -2).join('/');
        expect(env.CHALLENGER_URI).toMatch(
          new RegExp(`^${versions}/challenger-[0-9a-f]{16}/model.onnx$`),
        );
        expect(env.CHALLENGER_SHA256).toBe(sha256(join(challengerDir, 'model.onnx')));
        expect(init.command.join('\n')).toContain(
          '"$CHALLENGER_SHA256" /models/challenger/model.onnx | sha256sum -c -',
        );
        // Uploaded where the pods read it, with the bytes of the project's folder.
        expect(sha256(objectPath(r.state, env.CHALLENGER_URI))).toBe(env.CHALLENGER_SHA256);
        for (const f of String(env.CHALLENGER_ARTIFACTS).split(' ').filter(Boolean)) {
          const uri = `${env.CHALLENGER_URI.slice(0, env.CHALLENGER_URI.lastIndexOf('/'))}/${f}`;
          expect(sha256(objectPath(r.state, uri)), f).toBe(sha256(join(challengerDir, f)));
        }
      } finally {
        rmSync(challengerDir, { recursive: true, force: true });
        expect(synth().status).toBe(0);
      }
    },
  );
});

describe('promote.mjs: a tag ships the digest main built and signed', () => {
  function promote(setup: (state: string) => void) {
    const root = mkdtempSync(join(tmpdir(), 'promote-'));
    const bin = join(root, 'bin');
    const state = join(root, 'state');
    mkdirSync(bin);
    mkdirSync(join(state, 'tags'), { recursive: true });
    mkdirSync(join(state, 'signed'), { recursive: true });
    for (const t of tools) symlinkSync(fake, join(bin, t));
    setup(state);
    const log = join(root, 'calls.jsonl');
    writeFileSync(log, '');
    const r = spawnSync(
      process.execPath,
      ['scripts/ci/promote.mjs', '--image', source, '--sha', 'c0ffee', '--repository', repository],
      {
        cwd: dir,
        encoding: 'utf8',
        env: {
          ...process.env,
          PATH: `${bin}:${process.env.PATH}`,
          FAKE_LOG: log,
          FAKE_STATE: state,
        },
      },
    );
    return { ...r, calls: readFileSync(log, 'utf8') };
  }

  it('prints the digest of sha-<commit> once main signed it, and signs nothing', () => {
    const r = promote((state) => {
      writeFileSync(stateFile(state, 'tags', `${source}:sha-c0ffee`), digest);
      writeFileSync(stateFile(state, 'signed', `${source}@${digest}`), '');
    });
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout).toContain(`digest=${digest}`);
    expect(r.calls).toContain(`ci.yml@refs/heads/main`);
    expect(r.calls).not.toMatch(/"(sign|attest|copy)"/);
  });

  it('refuses a commit main never published, and an unsigned digest', () => {
    expect(promote(() => {}).stdout).toMatch(
      /::error::.*sha-c0ffee does not exist: tag a commit that CI built and published on main/,
    );
    const unsigned = promote((state) =>
      writeFileSync(stateFile(state, 'tags', `${source}:sha-c0ffee`), digest),
    );
    expect(unsigned.status).toBe(1);
    expect(unsigned.stdout).toMatch(
      /is not signed by https:\/\/github.com\/acme\/churn-api\/.github\/workflows\/ci.yml@refs\/heads\/main/,
    );
  });
});
