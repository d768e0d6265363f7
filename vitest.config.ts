import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['generator/**/*.test.ts', 'examples/models/**/*.test.ts', 'benchmarks/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**', 'templates/**'],
    testTimeout: 30_000,
    hookTimeout: 300_000,
    pool: 'forks',
    setupFiles: ['generator/test-support/temp-dirs.setup.ts'],
  },
});
