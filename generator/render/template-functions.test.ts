/**
 * The generated project is what users read first: no function in its code (the templates that
 * are copied as they are: TypeScript and JavaScript, tests excepted) is longer than a newcomer can
 * hold in their head. The same bound as this repository's own lint (eslint.config.js).
 */
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { templatesDir } from '../version.js';

const maxLines = 80;

describe('the generated code', () => {
  it(`has no function over ${maxLines} lines`, async () => {
    const eslint = new ESLint({
      cwd: templatesDir,
      overrideConfigFile: true,
      overrideConfig: [
        {
          files: ['**/*.{ts,js,mjs}'],
          ignores: ['**/*.test.ts', '**/test/**/*.test.ts'],
          languageOptions: { parser: tseslint.parser },
          // The templates' own disable comments name these rules: they must resolve, not run.
          plugins: { '@typescript-eslint': tseslint.plugin },
          linterOptions: { reportUnusedDisableDirectives: 'off' },
          rules: {
            'max-lines-per-function': [
              'error',
              { max: maxLines, skipBlankLines: true, skipComments: true, IIFEs: true },
            ],
          },
        },
      ],
    });
    const results = await eslint.lintFiles(['**/*.ts', '**/*.js', '**/*.mjs']);
    const long = results.flatMap((r) =>
      r.messages.map((m) => `${r.filePath.slice(templatesDir.length + 1)}:${m.line} ${m.message}`),
    );
    expect(results.length).toBeGreaterThan(100);
    expect(long).toEqual([]);
  });
});
