/** Reads and checks `.mlops-service/answers.json` and `manifest.json` of a generated project. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { answersFile, manifestFile, recordDir } from '../record/record.js';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 (64 hex digits)');
const answersObject = z.record(z.string(), z.unknown());

const answersRecordSchema = z.looseObject({
  schemaVersion: z.number().int().min(0),
  answers: answersObject,
});
const manifestSchema = z.looseObject({
  generator: z.object({ name: z.string().min(1), version: z.string().min(1) }),
  answersSchemaVersion: z.number().int().min(0),
  renderedAnswers: answersObject,
  model: z
    .looseObject({
      name: z.string(),
      version: z.string(),
      sha256: sha256Hex,
      origin: z
        .object({
          sha256: sha256Hex,
          bytes: z.number(),
          rewrites: z.array(z.string()),
          verification: z.string(),
        })
        .optional(),
    })
    .optional(),
  files: z.record(z.string(), sha256Hex),
  /** Absent in records written before modes were recorded: nothing was executable. */
  executables: z.array(z.string()).optional(),
});

export type RecordedAnswers = z.infer<typeof answersRecordSchema>;
export type RecordedManifest = z.infer<typeof manifestSchema>;

export interface ProjectRecords {
  readonly answers: RecordedAnswers;
  readonly manifest: RecordedManifest;
}

async function readJson<T>(root: string, rel: string, schema: z.ZodType<T>): Promise<T> {
  let text: string;
  try {
    text = await readFile(join(root, rel), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new UserError(
        `${rel} not found: ${root} is not a project made by create-mlops-service`,
        [`upgrade and diff run in a generated project (one with a ${recordDir}/ folder).`],
      );
    }
    throw new UserError(`${rel}: cannot read it (${code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${rel} is not valid JSON: ${(err as Error).message}`, [
      'Restore it from git (git checkout -- ' + rel + ') and run again.',
    ]);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new UserError(
      `${rel} is not a valid record:`,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return parsed.data;
}

export async function readRecords(root: string): Promise<ProjectRecords> {
  const answers = await readJson(root, answersFile, answersRecordSchema);
  const manifest = await readJson(root, manifestFile, manifestSchema);
  return { answers, manifest };
}

/** Compares `a.b.c` versions (a prerelease suffix sorts before its release). */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = '', pre] = v.split('-', 2);
    return { nums: core.split('.').map((n) => Number.parseInt(n, 10) || 0), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.nums.length, y.nums.length); i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre < y.pre ? -1 : 1;
}
