/**
 * The joins between the deploy workflow (.github/workflows/deploy-environment.yml) and the stacks:
 * the identity the workflow authenticates as, read from deploy/plan.ts by scripts/ci/plan.mjs (or
 * from the GitHub environment's variable of the same meaning), is the identity the bootstrap stack
 * creates and outputs; that identity trusts exactly the GitHub environment the job runs in, of
 * this repository; and the namespace's deploy Role is bound to exactly it. Every value the job
 * reads from the plan exists for every environment.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { synthesize } from '../../k8s/app.js';
import * as plan from '../../plan.js';
import { type Block, referencedPolicyDocument, resource, synthStack } from './support/synth.js';

interface Step {
  name?: string;
  uses?: string;
  with?: Record<string, string>;
  run?: string;
  env?: Record<string, string>;
}

/** scripts/ci/plan.mjs: what the workflow reads of one environment (a string path: plain JS). */
const planScript: string = '../../../scripts/ci/plan.mjs';
const { describeEnvironment } = (await import(planScript)) as {
  describeEnvironment: (p: unknown, id: string) => Record<string, string | undefined>;
};

const workflow = parse(readFileSync('.github/workflows/deploy-environment.yml', 'utf8')) as {
  jobs: { deploy: { environment: string; steps: Step[] } };
};
const deploy = workflow.jobs.deploy;
const stepUsing = (action: string): Step => {
  const step = deploy.steps.find((s) => s.uses?.startsWith(`${action}@`));
  if (!step) throw new Error(`deploy-environment.yml: no step uses ${action}`);
  return step;
};

/** Each input of an authentication step: the plan's key, the fallback variable, the stack output. */
const identityInputs = {
  gcp: {
    action: 'google-github-actions/auth',
    inputs: [
      {
        input: 'service_account',
        planKey: 'deployServiceAccount',
        variable: 'GCP_DEPLOY_SERVICE_ACCOUNT',
        output: 'deploy_service_account_email',
      },
      {
        input: 'workload_identity_provider',
        planKey: 'workloadIdentityProvider',
        variable: 'GCP_WORKLOAD_IDENTITY_PROVIDER',
        output: 'workload_identity_provider',
      },
    ],
  },
  aws: {
    action: 'aws-actions/configure-aws-credentials',
    inputs: [
      {
        input: 'role-to-assume',
        planKey: 'deployRoleArn',
        variable: 'AWS_DEPLOY_ROLE_ARN',
        output: 'deploy_role_arn',
      },
    ],
  },
} as const;

/**
 * The plan values the job's steps read for an environment of `cloud` (steps for the other cloud
 * skipped), except those with a variable to fall back on (`steps.plan.outputs.a || vars.B`).
 */
function requiredPlanOutputs(cloud: string): string[] {
  const other = cloud === 'gcp' ? 'aws' : 'gcp';
  return deploy.steps
    .filter((s) => !String((s as { if?: string }).if ?? '').includes(`cloud == '${other}'`))
    .flatMap((s) => {
      const text = JSON.stringify(s);
      const optional = new Set(
        [...text.matchAll(/steps\.plan\.outputs\.(\w+) \|\| vars\./g)].map((m) => m[1]!),
      );
      return [...text.matchAll(/steps\.plan\.outputs\.(\w+)/g)]
        .map((m) => m[1]!)
        .filter((k) => !optional.has(k));
    });
}

/** The Kubernetes subject the deploy Role of an environment is bound to. */
function roleSubject(id: string): { kind: string; name: string } {
  const binding = synthesize(id).manifests.find(
    (m) => m.kind === 'RoleBinding' && m.metadata.name === plan.service.k8s.deployRole,
  ) as unknown as { subjects: Array<{ kind: string; name: string }> } | undefined;
  if (!binding) throw new Error(`${id}: no deploy RoleBinding`);
  expect(binding.subjects).toHaveLength(1);
  return binding.subjects[0]!;
}

