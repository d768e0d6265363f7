/**
 * The cdktf app of nlp-insight: one bootstrap stack per cloud (state bucket, registry) and one
 * stack per environment of deploy/plan.ts. `npm run synth:infra` writes plain Terraform JSON to
 * deploy/infra/cdktf.out/stacks/<stack>/cdk.tf.json.
 */
import type { App, TerraformStack } from 'cdktf';
import { AwsBootstrapStack } from './aws/bootstrap.js';
import { AwsEnvironmentStack } from './aws/environment.js';
import { awsEnvironments } from './aws/environments.js';

/** Adds every stack to `app`; returns them by stack id (`gcp-bootstrap`, `gcp-dev`, ...). */
export function buildStacks(app: App): Map<string, TerraformStack> {
  const stacks = new Map<string, TerraformStack>();
  stacks.set('aws-bootstrap', new AwsBootstrapStack(app, 'aws-bootstrap', awsEnvironments));
  for (const env of awsEnvironments) stacks.set(env.id, new AwsEnvironmentStack(app, env.id, env));
  return stacks;
}
