import type { Construct } from 'constructs';
import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import type { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider/index.js';
import { Fn } from 'cdktf';

/** A bucket policy document that refuses every request not made over TLS. */
export function tlsOnlyBucketPolicy(
  scope: Construct,
  id: string,
  bucketArn: string,
): DataAwsIamPolicyDocument {
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
export function serviceTrust(
  scope: Construct,
  id: string,
  servicePrincipal: string,
): DataAwsIamPolicyDocument {
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

/**
 * The trust policy of an IRSA role: the cluster's OIDC provider, for exactly one Kubernetes service
 * account (`system:serviceaccount:<namespace>:<name>`), with the STS audience.
 */
export function irsaTrust(
  scope: Construct,
  id: string,
  oidc: IamOpenidConnectProvider,
  issuer: string,
  subject: string,
): DataAwsIamPolicyDocument {
  const issuerHost = Fn.replace(issuer, 'https://', '');
  return new DataAwsIamPolicyDocument(scope, id, {
    statement: [
      {
        effect: 'Allow',
        actions: ['sts:AssumeRoleWithWebIdentity'],
        principals: [{ type: 'Federated', identifiers: [oidc.arn] }],
        condition: [
          { test: 'StringEquals', variable: `${issuerHost}:sub`, values: [subject] },
          { test: 'StringEquals', variable: `${issuerHost}:aud`, values: ['sts.amazonaws.com'] },
        ],
      },
    ],
  });
}
