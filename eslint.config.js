import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'templates/**',
      'examples/*/**',
      '!examples/models/**',
      'coverage/**',
      '**/node_modules/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Terminal escapes and control characters are what some of our patterns are about.
      'no-control-regex': 'off',
    },
  },
  {
    // A function a newcomer cannot hold in their head is split along its seams (tests excepted:
    // a describe block is a list, not an algorithm).
    files: ['**/*.{ts,js,mjs}'],
    ignores: ['**/*.test.ts', '**/__fixtures__/**'],
    rules: {
      'max-lines-per-function': [
        'error',
        { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true },
      ],
    },
  },
);
