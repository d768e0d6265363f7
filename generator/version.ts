import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

/** The package root: works from `generator/` (tests, tsx) and from `dist/generator/` (built). */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(resolve(dir, 'package.json'), 'utf8')) as {
        name?: string;
      };
      if (pkg.name === 'create-mlops-service') return dir;
    } catch {
      // not here: go up
    }
    dir = dirname(dir);
  }
  throw new Error('create-mlops-service: cannot find its own package.json');
}

export const packageRoot = findPackageRoot();
const pkg = JSON.parse(readFileSync(resolve(packageRoot, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
export const generatorName = pkg.name;
export const generatorVersion = pkg.version;
export const templatesDir = resolve(packageRoot, 'templates');
