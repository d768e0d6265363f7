/**
 * Every test file's last hook: the directories it made with `tempDir` (generated projects, models of
 * hundreds of MB) are removed, so the suite leaves the temp directory as it found it.
 */
import { afterAll } from 'vitest';
import { removeTempDirs } from './cli.js';

afterAll(removeTempDirs);
