/**
 * gRPC helpers of the tests: V2 tensors for this model (records: two rows by graph input; tensor
 * models: the example tensors), as typed InferTensorContents, and promise-returning unary calls.
 */
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { contentsFieldOf } from '../../src/grpc/codec.js';
import { v2DatatypeOf } from '../../src/inference/tensor-request.js';
import { widthOf } from '../../src/inference/tensors.js';
import { exampleRecord, loadModel } from '../../src/model/artifacts.js';
import { contract } from '../../src/model/contract.js';
import { exampleTensors, servingInputs } from '../../src/model/serving.js';
import { projectRoot } from './build.js';

export interface Tensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

/** The V2 input tensors of two rows (records) or the model's example tensors (tensor models). */
export async function requestTensors(): Promise<Tensor[]> {
  if (contract.kind === 'tensors') {
    return exampleTensors(contract).map((t) => ({
      name: t.name,
      datatype: v2DatatypeOf(t.type),
      shape: [...t.dims],
      data: Array.from(t.data as ArrayLike<unknown>, (v) =>
        typeof v === 'bigint' ? Number(v) : t.type === 'bool' ? Boolean(v) : v,
      ),
    }));
  }
  const model = await loadModel(contract, join(projectRoot, 'model', 'model.onnx'));
  const rows = [exampleRecord(contract, model), model.background?.[1] ?? exampleRecord(contract)];
  return servingInputs(contract).map((input) => {
    const features = contract.features
      .filter((f) => f.input === input.name)
      .sort((a, b) => a.column - b.column);
    const width = widthOf(input);
    return {
      name: input.name,
      datatype: v2DatatypeOf(input.type),
      shape: width === 1 ? [rows.length] : [rows.length, width],
      data: rows.flatMap((r) => features.map((f) => r[f.name])),
    };
  });
}

/** The field of InferTensorContents each datatype travels in: the service's own table. */
export const contentsField: Record<string, string> = contentsFieldOf;

export function typedInput(t: Tensor) {
  const field = contentsField[t.datatype]!;
  const data =
    t.datatype === 'BYTES'
      ? t.data.map((v) => Buffer.from(String(v), 'utf8'))
      : t.datatype === 'INT64' || t.datatype === 'UINT64'
        ? t.data.map(String)
        : t.data;
  return { name: t.name, datatype: t.datatype, shape: t.shape, contents: { [field]: data } };
}

export type Call = (request: unknown) => Promise<Record<string, unknown>>;
export function callsOf(client: grpc.Client, names: string[]): Record<string, Call> {
  const calls: Record<string, Call> = {};
  for (const name of names) {
    const method = (
      client as unknown as Record<
        string,
        (
          request: unknown,
          callback: (error: Error | null, value: Record<string, unknown>) => void,
        ) => void
      >
    )[name]!.bind(client);
    calls[name] = (request) =>
      new Promise((resolve, reject) =>
        method(request, (error: Error | null, value: Record<string, unknown>) =>
          error ? reject(error) : resolve(value),
        ),
      );
  }
  return calls;
}

/** One unary call with metadata (credentials, request ids), settled either way. */
export function callWith(
  client: grpc.Client,
  method: string,
  request: unknown,
  metadata: Record<string, string> = {},
): Promise<{ error: grpc.ServiceError | null }> {
  const sent = new Metadata();
  for (const [key, value] of Object.entries(metadata)) sent.set(key, value);
  return new Promise((resolve) => {
    (client as unknown as Record<string, (...args: unknown[]) => void>)[method]!(
      request,
      sent,
      (error: grpc.ServiceError | null) => resolve({ error }),
    );
  });
}
