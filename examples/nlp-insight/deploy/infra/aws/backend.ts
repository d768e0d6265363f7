import { S3Backend, type TerraformStack } from 'cdktf';

/**
 * The S3 backend of a stack, locked by a lock file beside the state (`use_lockfile`), not by a
 * DynamoDB table (deprecated by Terraform 1.11). cdktf 0.21's bindings predate the option, hence
 * the override.
 */
export function s3Backend(
  stack: TerraformStack,
  state: { bucket: string; key: string; region: string },
): S3Backend {
  const backend = new S3Backend(stack, { ...state, encrypt: true });
  backend.addOverride('use_lockfile', true);
  return backend;
}
