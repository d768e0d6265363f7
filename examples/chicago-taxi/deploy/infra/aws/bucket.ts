/**
 * The hardening every S3 bucket of the project gets (the model bucket, the Terraform state
 * bucket): versioned, encrypted with KMS, never public, owned by the bucket owner, TLS only.
 */
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls/index.js';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy/index.js';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning/index.js';
import type { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import type { Construct } from 'constructs';
import { tlsOnlyBucketPolicy } from './policies.js';

/**
 * Hardens `bucket`; its resources are named `<id>-versioning`, `<id>-encryption`, ... Without a
 * customer-managed key (`keyArn` undefined), S3 uses the account's AWS-managed aws/s3 key.
 */
export function hardenBucket(
  scope: Construct,
  id: string,
  bucket: S3Bucket,
  keyArn: string | undefined,
): void {
  new S3BucketVersioningA(scope, `${id}-versioning`, {
    bucket: bucket.id,
    versioningConfiguration: { status: 'Enabled' },
  });
  new S3BucketServerSideEncryptionConfigurationA(scope, `${id}-encryption`, {
    bucket: bucket.id,
    rule: [
      {
        applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: keyArn },
        bucketKeyEnabled: true,
      },
    ],
  });
  const publicAccess = new S3BucketPublicAccessBlock(scope, `${id}-public-access`, {
    bucket: bucket.id,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  new S3BucketOwnershipControls(scope, `${id}-ownership`, {
    bucket: bucket.id,
    rule: { objectOwnership: 'BucketOwnerEnforced' },
  });
  new S3BucketPolicy(scope, `${id}-policy`, {
    bucket: bucket.id,
    policy: tlsOnlyBucketPolicy(scope, `${id}-tls-only`, bucket.arn).json,
    dependsOn: [publicAccess],
  });
}
