/**
 * What every stack asks of the Terraform (or OpenTofu) that applies it. The S3 backend's native
 * lock file (`use_lockfile`) needs 1.10; the GCS backend locks natively.
 */
import type { TerraformStack } from 'cdktf';

export const requiredTerraformVersion = '>= 1.10';

export function requireTerraform(stack: TerraformStack): void {
  stack.addOverride('terraform.required_version', requiredTerraformVersion);
}
