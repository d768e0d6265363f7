/**
 * The pod's memory, sized from the model: the default fits every model-loading thread's session,
 * an answer too small for the model is refused before a project is written, and a generated project
 * with a large model passes its own environment check at the default.
 */
import { spawnSync } from 'node:child_process';
import { readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../errors.js';
import { tempDir } from '../test-support/cli.js';
import { generateProject } from '../test-support/generate.js';
import { installCached } from '../test-support/installed-project.js';
import { largeModel } from '../test-support/large-model.js';
import {
  defaultMemory,
  memoryTooSmall,
  modelThreads,
  quantityMiB,
  serverNeedsMiB,
  sessionHeadroom,
} from './memory.js';

const MB = 1_000_000;

describe('defaultMemory', () => {
  it('is 1Gi for a small model, as before', () => {
    expect(defaultMemory(200_000, 2)).toBe('1Gi');
    expect(defaultMemory(20 * MB, 4)).toBe('1Gi');
  });

  it('grows with the model and the threads that load it (BERT-base, 440 MB, on 2 CPUs)', () => {
    const memory = defaultMemory(440 * MB, 2);
    expect(memory).toBe('3584Mi');
    expect(quantityMiB(defaultMemory(440 * MB, 4))).toBeGreaterThan(quantityMiB(memory));
  });

  it('always fits its headroom, and so the environment check, in the smallest such step', () => {
    for (const bytes of [0, 1 * MB, 90 * MB, 250 * MB, 440 * MB, 1300 * MB]) {
      for (const pool of [1, 2, 3, 8]) {
        const pod = quantityMiB(defaultMemory(bytes, pool));
        const threads = modelThreads(pool);
        expect(serverNeedsMiB(pod, bytes, threads, sessionHeadroom)).toBeLessThanOrEqual(pod);
        expect(memoryTooSmall(defaultMemory(bytes, pool), bytes, pool)).toBeUndefined();
        if (pod > 1024)
          expect(serverNeedsMiB(pod - 512, bytes, threads, sessionHeadroom)).toBeGreaterThan(
            pod - 512,
          );
      }
    }
  });
});

describe('memoryTooSmall', () => {
  it('names what the server needs, the threads, the model and the fix', () => {
    expect(memoryTooSmall('1Gi', 440 * MB, 2)).toBe(
      '--memory 1Gi cannot hold this model: the server needs at least 1852 MiB (3 threads each holding the 420 MiB model, the process, the explanation heap and the log buffer); pass --memory 3584Mi or more, or leave --memory out to size the pod from the model',
    );
    expect(memoryTooSmall('2Gi', 440 * MB, 2)).toBeUndefined();
  });
});

describe('a project for a 150 MB model', () => {
  const cloud = { cloud: 'gcp', gcpProject: 'big-model-project', githubRepo: 'acme/big', cpu: 4 };

  it('is refused with --memory 1Gi, before anything is written', { timeout: 120_000 }, async () => {
    const model = await largeModel(await tempDir('cms-big-model-'), 150 * MB);
    const err = await generateProject({ ...cloud, model, memory: '1Gi' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(ExitCode.usage);
    expect((err as UserError).message).toMatch(
      /^--memory 1Gi cannot hold this model: .*5 threads each holding the 144 MiB model.*pass --memory 2560Mi or more/,
    );
  });

  it(
    'is sized from the model when --memory is left out, and passes its own environment checks',
    { timeout: 420_000 },
    async () => {
      const model = await largeModel(await tempDir('cms-big-model-'), 150 * MB);
      const dir = await generateProject({ ...cloud, model });
      const plan = await readFile(join(dir, 'deploy/plan.ts'), 'utf8');
      expect(plan).toMatch(/"memory": "2560Mi"/);
      const answers = JSON.parse(
        await readFile(join(dir, '.mlops-service/answers.json'), 'utf8'),
      ) as { answers: Record<string, unknown> };
      // Not recorded: an upgrade with another model sizes the pod again.
      expect(answers.answers.memory).toBeUndefined();
      const cache = await installCached(dir);
      await symlink(join(cache, 'node_modules'), join(dir, 'node_modules'), 'dir');
      const test = spawnSync(
        process.execPath,
        ['node_modules/vitest/vitest.mjs', 'run', 'deploy/k8s/test/exposure.test.ts'],
        { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: '1', FORCE_COLOR: '0' } },
      );
      expect(test.status, `${test.stdout}\n${test.stderr}`.slice(-3000)).toBe(0);
      expect(test.stdout.replace(/\u001b\[[0-9;]*m/g, '')).toMatch(/Tests\s+\d+ passed/);
    },
  );
});
