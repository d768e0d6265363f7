/** Renders a project in-process, as `create-mlops-service <dir> --yes --no-git --no-install` would. */
import { join } from 'node:path';
import { type CreateOptions, create } from '../commands/create.js';
import { tempDir } from './cli.js';

/**
 * A fresh project from `flags` (the bank-churn example model unless `flags.model` says otherwise)
 * in a new temporary directory, or in `options.dir`; returns its path.
 */
export async function generateProject(
  flags: Record<string, unknown> = {},
  options: Partial<CreateOptions> & { prefix?: string } = {},
): Promise<string> {
  const { prefix = 'cms-project-', ...overrides } = options;
  const dir = overrides.dir ?? join(await tempDir(prefix), 'svc');
  await create({
    yes: true,
    overwrite: false,
    git: false,
    install: false,
    json: true,
    interactive: false,
    ...overrides,
    dir,
    flags,
  });
  return dir;
}
