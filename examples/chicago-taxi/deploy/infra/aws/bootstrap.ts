/**
 * What the AWS environments share, applied once before them: the Terraform state bucket (locked by
 * a lock file beside the state), the ECR repository and the deploy roles of GitHub Actions
 * (deploy-roles.ts). Its own state sits in the bucket it creates; the first apply runs
 * with a local backend override (see the README, "Cloud infrastructure").
 */
import { EcrLifecyclePolicy } from '@cdktf/provider-aws/lib/ecr-lifecycle-policy/index.js';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository/index.js';
import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias/index.js';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key/index.js';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { service } from '../../plan.js';
import { labelEveryResource, labelFields, resourceLabels } from '../lib/labels.js';
import { requireTerraform } from '../lib/terraform.js';
import { s3Backend } from './backend.js';
import { hardenBucket } from './bucket.js';
import { addAwsDeployRoles } from './deploy-roles.js';
import { awsShared, type AwsEnvironment } from './environments.js';

/** Days an untagged image is kept in the registry. */
const untaggedImageDays = 30;

/** The Terraform state's key: rotated, kept 30 days after deletion, never destroyed by Terraform. */
function addStateKey(scope: Construct, stateBucket: string): KmsKey {
  const key = new KmsKey(scope, 'state-key', {
    description: `Terraform state of ${service.service}`,
    enableKeyRotation: true,
    deletionWindowInDays: 30,
    lifecycle: { preventDestroy: true },
  });
  new KmsAlias(scope, 'state-key-alias', { name: `alias/${stateBucket}`, targetKeyId: key.keyId });
  return key;
}

/** The Terraform state bucket: versioned, SSE-KMS with the state key, never public, TLS only. */
function addStateBucket(scope: Construct, stateBucket: string, key: KmsKey): void {
  const bucket = new S3Bucket(scope, 'state-bucket', {
    bucket: stateBucket,
    forceDestroy: false,
    lifecycle: { preventDestroy: true },
  });
  hardenBucket(scope, 'state-bucket', bucket, key.arn);
}

/** The ECR repository: immutable tags, scanned on push, KMS-encrypted, untagged images expire. */
function addRegistry(scope: Construct): EcrRepository {
  const registry = new EcrRepository(scope, 'registry', {
    name: service.registryRepository,
    imageTagMutability: 'IMMUTABLE',
    imageScanningConfiguration: { scanOnPush: true },
    encryptionConfiguration: [{ encryptionType: 'KMS' }],
    forceDelete: false,
  });
  new EcrLifecyclePolicy(scope, 'registry-lifecycle', {
    repository: registry.name,
    policy: JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          description: `Expire untagged images after ${untaggedImageDays} days`,
          selection: {
            tagStatus: 'untagged',
            countType: 'sinceImagePushed',
            countUnit: 'days',
            countNumber: untaggedImageDays,
          },
          action: { type: 'expire' },
        },
      ],
    }),
  });
  return registry;
}

export class AwsBootstrapStack extends TerraformStack {
  constructor(scope: Construct, id: string, envs: readonly AwsEnvironment[]) {
    super(scope, id);
    const { accountId, region, stateBucket, bootstrapStateKey } = awsShared(envs);
    const tags = resourceLabels('shared');

    new AwsProvider(this, 'aws', {
      region,
      allowedAccountIds: [accountId],
      defaultTags: [{ tags }],
    });
    requireTerraform(this);
    s3Backend(this, { bucket: stateBucket, key: bootstrapStateKey, region });
    labelEveryResource(this, tags, labelFields.aws);

    const key = addStateKey(this, stateBucket);
    addStateBucket(this, stateBucket, key);
    const registry = addRegistry(this);
    addAwsDeployRoles(this, envs, registry);

    new TerraformOutput(this, 'registry_url', { value: registry.repositoryUrl });
    new TerraformOutput(this, 'state_bucket', { value: stateBucket });
  }
}
