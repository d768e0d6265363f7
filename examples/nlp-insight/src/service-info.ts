/**
 * The service's own name and version (from its package.json), reported by `GET /v2` and the
 * OpenAPI document.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServiceInfo {
  readonly name: string;
  readonly version: string;
  readonly description: string;
}

function find(): ServiceInfo {
  // src/ in development and tests, dist/src/ once built: the package.json is a few levels up.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(
        readFileSync(join(dir, 'package.json'), 'utf8'),
      ) as Partial<ServiceInfo>;
      if (typeof pkg.name === 'string') {
        return {
          name: pkg.name,
          version: pkg.version ?? '0.0.0',
          description: pkg.description ?? '',
        };
      }
    } catch {
      // keep looking
    }
    dir = dirname(dir);
  }
  return { name: 'mlservice', version: '0.0.0', description: '' };
}

export const serviceInfo: ServiceInfo = find();
