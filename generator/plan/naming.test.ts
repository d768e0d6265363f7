import { describe, expect, it } from 'vitest';
import { validateAnswers } from '../answers/resolve.js';
import { awsNames, fit, gcpNames, serviceNames, stages } from './naming.js';

const long = `a${'b'.repeat(62)}`;
const answers = (name: string) =>
  validateAnswers({
    name,
    model: 'model/model.onnx',
    cloud: 'both',
    gcpProject: 'acme-ml-prod',
    awsAccountId: '123456789012',
    githubRepo: 'acme/churn-api',
  });

describe('naming', () => {
  it('fit keeps short names and cuts long ones to the limit with a stable, distinct hash', () => {
    expect(fit('churn-api-dev', 30)).toBe('churn-api-dev');
    const a = fit(`${long}-dev`, 30);
    const b = fit(`${long}-prod`, 30);
    expect(a).toHaveLength(30);
    expect(a).not.toBe(b);
    expect(fit(`${long}-dev`, 30)).toBe(a);
    expect(a).toMatch(/^[a-z][-a-z0-9]*[a-z0-9]$/);
  });

  it.each(['churn-api', long])('every derived name of %s fits its provider limit', (name) => {
    const a = answers(name);
    const svc = serviceNames(a);
    const w8 = (stage: string) => fit(`${name}-${stage}`, 63);
    expect(svc.k8s.driftCronJob.length).toBeLessThanOrEqual(52);
    expect(svc.k8s.dashboardUid.length).toBeLessThanOrEqual(40);
    expect(svc.k8s.apiKeysSecret).toMatch(/^[a-z0-9]([-a-z0-9]{0,251}[a-z0-9])?$/);
    for (const stage of stages) {
      const g = gcpNames(a, stage);
      expect(g.serviceAccountId).toMatch(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/);
      expect(g.nodeServiceAccountId.length).toBeLessThanOrEqual(30);
      expect(g.cluster.length).toBeLessThanOrEqual(40);
      expect(g.modelBucket.length).toBeLessThanOrEqual(63);
      expect(g.namespace).toBe(w8(stage));
      expect(g.workloadIdentityMember).toBe(
        `serviceAccount:acme-ml-prod.svc.id.goog[${g.namespace}/${svc.serviceAccount}]`,
      );
      expect(g.driftWorkloadIdentityMember).toBe(
        `serviceAccount:acme-ml-prod.svc.id.goog[${g.namespace}/${svc.driftServiceAccount}]`,
      );
      expect(g.driftServiceAccountId).toMatch(/^[a-z][-a-z0-9]{4,28}[a-z0-9]$/);
      const w = awsNames(a, stage);
      expect(w.roleName.length).toBeLessThanOrEqual(64);
      expect(w.clusterRole.length).toBeLessThanOrEqual(64);
      expect(w.modelBucket).toMatch(/^[a-z0-9][-a-z0-9]{1,61}[a-z0-9]$/);
      expect(w.roleArn).toBe(`arn:aws:iam::123456789012:role/${w.roleName}`);
      expect(w.namespace).toBe(g.namespace);
      expect(w.irsaSubject).toBe(`system:serviceaccount:${w.namespace}:${svc.serviceAccount}`);
      expect(w.driftRoleName.length).toBeLessThanOrEqual(64);
      expect(w.driftRoleName.length).toBeLessThanOrEqual(64);
    }
  });

  it('stages never share a namespace: Workload Identity pools are per project, not per cluster', () => {
    const a = answers('churn-api');
    const members = stages.map((s) => gcpNames(a, s).workloadIdentityMember);
    expect(new Set(members).size).toBe(3);
    expect(new Set(stages.map((s) => awsNames(a, s).irsaSubject)).size).toBe(3);
  });

  it("ARNs carry the region's partition", () => {
    const gov = validateAnswers({
      name: 'x1',
      model: 'm',
      cloud: 'aws',
      awsAccountId: '123456789012',
      githubRepo: 'acme/churn-api',
      awsRegion: 'us-gov-west-1',
    });
    expect(awsNames(gov, 'prod').roleArn).toMatch(/^arn:aws-us-gov:iam::123456789012:role\//);
    expect(awsNames(answers('x1'), 'prod').partition).toBe('aws');
  });

  it('environments never share a bucket or an identity', () => {
    const a = answers('churn-api');
    const buckets = stages.flatMap((s) => [gcpNames(a, s).modelBucket, awsNames(a, s).modelBucket]);
    const identities = stages.flatMap((s) => [
      gcpNames(a, s).serviceAccountEmail,
      awsNames(a, s).roleArn,
    ]);
    expect(new Set(buckets).size).toBe(buckets.length);
    expect(new Set(identities).size).toBe(identities.length);
  });
});
