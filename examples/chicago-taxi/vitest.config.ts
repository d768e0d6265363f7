import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'deploy/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    // Compiles src/ once for the tests that run the server as a child process.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
