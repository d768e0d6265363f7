/**
 * What the plan tells the deploy side (stacks, manifests, workflows) about GitHub Actions: the
 * environment and OIDC subject of each environment, the deploy identities' names, where deploy
 * jobs run, and the repository.
 */
import { describe, expect, it } from 'vitest';
import { validateAnswers } from '../answers/resolve.js';
import type { ModelContract } from '../model/contract.js';
import { awsNames, gcpNames, stages } from './naming.js';
import { buildPlan } from './plan.js';

const model = { name: 'churn', version: '1.0.0', task: 'binary' } as unknown as ModelContract;
const answers = (extra: Record<string, unknown> = {}) =>
  validateAnswers({
    name: 'churn-api',
    model: 'model/model.onnx',
    cloud: 'both',
    gcpProject: 'acme-ml-prod',
    awsAccountId: '123456789012',
    githubRepo: 'acme/churn-api',
    ...extra,
  });

describe('the deploy plan', () => {
  it('gives every environment its GitHub environment, the one subject its identity trusts, and the repository', () => {
    const plan = buildPlan(answers(), model);
    expect(plan.github).toEqual({ repository: 'acme/churn-api' });
    for (const env of plan.environments) {
      expect(env.githubEnvironment).toBe(env.id);
      expect(env.githubOidcSubject).toBe(`repo:acme/churn-api:environment:${env.id}`);
    }
    expect(plan.environments.map((e) => e.id)).toContain('gcp-prod');
  });

  it('tells the manifests about canary delivery only when the answer is on (off renders as before)', () => {
    expect('progressiveDelivery' in buildPlan(answers(), model).runtime).toBe(false);
    expect(
      buildPlan(answers({ progressiveDelivery: true }), model).runtime.progressiveDelivery,
    ).toBe(true);
    const noCloud = validateAnswers({
      name: 'churn-api',
      model: 'm.onnx',
      progressiveDelivery: true,
    });
    expect('progressiveDelivery' in buildPlan(noCloud, model).runtime).toBe(false);
  });

  it('runs deploy jobs on GitHub-hosted runners unless the EKS API is private', () => {
    const hosted = buildPlan(answers(), model);
    expect(new Set(hosted.environments.map((e) => JSON.stringify(e.deploy.runsOn)))).toEqual(
      new Set(['"ubuntu-24.04"']),
    );
    const vpc = buildPlan(answers({ eksEndpoint: 'private' }), model);
    for (const env of vpc.environments) {
      expect(env.deploy.runsOn).toEqual(
        env.cloud === 'aws' ? ['self-hosted', 'linux'] : 'ubuntu-24.04',
      );
    }
  });

  it('keeps at least two ML nodes in prod', () => {
    const prod = buildPlan(answers(), model).environments.filter((e) => e.stage === 'prod');
    for (const env of prod) expect(env.nodePool.min).toBeGreaterThanOrEqual(2);
  });

  it('names the GCP deploy identities within their limits, one pool per project', () => {
    const long = validateAnswers({
      ...answers(),
      name: `gcp-${'b'.repeat(59)}`,
    });
    for (const a of [answers(), long]) {
      const names = stages.map((s) => gcpNames(a, s));
      for (const g of names) {
        expect(g.deployServiceAccountId).toMatch(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/);
        expect(g.deployServiceAccountEmail).toBe(
          `${g.deployServiceAccountId}@acme-ml-prod.iam.gserviceaccount.com`,
        );
        // Pool and provider ids: 4-32 of [a-z0-9-], never starting with "gcp-".
        for (const id of [g.workloadIdentityPool, g.workloadIdentityProviderId]) {
          expect(id).toMatch(/^[a-z][-a-z0-9]{2,30}[a-z0-9]$/);
          expect(id.startsWith('gcp-')).toBe(false);
        }
        expect(g.deployClusterRoleId).toMatch(/^[a-zA-Z0-9_.]{3,64}$/);
        expect(g.workloadIdentityProvider).toBeUndefined();
      }
      expect(new Set(names.map((g) => g.workloadIdentityPool)).size).toBe(1);
      expect(new Set(names.map((g) => g.deployServiceAccountEmail)).size).toBe(3);
      expect(
        new Set(names.map((g) => g.serviceAccountEmail)).has(names[0]!.deployServiceAccountEmail),
      ).toBe(false);
    }
  });

  it('names the Workload Identity provider in full once the project number is known', () => {
    const g = gcpNames(answers({ gcpProjectNumber: '123456789012' }), 'dev');
    expect(g.workloadIdentityProvider).toBe(
      `projects/123456789012/locations/global/workloadIdentityPools/${g.workloadIdentityPool}/providers/github`,
    );
  });

  it('names the AWS deploy roles and the account’s GitHub OIDC provider in the partition', () => {
    for (const stage of stages) {
      const w = awsNames(answers(), stage);
      expect(w.deployRoleName.length).toBeLessThanOrEqual(64);
      expect(w.deployRoleArn).toBe(`arn:aws:iam::123456789012:role/${w.deployRoleName}`);
      expect(w.githubOidcProviderArn).toBe(
        'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
      );
      expect(w.deployRoleName).not.toBe(w.roleName);
    }
    const gov = awsNames(answers({ awsRegion: 'us-gov-west-1' }), 'prod');
    expect(gov.githubOidcProviderArn).toMatch(/^arn:aws-us-gov:iam::/);
    expect(gov.deployRoleArn).toMatch(/^arn:aws-us-gov:iam::/);
  });
});
