/**
 * A model whose weights live beside it (external data), as `torch.onnx.export` writes every model
 * by default since PyTorch 2.9: the project gets one self-contained graph that answers exactly as
 * onnxruntime answers reading the weights file itself, and every way the pair can be broken is
 * refused with the fix.
 */
import { createHash } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../errors.js';
import { tempDir } from '../../test-support/cli.js';
import { wildDir, wildManifest } from '../../test-support/wild.js';
import { readModel } from '../introspect.js';
import { decodeModel, encodeModel } from './decode.js';
import { tensorsOf, usesExternalData } from './external-data.js';
import type { ModelProto } from './onnx.js';

const file = 'torch-dynamo-mlp.onnx';
const fixture = (await wildManifest()).find((f) => f.file === file)!;
const dataFile = fixture.externalData!.file;

async function refusal(path: string): Promise<UserError> {
  try {
    await readModel(path);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(ExitCode.usage);
    expect((err as UserError).message).not.toContain('\n');
    return err as UserError;
  }
  throw new Error(`${path} was accepted`);
}

/** The fixture (and, unless `data` is false, its data file) copied into a fresh folder. */
async function copied(data = true): Promise<{ dir: string; model: string }> {
  const dir = await tempDir('cms-external-');
  await copyFile(join(wildDir, file), join(dir, file));
  if (data) await copyFile(join(wildDir, dataFile), join(dir, dataFile));
  return { dir, model: join(dir, file) };
}

/** The fixture with its graph edited, written beside a copy of its data file. */
async function edited(edit: (m: ModelProto) => void): Promise<string> {
  const { model } = await copied();
  const decoded = decodeModel(await readFile(model), model);
  edit(decoded);
  await writeFile(model, encodeModel(decoded));
  return model;
}

const externalTensors = (m: ModelProto) =>
  [...tensorsOf(m)].filter((t) => t.data_location === 1).map((t) => t.name);

describe('a PyTorch export with its weights in <model>.onnx.data', () => {
  it('is served from one self-contained graph that answers as the network does', async () => {
    const original = decodeModel(await readFile(join(wildDir, file)), file);
    expect(externalTensors(original)).toEqual(fixture.externalData!.tensors);

    const { contract, served, rewritten } = await readModel(join(wildDir, file));
    expect(rewritten).toBe(true);
    expect(usesExternalData(decodeModel(served, 'served'))).toBe(false);
    // The served bytes alone, with no file beside them, hold the whole network.
    const session = await ort.InferenceSession.create(served);
    const rows = fixture.samples!.inputs!.x!;
    const out = await session.run({
      x: new ort.Tensor('float32', Float32Array.from(rows.flat() as number[]), [rows.length, 8]),
    });
    const expected = fixture.samples!.predict as number[];
    Array.from(out.linear_2!.data as Float32Array).forEach((v, i) =>
      expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(fixture.tolerance!),
    );
    await session.release();

    const data = await readFile(join(wildDir, dataFile));
    const dataSha = createHash('sha256').update(data).digest('hex');
    const modelSha = createHash('sha256')
      .update(await readFile(join(wildDir, file)))
      .digest('hex');
    expect(contract.origin?.sha256).toBe(modelSha);
    expect(contract.sha256).not.toBe(modelSha);
    expect(contract.origin?.rewrites.join(' ')).toContain(
      `${dataFile} (sha256 ${dataSha.slice(0, 12)}`,
    );
    expect(contract.origin?.verification).toMatch(/bit-identical linear_2/);
    expect(contract).toMatchObject({ task: 'regression', kind: 'records' });
  });

  it('without its data file beside it: refused, naming the file and the fix', async () => {
    const { model } = await copied(false);
    const err = await refusal(model);
    expect(err.message).toContain(`keeps its weights in ${dataFile}`);
    expect(err.message).toMatch(/copy .*next to .*external_data=False/);
  });

  it('a data file cut short: refused as truncated', async () => {
    const { dir, model } = await copied();
    const data = await readFile(join(dir, dataFile));
    await writeFile(join(dir, dataFile), data.subarray(0, data.byteLength - 100));
    expect((await refusal(model)).message).toMatch(
      /is \d+ bytes, but tensor ".*" needs bytes .*truncated/,
    );
  });

  it('a data file of another export (a tensor of the wrong size): refused', async () => {
    const model = await edited((m) => {
      const t = [...tensorsOf(m)].find((x) => x.data_location === 1)!;
      t.external_data = t.external_data.map((e) =>
        e.key === 'length' ? { key: 'length', value: String(Number(e.value) - 4) } : e,
      );
    });
    expect((await refusal(model)).message).toMatch(/needs \d+ bytes, but .* gives it \d+/);
  });

  it('a location outside the model folder is never read', async () => {
    const model = await edited((m) => {
      for (const t of tensorsOf(m)) {
        t.external_data = t.external_data.map((e) =>
          e.key === 'location' ? { key: 'location', value: `../${dataFile}` } : e,
        );
      }
    });
    expect((await refusal(model)).message).toMatch(/outside the model's folder, which is not read/);
    const absolute = await edited((m) => {
      for (const t of tensorsOf(m)) {
        t.external_data = t.external_data.map((e) =>
          e.key === 'location' ? { key: 'location', value: '/etc/passwd' } : e,
        );
      }
    });
    expect((await refusal(absolute)).message).toMatch(
      /"\/etc\/passwd", outside the model's folder/,
    );
  });

  it('weights past the 2 GiB one ONNX file holds: refused before reading them', async () => {
    const model = await edited((m) => {
      const t = [...tensorsOf(m)].find((x) => x.data_location === 1)!;
      t.external_data = t.external_data.map((e) =>
        e.key === 'length' ? { key: 'length', value: String(2 ** 31) } : e,
      );
    });
    expect((await refusal(model)).message).toMatch(
      /more than the 2 GiB one ONNX file can hold.*quantize/,
    );
  });
});
