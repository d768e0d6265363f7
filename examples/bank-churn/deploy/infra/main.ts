/**
 * The cdktf app of bank-churn: one bootstrap stack per cloud (state bucket, registry) and one
 * stack per environment of deploy/plan.ts. `npm run synth:infra` writes plain Terraform JSON to
 * deploy/infra/cdktf.out/stacks/<stack>/cdk.tf.json.
 */
import type { App, TerraformStack } from 'cdktf';
import { GcpBootstrapStack } from './gcp/bootstrap.js';
import { GcpEnvironmentStack } from './gcp/environment.js';
import { gcpEnvironments } from './gcp/environments.js';

/** Adds every stack to `app`; returns them by stack id (`gcp-bootstrap`, `gcp-dev`, ...). */
export function buildStacks(app: App): Map<string, TerraformStack> {
  const stacks = new Map<string, TerraformStack>();
  stacks.set('gcp-bootstrap', new GcpBootstrapStack(app, 'gcp-bootstrap', gcpEnvironments));
  for (const env of gcpEnvironments) stacks.set(env.id, new GcpEnvironmentStack(app, env.id, env));
  return stacks;
}
