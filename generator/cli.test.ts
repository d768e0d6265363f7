/** The built CLI, run as a child process the way users, CI and agents run it. */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir, runCli, tempDir } from './test-support/cli.js';
import { ptyAvailable, runInPty } from './test-support/pty.js';
import { answerFields, answerKeys } from './answers/schema.js';
import { generatorVersion } from './version.js';

const tabular = join(fixturesDir, 'tabular.onnx');
/** Two float outputs and no classifier operator: the task cannot be read from the graph. */
const twoOutputs = join(fixturesDir, 'wild/skl-preprocessing-two-outputs.onnx');

describe('create-mlops-service (no terminal)', () => {
  it('--help lists the commands and every question as a flag', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--name',
      '--model',
      '--cloud',
      '--gcp-project',
      '--aws-account-id',
      '--github-repo',
      '--gcp-project-number',
      '--aws-github-oidc-provider',
      '--eks-endpoint',
      '--eks-public-access-cidrs',
      '--min-replicas',
      '--cpu',
      '--answers',
      '--yes',
      '--json',
      '--no-git',
      '--no-install',
      'schema',
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });

  it('a model whose task the graph cannot state: exit 2 naming --task, nothing written', async () => {
    const cwd = await tempDir();
    const r = await runCli(['svc', '--model', twoOutputs, '--yes', '--no-git', '--no-install'], {
      cwd,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot tell what the model predicts.*--task tensor\|regression/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    await expect(readFile(join(cwd, 'svc/package.json'))).rejects.toThrow();
  });

  it('--version prints the version', async () => {
    const r = await runCli(['--version']);
    expect(r).toMatchObject({ code: 0, stdout: `${generatorVersion}\n` });
  });

  it('missing answers exit 2, list every missing key and a command that would work, and never prompt', async () => {
    const cwd = await tempDir();
    const r = await runCli(['--cloud', 'both'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'Missing answers: name, model, gcpProject, awsAccountId, githubRepo',
    );
    expect(r.stderr).toContain('--github-repo is required');
    expect(r.stderr).toContain(
      'npx create-mlops-service churn-api --model ./model.onnx --cloud both --gcp-project my-gcp-project --aws-account-id 123456789012 --github-repo my-org/churn-api',
    );
    expect(r.stdout + r.stderr).not.toMatch(/[◆◇│]/);
    expect(await readdir(cwd)).toEqual([]);
  });

  it('an invalid value names the flag, the value and what is allowed', async () => {
    const cwd = await tempDir();
    const r = await runCli(
      ['svc', '--yes', '--model', tabular, '--cloud', 'azure', '--max-replicas', '0'],
      { cwd },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '--cloud "azure": Invalid option: expected one of "gcp"|"aws"|"both"|"none"',
    );
    expect(r.stderr).toContain('--max-replicas 0: must be at least 1');
    expect(await readdir(cwd)).toEqual([]);
  });

  it('an unknown flag is a usage error', async () => {
    const r = await runCli(['--colour', 'blue']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--colour'");
  });

  it('a corrupt model is exit 2 with one line naming the fix and no stack trace', async () => {
    const cwd = await tempDir();
    const r = await runCli(['svc', '--yes', '--model', join(fixturesDir, 'corrupt.onnx')], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/corrupt\.onnx is not an ONNX model .*: re-export or re-download it/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await readdir(cwd)).toEqual([]);
  });

  it('--model may name a folder (an Optimum or MLflow export): its model.onnx is read with the files beside it', async () => {
    const cwd = await tempDir();
    const r = await runCli(
      [
        'svc',
        '--yes',
        '--no-git',
        '--no-install',
        '--model',
        join(fixturesDir, 'wild/transformer'),
      ],
      { cwd },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(await readdir(join(cwd, 'svc', 'model'))).toEqual(
      expect.arrayContaining(['model.onnx', 'tokenizer.json']),
    );
    const empty = await runCli(['other', '--yes', '--model', join(cwd, 'svc', 'src')], { cwd });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/--model .*src: the folder holds no \.onnx file/);
    expect(empty.stderr).toContain('or the folder that holds it');
  });

  it('a non-empty target is refused with exit 2', async () => {
    const cwd = await tempDir();
    await mkdir(join(cwd, 'svc'));
    await writeFile(join(cwd, 'svc', 'keep.txt'), 'mine');
    const r = await runCli(['svc', '--yes', '--no-git', '--no-install', '--model', tabular], {
      cwd,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not empty; nothing was written');
    expect(await readdir(join(cwd, 'svc'))).toEqual(['keep.txt']);
  });

  it('--answers supplies many answers, flags win, --json prints only a report on stdout', async () => {
    const cwd = await tempDir();
    await writeFile(
      join(cwd, 'answers.json'),
      JSON.stringify({
        name: 'from-file',
        owner: 'file-team',
        model: tabular,
        cloud: 'aws',
        awsAccountId: '123456789012',
        githubRepo: 'acme/churn-api',
      }),
    );
    const r = await runCli(
      ['--answers', 'answers.json', '--owner', 'flag-team', '--no-git', '--no-install', '--json'],
      { cwd },
    );
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      ok: true,
      service: 'from-file',
      clouds: ['aws'],
      environments: ['aws-dev', 'aws-staging', 'aws-prod'],
    });
    expect(report.model).toMatchObject({
      task: 'binary',
      features: ['Geography', 'Age', 'Balance'],
    });
    const recorded = JSON.parse(
      await readFile(join(cwd, 'from-file/.mlops-service/answers.json'), 'utf8'),
    );
    expect(recorded.answers.owner).toBe('flag-team');
  });

  it('--json reports a failure as JSON too', async () => {
    const r = await runCli(['--json', '--cloud', 'gcp'], { cwd: await tempDir() });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      exitCode: 2,
      error: expect.stringContaining('Missing answers'),
    });
  });

  it('git init makes a first commit unless --no-git', async () => {
    const cwd = await tempDir();
    const r = await runCli(['svc', '--yes', '--no-install', '--model', tabular, '--json'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).git).toEqual({ done: true });
    expect(await readdir(join(cwd, 'svc'))).toContain('.git');
  });

  it('without a terminal (and without CI) nothing is confirmed: the project is written', async () => {
    const cwd = await tempDir();
    const r = await runCli(['svc', '--model', tabular, '--no-git', '--no-install'], {
      cwd,
      env: { CI: undefined },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('Create the project?');
    expect(await readdir(join(cwd, 'svc'))).toContain('package.json');
  });

  it('schema prints the JSON Schema of the answers', async () => {
    const r = await runCli(['schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.title).toBe('create-mlops-service answers');
    expect(schema.properties.name.pattern).toBeTruthy();
  });
});

describe.skipIf(!ptyAvailable())('create-mlops-service (in a terminal)', () => {
  it('asks only what the flags did not settle, then creates the project', async () => {
    const cwd = await tempDir();
    const flags = [
      'svc',
      '--model',
      tabular,
      '--description',
      'A test',
      '--cloud',
      'gcp',
      '--gcp-project',
      'acme-ml-prod',
      '--gcp-region',
      'europe-west1',
      '--github-repo',
      'acme/churn-api',
      '--gcp-project-number',
      '123456789012',
      '--registry',
      'svc',
      '--min-replicas',
      '2',
      '--max-replicas',
      '4',
      '--memory',
      '1Gi',
      '--task',
      'binary',
      '--no-git',
      '--no-install',
    ];
    const r = await runInPty(
      flags,
      [
        { waitFor: 'Owner (team)', send: '\u0015risk-team\r' },
        { waitFor: 'Cost centre', send: '\r' },
        { waitFor: 'Canary delivery with Argo Rollouts', send: '\r' },
        { waitFor: 'CPU cores per pod', send: '\u00151.5\r' },
        { waitFor: 'Create the project?', send: '\r' },
      ],
      cwd,
      20_000,
    );
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).not.toContain('Service name');
    expect(r.screen).not.toContain('Path to the ONNX model');
    // The summary before writing: the answers and how the model was read.
    expect(r.screen).toContain('About to create');
    expect(r.screen).toContain('gcp (project acme-ml-prod, europe-west1)');
    expect(r.screen).toContain('prod 2-4 replicas, 1.5 CPU and 1Gi per pod');
    expect(r.screen).toContain('binary classification');
    expect(r.screen).toContain('Geography (category');
    expect(r.screen).toContain('Next steps');
    const recorded = JSON.parse(
      await readFile(join(cwd, 'svc/.mlops-service/answers.json'), 'utf8'),
    );
    expect(recorded.answers).toMatchObject({
      owner: 'risk-team',
      costCenter: 'ml',
      cpu: 1.5,
      description: 'A test',
      progressiveDelivery: false,
    });
  });

  /** The questions that only shape cloud resources: the cloud and capacity groups, but the cloud. */
  const cloudOnlyQuestions = answerKeys
    .filter((k) => k !== 'cloud')
    .filter((k) => ['cloud', 'capacity'].includes(answerFields[k].meta.group))
    .map((k) => answerFields[k].meta.message);

  it('without a cloud, asks nothing about registries, regions, accounts or capacity', async () => {
    expect(cloudOnlyQuestions).toEqual(
      expect.arrayContaining(['Registry repository', 'GCP region', 'Minimum replicas (prod)']),
    );
    const cwd = await tempDir();
    const r = await runInPty(
      [
        'svc',
        '--model',
        tabular,
        '--description',
        'A test',
        '--task',
        'binary',
        '--no-git',
        '--no-install',
      ],
      [
        { waitFor: 'Owner (team)', send: '\r' },
        { waitFor: 'Cost centre', send: '\r' },
        { waitFor: 'Cloud targets', send: '\r' }, // the default: none
        { waitFor: 'Create the project?', send: '\r' },
      ],
      cwd,
      20_000,
    );
    expect(r.code, r.screen).toBe(0);
    for (const message of cloudOnlyQuestions) expect(r.screen).not.toContain(message);
    expect(r.screen).toContain('none: the service and its Dockerfile');
    const recorded = JSON.parse(
      await readFile(join(cwd, 'svc/.mlops-service/answers.json'), 'utf8'),
    );
    // Unasked questions keep their defaults.
    expect(recorded.answers).toMatchObject({
      cloud: 'none',
      cpu: 2,
      maxReplicas: 10,
    });
    expect(recorded.answers.registry).toBeUndefined();
    // Left out: sized from the model whenever the project is rendered.
    expect(recorded.answers.memory).toBeUndefined();
  });

  it('choosing aws asks for its account and region, never for GCP', async () => {
    const cwd = await tempDir();
    const r = await runInPty(
      [
        'svc',
        '--model',
        tabular,
        '--description',
        'A test',
        '--task',
        'binary',
        '--owner',
        'risk-team',
        '--cost-center',
        'ml',
        '--no-git',
        '--no-install',
      ],
      [
        // From the default (none) up twice: both, then aws.
        { waitFor: 'Cloud targets', send: '\u001b[A\u001b[A\r' },
        { waitFor: 'AWS account id', send: '123456789012\r' },
        { waitFor: 'AWS region', send: '\r' },
        { waitFor: 'GitHub repository that deploys it', send: 'acme/churn-api\r' },
        { waitFor: "GitHub's OIDC provider", send: '\r' },
        { waitFor: 'EKS API endpoint', send: '\r' },
        { waitFor: 'CIDR blocks allowed', send: '\r' },
        { waitFor: 'Registry repository', send: '\r' },
        // A yes/no question: from the default (false) down once.
        { waitFor: 'Canary delivery with Argo Rollouts', send: '\u001b[B\r' },
        { waitFor: 'Minimum replicas (prod)', send: '\r' },
        { waitFor: 'Maximum replicas (prod)', send: '\r' },
        { waitFor: 'CPU cores per pod', send: '\r' },
        { waitFor: 'Memory per pod', send: '\r' },
        { waitFor: 'Create the project?', send: '\r' },
      ],
      cwd,
      30_000,
    );
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).not.toContain('GCP project id');
    expect(r.screen).not.toContain('GCP region');
    expect(r.screen).toContain('aws (account 123456789012, us-east-1)');
    const recorded = JSON.parse(
      await readFile(join(cwd, 'svc/.mlops-service/answers.json'), 'utf8'),
    );
    expect(recorded.answers).toMatchObject({
      cloud: 'aws',
      awsAccountId: '123456789012',
      githubRepo: 'acme/churn-api',
      awsGithubOidcProvider: 'create',
      eksEndpoint: 'public',
      eksPublicAccessCidrs: ['0.0.0.0/0'],
      progressiveDelivery: true,
    });
  });

  it('a model whose task the graph cannot state: asks for it, then records the choice', async () => {
    const cwd = await tempDir();
    const r = await runInPty(
      [
        'svc',
        '--model',
        twoOutputs,
        '--description',
        'A test',
        '--owner',
        'ml-team',
        '--cost-center',
        'ml',
        '--cloud',
        'none',
        '--no-git',
        '--no-install',
      ],
      [
        { waitFor: 'Task kind', send: '\r' }, // the first choice offered: tensor
        { waitFor: 'Create the project?', send: '\r' },
      ],
      cwd,
      20_000,
    );
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toContain('cannot tell what the model predicts');
    // Asked once, after the graph was read, with only the tasks that fit its outputs.
    expect(r.screen.match(/Task kind/g)).toHaveLength(2); // the question, then its answer
    expect(r.screen).not.toContain('text-classification');
    expect(r.screen).not.toContain('inferred when left out');
    const recorded = JSON.parse(
      await readFile(join(cwd, 'svc/.mlops-service/answers.json'), 'utf8'),
    );
    expect(recorded.answers).toMatchObject({ task: 'tensor' });
  });

  it('"No" or Ctrl-C at the summary writes nothing and exits 130', async () => {
    const all = [
      'svc',
      '--model',
      tabular,
      '--no-git',
      '--no-install',
      '--description',
      'A test',
      '--task',
      'binary',
      '--owner',
      'ml-team',
      '--cost-center',
      'ml',
      '--cloud',
      'none',
    ];
    const no = await tempDir();
    const declined = await runInPty(
      all,
      [{ waitFor: 'Create the project?', send: 'n' }],
      no,
      20_000,
    );
    expect(declined.code, declined.screen).toBe(130);
    expect(declined.screen).toContain('Cancelled. Nothing was written.');
    expect(await readdir(no)).toEqual([]);
    const cancel = await tempDir();
    const cancelled = await runInPty(
      all,
      [{ waitFor: 'Create the project?', send: '\u0003' }],
      cancel,
      20_000,
    );
    expect(cancelled.code, cancelled.screen).toBe(130);
    expect(cancelled.screen).toContain('Cancelled');
    expect(await readdir(cancel)).toEqual([]);
  });

  it('--yes in a terminal shows no summary and asks nothing', async () => {
    const cwd = await tempDir();
    const r = await runInPty(
      ['svc', '--yes', '--model', tabular, '--no-git', '--no-install'],
      [],
      cwd,
      20_000,
    );
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).not.toContain('Create the project?');
    expect(await readdir(join(cwd, 'svc'))).toContain('package.json');
  });

  it('Ctrl-C at a prompt exits 130 and leaves nothing behind', async () => {
    const cwd = await tempDir();
    const r = await runInPty(
      ['--no-git', '--no-install'],
      [{ waitFor: 'Service name', send: '\u0003' }],
      cwd,
      20_000,
    );
    expect(r.code).toBe(130);
    expect(r.screen).toContain('Cancelled');
    expect(await readdir(cwd)).toEqual([]);
  });
});
