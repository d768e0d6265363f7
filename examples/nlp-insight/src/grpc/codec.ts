/**
 * gRPC ModelInfer messages <-> the V2 request and response the REST route handles, so both
 * protocols share one validation (zod schema, `parseInfer`/`parseTensors`, the binary decoder)
 * and give the same answers and the same error messages.
 *
 * - Typed `contents` become the JSON `data` a REST client would send (the field must match the
 *   datatype: FP32 in fp32_contents, INT8..INT32 in int_contents, ...; BYTES as UTF-8 text).
 * - `raw_input_contents` is the binary tensor data extension in another envelope: entry i is input
 *   i's bytes, so the inputs get `binary_data_size` and go through the same decoder.
 * - Outputs go back as typed contents, or as `raw_output_contents` when the request sent raw
 *   inputs, asked for `binary_data_output`, or an output is FP16 (it has no typed field).
 */
import { ValidationError } from '../errors.js';
import { attachBinaryInputs, encodeTensor, type OutputTensor } from '../inference/v2-binary.js';
import { issuesOf } from '../model/schemas.js';
import { fastInferRequestCheck } from '../model/fast-validation.js';
import { type InferRequest, inferRequestSchema, v2Datatypes } from '../routes/v2.js';

/** InferParameter as proto-loader decodes it (`oneofs: true`, `longs: String`). */
export interface GrpcParameter {
  readonly parameter_choice?: string;
  readonly bool_param?: boolean;
  readonly int64_param?: string | number;
  readonly string_param?: string;
  readonly double_param?: number;
  readonly uint64_param?: string | number;
}
type GrpcParameters = Record<string, GrpcParameter>;

export interface GrpcTensorContents {
  readonly bool_contents?: boolean[];
  readonly int_contents?: number[];
  readonly int64_contents?: Array<string | number>;
  readonly uint_contents?: number[];
  readonly uint64_contents?: Array<string | number>;
  readonly fp32_contents?: number[];
  readonly fp64_contents?: number[];
  readonly bytes_contents?: Buffer[];
}
type ContentsField = keyof GrpcTensorContents;

export interface GrpcInferRequest {
  readonly model_name: string;
  readonly model_version: string;
  readonly id: string;
  readonly parameters?: GrpcParameters;
  readonly inputs?: ReadonlyArray<{
    readonly name: string;
    readonly datatype: string;
    readonly shape?: ReadonlyArray<string | number>;
    readonly parameters?: GrpcParameters;
    readonly contents?: GrpcTensorContents | null;
  }>;
  readonly outputs?: ReadonlyArray<{ readonly name: string; readonly parameters?: GrpcParameters }>;
  readonly raw_input_contents?: readonly Buffer[];
}

/** The field of InferTensorContents that carries each datatype (FP16 has none: raw only). */
export const contentsFieldOf: Readonly<Record<string, ContentsField>> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};
const contentsFields = [...new Set(Object.values(contentsFieldOf))];

function parameterValue(p: GrpcParameter): string | number | boolean | undefined {
  const choice = p.parameter_choice as keyof GrpcParameter | undefined;
  const value = choice ? p[choice] : undefined;
  if (choice === 'int64_param' || choice === 'uint64_param') return Number(value);
  return value as string | number | boolean | undefined;
}

