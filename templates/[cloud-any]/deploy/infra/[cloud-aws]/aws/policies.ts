import type { Construct } from 'constructs';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';

/** A bucket policy document that refuses every request not made over TLS. */
export function tlsOnlyBucketPolicy(scope: Construct, id: string, bucketArn: string): DataAwsIamPolicyDocument {
  return new DataAwsIamPolicyDocument(scope, id, {
    statement: [
      {
        sid: 'DenyInsecureTransport',
        effect: 'Deny',
        actions: ['s3:*'],
        resources: [bucketArn, `${bucketArn}/*`],
        principals: [{ type: '*', identifiers: ['*'] }],
        condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
      },
    ],
  });
}

/** A trust policy for an AWS service principal such as `eks.amazonaws.com`. */
export function serviceTrust(scope: Construct, id: string, servicePrincipal: string): DataAwsIamPolicyDocument {
  return new DataAwsIamPolicyDocument(scope, id, {
    statement: [
      {
        effect: 'Allow',
        actions: ['sts:AssumeRole'],
        principals: [{ type: 'Service', identifiers: [servicePrincipal] }],
      },
    ],
  });
}
