import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../test-support/cli.js';
import { wildDir } from '../test-support/wild.js';
import { detectNotAModel } from './graph/decode.js';
import { lfsPointerOf, lfsPointerText } from './lfs-pointer.js';

const oid = 'sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393';
const bytes = (text: string) => new TextEncoder().encode(text);
const pointer = (size: number, version = 'https://git-lfs.github.com/spec/v1') =>
  bytes(`version ${version}\noid ${oid}\nsize ${size}\n`);

describe('a Git LFS pointer', () => {
  it('is read as the spec writes it: its oid and the size of the file it stands for', () => {
    expect(lfsPointerOf(pointer(12345))).toEqual({ oid, size: 12345 });
  });

  it("is read with an older git-lfs's hawser version line and with extension keys", () => {
    expect(lfsPointerOf(pointer(7, 'https://hawser.github.com/spec/v1'))).toEqual({ oid, size: 7 });
    const extended = `version https://git-lfs.github.com/spec/v1\next-0-foo sha256:${'a'.repeat(64)}\noid ${oid}\nsize 3\n`;
    expect(lfsPointerOf(bytes(extended))).toEqual({ oid, size: 3 });
  });

  it("is read in the wild corpus's pointer file", () => {
    expect(lfsPointerOf(readFileSync(join(wildDir, 'lfs-pointer.onnx')))).toEqual({
      oid: 'sha256:bb503fb5af75742d30dc7694299a87cbc0c110e5ceaa41bfbeb13601da2f7484',
      size: 781,
    });
  });

  it('is named with the first 12 hex digits of its oid, its size and the fix', () => {
    expect(() => detectNotAModel(pointer(12345), 'hub/model.onnx')).toThrow(
      'hub/model.onnx is a Git LFS pointer (sha256 4d7a214614ab, 12345 bytes), not the model: ' +
        'run `git lfs pull` in its repository to fetch the model (install git-lfs from https://git-lfs.com first), then try again',
    );
    expect(lfsPointerText(lfsPointerOf(pointer(438_000_000))!)).toContain(
      '(sha256 4d7a214614ab, 417.7 MiB)',
    );
  });
});

describe('not a Git LFS pointer', () => {
  it('a real model: none of the fixture models, binary protobuf, is taken for one', () => {
    const models = [
      ...readdirSync(fixturesDir)
        .filter((f) => f.endsWith('.onnx'))
        .map((f) => join(fixturesDir, f)),
      ...readdirSync(wildDir)
        .filter((f) => f.endsWith('.onnx') && f !== 'lfs-pointer.onnx')
        .map((f) => join(wildDir, f)),
    ];
    expect(models.length).toBeGreaterThan(10);
    for (const path of models) expect(lfsPointerOf(readFileSync(path)), path).toBe(undefined);
    expect(() =>
      detectNotAModel(readFileSync(join(fixturesDir, 'tabular.onnx')), 'm.onnx'),
    ).not.toThrow();
  });

  it('text that only starts like one: 1024 bytes or more, no oid or size, a malformed line', () => {
    const long = `version https://git-lfs.github.com/spec/v1\noid ${oid}\nsize 1\n${'x '.repeat(500)}\n`;
    for (const text of [
      long,
      'version https://git-lfs.github.com/spec/v1\nsize 12345\n',
      `version https://git-lfs.github.com/spec/v1\noid ${oid}\n`,
      `version https://git-lfs.github.com/spec/v1\noid md5:${'a'.repeat(32)}\nsize 1\n`,
      `version https://git-lfs.github.com/spec/v1\noid ${oid}\nsize twelve\n`,
      `version https://git-lfs.github.com/spec/v1\noid ${oid}\nsize 1\n<html>\n`,
      `oid ${oid}\nversion https://git-lfs.github.com/spec/v1\nsize 1\n`,
      'version 1.0\n',
      '',
    ]) {
      expect(lfsPointerOf(bytes(text)), text.slice(0, 60)).toBe(undefined);
    }
    expect(lfsPointerOf(new Uint8Array([...pointer(1), 0xff]))).toBe(undefined);
  });
});
