import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../errors.js';
import { packageRoot } from '../../version.js';
import { decodeModel, detectNotAModel, encodeModel } from './decode.js';
import { onnxTypes } from './schema.js';

const fixturesDir = join(packageRoot, 'generator/__fixtures__/models');
const wildDir = join(fixturesDir, 'wild');

function onnxFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.onnx'))
    .map((f) => join(dir, f));
}

/** Every real model the repository holds (the wild corpus minus its deliberately broken files). */
const models = [
  ...['bank-churn', 'chicago-taxi', 'nlp-insight'].map((m) =>
    join(packageRoot, 'examples/models', m, 'artifacts/model.onnx'),
  ),
  ...onnxFiles(fixturesDir).filter((f) => !f.endsWith('corrupt.onnx')),
  ...onnxFiles(wildDir).filter((f) => !/lfs-pointer|truncated/.test(f)),
  ...onnxFiles(join(wildDir, 'transformer')),
  ...onnxFiles(join(wildDir, 'transformer/fixed')),
];

function userErrorOf(fn: () => unknown): UserError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a UserError');
}

const text = (s: string) => new TextEncoder().encode(s);

describe('decode then encode', () => {
  it.each(models)('gives back the identical bytes: %s', (path) => {
    const bytes = readFileSync(path);
    const model = decodeModel(bytes, path);
    expect(model.graph!.node.length).toBeGreaterThan(0);
    expect(Buffer.from(encodeModel(model)).equals(bytes)).toBe(true);
  });

  it('keeps fields the schema does not know, in field-number order', () => {
    const { node } = onnxTypes();
    const path = join(packageRoot, 'examples/models/bank-churn/artifacts/model.onnx');
    const bytes = readFileSync(path);
    // Append field 99 (a string, "future") to the first node, as a newer exporter might.
    const model = decodeModel(bytes, path);
    const first = node.encode(model.graph!.node[0]!).finish();
    const future = protobuf.Writer.create()
      .uint32((99 << 3) | 2)
      .string('future')
      .finish();
    const withFuture = new Uint8Array([...first, ...future]);
    const decoded = node.decode(withFuture);
    expect(Buffer.from(node.encode(decoded).finish()).equals(Buffer.from(withFuture))).toBe(true);
    // An unknown field numbered between known ones (TypeProto knows 1, 4-9) is written in its place.
    const { typeProto } = onnxTypes();
    const tensorType = protobuf.Writer.create()
      .uint32((1 << 3) | 0)
      .uint32(1)
      .finish();
    const between = protobuf.Writer.create()
      .uint32((1 << 3) | 2)
      .bytes(tensorType)
      .uint32((3 << 3) | 0)
      .uint32(7)
      .uint32((6 << 3) | 2)
      .string('IMAGE')
      .finish();
    const again = typeProto.encode(typeProto.decode(between)).finish();
    expect(Buffer.from(again).equals(Buffer.from(between))).toBe(true);
  });
});

describe('files that are not a model', () => {
  it('names a Git LFS pointer and says to pull', () => {
    const pointer = text(
      'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n',
    );
    const err = userErrorOf(() => detectNotAModel(pointer, 'model.onnx'));
    expect(err.message).toBe(
      'model.onnx is a Git LFS pointer (sha256 4d7a214614ab, 12345 bytes), not the model: run `git lfs pull` in its repository to fetch the model (install git-lfs from https://git-lfs.com first), then try again',
    );
  });

  it('names a git-annex pointer (symlink target or unlocked pointer file)', () => {
    for (const pointer of [
      '../../.git/annex/objects/Wq/3M/SHA256E-s1757476--9f2c0d1e.onnx/SHA256E-s1757476--9f2c0d1e.onnx',
      '/annex/objects/SHA256E-s1757476--9f2c0d1e.onnx\n',
    ]) {
      const err = userErrorOf(() => detectNotAModel(text(pointer), 'm.onnx'));
      expect(err.message).toMatch(
        /^m\.onnx is a git-annex pointer, not the model: run "git annex get"/,
      );
    }
  });

  it('names an HTML page and an XML error reply saved as the model', () => {
    const html = userErrorOf(() =>
      detectNotAModel(text('\n<!DOCTYPE html>\n<html><body>404</body></html>'), 'm.onnx'),
    );
    expect(html.message).toMatch(/^m\.onnx is an HTML page, not the model/);
    const xml = userErrorOf(() =>
      detectNotAModel(
        text('<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>'),
        'm.onnx',
      ),
    );
    expect(xml.message).toMatch(/^m\.onnx is an XML document, not the model/);
  });

  it('names an empty file', () => {
    expect(userErrorOf(() => decodeModel(new Uint8Array(0), 'm.onnx')).message).toBe(
      'm.onnx is empty (0 bytes), not an ONNX model: re-export or re-download it',
    );
  });

  it('refuses a truncated model and plain text in one line', () => {
    const path = join(packageRoot, 'examples/models/bank-churn/artifacts/model.onnx');
    const bytes = readFileSync(path);
    for (const cut of [bytes.subarray(0, bytes.length - 1000), bytes.subarray(0, 40)]) {
      expect(userErrorOf(() => decodeModel(cut, 'm.onnx')).message).toBe(
        'm.onnx is not an ONNX model (the file is truncated or not protobuf): re-export or re-download it',
      );
    }
    const corrupt = readFileSync(join(fixturesDir, 'corrupt.onnx'));
    expect(userErrorOf(() => decodeModel(corrupt, 'c.onnx')).message).toMatch(
      /^c\.onnx is not an ONNX model \(the file is truncated or not protobuf\)/,
    );
  });

  it("refuses the wild corpus's Git LFS pointer and truncated download", () => {
    const message = (file: string) =>
      userErrorOf(() => decodeModel(readFileSync(join(wildDir, file)), file)).message;
    expect(message('lfs-pointer.onnx')).toMatch(
      /^lfs-pointer\.onnx is a Git LFS pointer \(sha256 [0-9a-f]{12}, [^)]+\), not the model: run `git lfs pull`/,
    );
    expect(message('truncated.onnx')).toMatch(
      /^truncated\.onnx is not an ONNX model \(the file is truncated or not protobuf\)/,
    );
  });

  it('accepts a real model', () => {
    const bytes = readFileSync(join(fixturesDir, 'tabular.onnx'));
    expect(() => detectNotAModel(bytes, 'm.onnx')).not.toThrow();
  });
});