describe('the deploy workflow', () => {
  it('runs each deploy in the GitHub environment named like the plan environment', () => {
    expect(deploy.environment).toBe('${{ inputs.environment }}');
    for (const env of plan.environments) {
      expect(env.githubEnvironment).toBe(env.id);
      expect(env.githubOidcSubject).toBe(
        `repo:${plan.github.repository}:environment:${env.githubEnvironment}`,
      );
    }
  });

  it.each(plan.environments.map((e) => [e.id] as const))(
    '%s: every value the job reads from the plan is there',
    (id) => {
      const described = describeEnvironment(plan, id);
      const keys = requiredPlanOutputs(described.cloud!);
      expect(keys).toContain('cluster');
      // `source` is the step's own output (the ghcr.io repository), not the plan's.
      for (const key of keys.filter((k) => k !== 'source'))
        expect(described[key], `${id}: steps.plan.outputs.${key}`).toBeTruthy();
    },
  );
});

for (const cloud of ['gcp', 'aws'] as const) {
  const envs = plan.environments.filter((e) => e.cloud === cloud);
  if (envs.length === 0) continue;
  const { action, inputs } = identityInputs[cloud];
  const bootstrap = () => synthStack(`${cloud}-bootstrap`).tf;

  describe(`${cloud}: the identity the workflow deploys as`, () => {
    it.each(inputs.map((i) => [i.input, i] as const))(
      '%s comes from the plan, else the variable of the same meaning, which the bootstrap stack outputs',
      (_input, i) => {
        expect(stepUsing(action).with?.[i.input]).toBe(
          `\${{ steps.plan.outputs.${i.planKey} || vars.${i.variable} }}`,
        );
        expect(bootstrap().output?.[i.output], `output ${i.output}`).toBeDefined();
      },
    );

    it.each(envs.map((e) => [e.id, e] as const))(
      '%s: is the identity the bootstrap stack creates, trusted from that environment only, bound to the Role',
      (id, env) => {
        const described = describeEnvironment(plan, id);
        const tf = bootstrap();
        // A one-cloud project's plan types `cloud` as that cloud only: compare it as a string.
        if ((env.cloud as string) === 'gcp') {
          const created = resource(tf, 'google_service_account', `deploy-identity-${env.stage}`);
          const email = `${String(created.account_id)}@${String(created.project)}.iam.gserviceaccount.com`;
          expect(described.deployServiceAccount).toBe(email);
          const outputs = tf.output?.deploy_service_account_email?.value as Record<string, string>;
          expect(outputs[id]).toBe(email);
          const trust = resource(
            tf,
            'google_service_account_iam_member',
            `deploy-identity-${env.stage}-github`,
          );
          expect(trust.role).toBe('roles/iam.workloadIdentityUser');
          expect(String(trust.member)).toMatch(new RegExp(`/subject/${env.githubOidcSubject}$`));
          if (described.workloadIdentityProvider !== undefined) {
            const pool = resource(tf, 'google_iam_workload_identity_pool', 'github-pool');
            const provider = resource(
              tf,
              'google_iam_workload_identity_pool_provider',
              'github-provider',
            );
            expect(described.workloadIdentityProvider).toMatch(
              new RegExp(
                `^projects/\\d+/locations/global/workloadIdentityPools/${String(pool.workload_identity_pool_id)}/providers/${String(provider.workload_identity_pool_provider_id)}$`,
              ),
            );
          }
          expect(roleSubject(id)).toMatchObject({ kind: 'User', name: email });
        } else {
          // The plan's type has no aws names in a GCP-only project: read them as data.
          const a = (env as unknown as { aws: { partition: string; accountId: string } }).aws;
          const role = resource(tf, 'aws_iam_role', `deploy-role-${env.stage}`);
          expect(described.deployRoleArn).toBe(
            `arn:${a.partition}:iam::${a.accountId}:role/${String(role.name)}`,
          );
          const outputs = tf.output?.deploy_role_arn?.value as Record<string, string>;
          expect(outputs[id]).toBe(described.deployRoleArn);
          const trust = (
            referencedPolicyDocument(tf, role.assume_role_policy).statement as Block[]
          )[0]!;
          const sub = (trust.condition as Array<{ variable: string; values: string[] }>).find((c) =>
            c.variable.endsWith(':sub'),
          );
          expect(sub?.values).toEqual([env.githubOidcSubject]);
          // The cluster maps the role to the group the Role binds (the environment's stack).
          const entry = resource(synthStack(id).tf, 'aws_eks_access_entry', 'deploy-access-entry');
          expect(entry.principal_arn).toBe(described.deployRoleArn);
          const subject = roleSubject(id);
          expect(subject.kind).toBe('Group');
          expect(entry.kubernetes_groups).toEqual([subject.name]);
        }
      },
    );
  });
}
