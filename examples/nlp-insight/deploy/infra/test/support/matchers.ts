/**
 * cdktf's testing matchers (toHaveResource, toHaveResourceWithProperties, ...) registered with
 * vitest's expect. cdktf ships them for jest; they only need a global `expect`.
 */
import { Testing } from 'cdktf';
import type { TerraformConstructor } from 'cdktf/lib/testing/matchers.js';
import { expect } from 'vitest';

(globalThis as { expect?: unknown }).expect ??= expect;
Testing.setupJest();

interface CdktfMatchers<R = unknown> {
  toHaveResource(resource: TerraformConstructor): R;
  toHaveResourceWithProperties(
    resource: TerraformConstructor,
    properties: Record<string, unknown>,
  ): R;
  toHaveDataSource(dataSource: TerraformConstructor): R;
  toHaveDataSourceWithProperties(
    dataSource: TerraformConstructor,
    properties: Record<string, unknown>,
  ): R;
  toHaveProvider(provider: TerraformConstructor): R;
  toHaveProviderWithProperties(
    provider: TerraformConstructor,
    properties: Record<string, unknown>,
  ): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Matchers<T = any> extends CdktfMatchers<T> {}
}

export { expect };