function parametersOf(
  given: GrpcParameters | undefined,
): Record<string, string | number | boolean> | undefined {
  const entries = Object.entries(given ?? {});
  if (entries.length === 0) return undefined;
  const out: Record<string, string | number | boolean> = {};
  for (const [key, p] of entries) {
    const value = parameterValue(p);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** A whole number from int64/uint64 contents (longs as strings); past 2^53 the checks refuse it. */
const toNumber = (v: string | number) => Number(v);

function dataOf(
  input: NonNullable<GrpcInferRequest['inputs']>[number],
  field: string,
): unknown[] | undefined {
  const contents = input.contents;
  const used = contents
    ? contentsFields.filter((f) => (contents[f]?.length ?? 0) > 0)
    : ([] as ContentsField[]);
  const want = contentsFieldOf[input.datatype];
  if (used.length === 0) return [];
  if (want === undefined || used.length > 1 || used[0] !== want) {
    throw new ValidationError([
      {
        field,
        message:
          want === undefined
            ? `datatype ${input.datatype} has no typed contents: send it in raw_input_contents`
            : `datatype ${input.datatype} travels in contents.${want}, got ${used.map((f) => `contents.${f}`).join(', ')}`,
      },
    ]);
  }
  const values = contents![want]!;
  if (want === 'bytes_contents') return (values as Buffer[]).map((b) => b.toString('utf8'));
  if (want === 'int64_contents' || want === 'uint64_contents')
    return (values as Array<string | number>).map(toNumber);
  return [...(values as unknown[])];
}

/**
 * A ModelInferRequest as the V2 request REST validates (the same zod schema, so the same 400
 * messages), with raw inputs decoded by the binary extension's decoder.
 * Throws ValidationError (INVALID_ARGUMENT).
 */
export function inferRequestOf(message: GrpcInferRequest): InferRequest {
  const raw = message.raw_input_contents ?? [];
  const inputs = message.inputs ?? [];
  if (raw.length > 0) {
    if (raw.length !== inputs.length)
      throw new ValidationError([
        {
          field: 'raw_input_contents',
          message: `has ${raw.length} entries but the request has ${inputs.length} inputs: give one per input, in order`,
        },
      ]);
    const typed = inputs.find((i) =>
      contentsFields.some((f) => (i.contents?.[f]?.length ?? 0) > 0),
    );
    if (typed)
      throw new ValidationError([
        {
          field: `inputs.${typed.name}`,
          message: 'has contents but the request uses raw_input_contents: send every input one way',
        },
      ]);
  }
  const parameters = parametersOf(message.parameters);
  const header = {
    ...(message.id === '' ? {} : { id: message.id }),
    ...(parameters ? { parameters } : {}),
    inputs: inputs.map((input, i) => {
      const own = parametersOf(input.parameters);
      const field = `inputs.${input.name}`;
      return {
        name: input.name,
        datatype: input.datatype,
        shape: (input.shape ?? []).map(Number),
        ...(raw.length > 0
          ? { parameters: { ...own, binary_data_size: raw[i]!.length } }
          : { ...(own ? { parameters: own } : {}), data: dataOf(input, field) }),
      };
    }),
    ...(message.outputs && message.outputs.length > 0
      ? {
          outputs: message.outputs.map((o) => {
            const own = parametersOf(o.parameters);
            return { name: o.name, ...(own ? { parameters: own } : {}) };
          }),
        }
      : {}),
  };
  // The compiled fast path first, as over REST; zod for what it refuses (and its messages).
  if (raw.length === 0 && fastInferRequestCheck(v2Datatypes)(header)) return header as InferRequest;
  const parsed = inferRequestSchema.safeParse(header);
  if (!parsed.success) throw new ValidationError(issuesOf(parsed.error));
  if (raw.length === 0) return parsed.data;
  return {
    ...parsed.data,
    inputs: attachBinaryInputs(parsed.data, Buffer.concat(raw as Buffer[])),
  } as InferRequest;
}

/** Whether the answer carries raw_output_contents (see the module comment). */
export function wantsRawOutputs(
  message: GrpcInferRequest,
  body: InferRequest,
  outputs: readonly OutputTensor[],
): boolean {
  return (
    (message.raw_input_contents?.length ?? 0) > 0 ||
    body.parameters?.binary_data_output === true ||
    outputs.some((o) => o.datatype === 'FP16')
  );
}

function parameterOf(value: unknown): GrpcParameter {
  if (typeof value === 'boolean') return { bool_param: value };
  if (typeof value === 'number')
    return Number.isInteger(value) ? { int64_param: value } : { double_param: value };
  return { string_param: String(value) };
}

function contentsOf(o: OutputTensor): GrpcTensorContents {
  const field = contentsFieldOf[o.datatype];
  if (!field) throw new Error(`output ${o.name}: datatype ${o.datatype} has no typed contents`);
  const values = Array.from(o.data as ArrayLike<unknown>);
  switch (field) {
    case 'bool_contents':
      return { bool_contents: values.map(Boolean) };
    case 'bytes_contents':
      return { bytes_contents: values.map((v) => Buffer.from(String(v), 'utf8')) };
    case 'int64_contents':
    case 'uint64_contents':
      // Exact: a bigint's decimal string, never a rounded double.
      return { [field]: values.map((v) => String(v)) };
    default:
      return { [field]: values.map(Number) };
  }
}

/** The V2 response (outputs as typed arrays) as a ModelInferResponse. */
export function inferResponseOf(
  response: {
    readonly model_name: string;
    readonly model_version: string;
    readonly id: string;
    readonly parameters?: Record<string, unknown>;
    readonly outputs: readonly OutputTensor[];
  },
  raw: boolean,
) {
  return {
    model_name: response.model_name,
    model_version: response.model_version,
    id: response.id,
    parameters: Object.fromEntries(
      Object.entries(response.parameters ?? {}).map(([k, v]) => [k, parameterOf(v)]),
    ),
    outputs: response.outputs.map((o) => ({
      name: o.name,
      datatype: o.datatype,
      shape: [...o.shape],
      ...(raw ? {} : { contents: contentsOf(o) }),
    })),
    raw_output_contents: raw ? response.outputs.map((o) => encodeTensor(o)) : [],
  };
}
