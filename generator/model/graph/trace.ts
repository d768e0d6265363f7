/**
 * Traces a value of the main graph back to the graph-input columns it holds, through operators
 * that move values without changing them: Identity, Cast, Reshape, Flatten, Squeeze, Unsqueeze,
 * column selection with constant indices (ArrayFeatureExtractor, Gather on axis 1, Slice on the
 * last axis) and column concatenation (Concat on axis 1, FeatureVectorizer). Generic over a
 * producer map: no exporter's naming is assumed.
 */
import {
  DataType,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  attributeOf,
  intAttribute,
  int64ToNumber,
} from './onnx.js';

export interface Column {
  readonly input: string;
  readonly column: number;
}

/** What a value holds: known columns in order, or every column of an input of unknown width. */
export type Traced = { readonly columns: readonly Column[] } | { readonly wholeInput: string };

const passThrough = new Set(['Identity', 'Cast', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze']);
const standardDomains = new Set(['', 'ai.onnx']);
/** |end| at or above this is "to the end" (exporters write INT64_MAX or INT32_MAX). */
const sliceToEnd = 2 ** 31 - 1;

export class ColumnTracer {
  private readonly producers = new Map<string, NodeProto>();
  private readonly initializers = new Map<string, TensorProto>();
  private readonly widths = new Map<string, number | undefined>();
  private readonly memo = new Map<string, Traced | undefined>();

  constructor(graph: GraphProto) {
    for (const node of graph.node)
      for (const out of node.output) if (out) this.producers.set(out, node);
    for (const t of graph.initializer) if (t.name) this.initializers.set(t.name, t);
    for (const input of graph.input) {
      if (!input.name || this.initializers.has(input.name)) continue;
      this.widths.set(input.name, inputWidth(input.type?.tensor_type?.shape?.dim));
    }
  }

  /** The graph inputs (initializers excluded) and their widths (undefined: unknown). */
  get inputWidths(): ReadonlyMap<string, number | undefined> {
    return this.widths;
  }

  /** The columns `value` holds, expanded when the width is known; undefined when untraceable. */
  columnsOf(value: string): readonly Column[] | undefined {
    const traced = this.trace(value);
    if (!traced) return undefined;
    if ('columns' in traced) return traced.columns;
    const width = this.widths.get(traced.wholeInput);
    return width === undefined ? undefined : columnsOfInput(traced.wholeInput, width);
  }

  trace(value: string): Traced | undefined {
    if (this.memo.has(value)) return this.memo.get(value);
    this.memo.set(value, undefined); // cycles (invalid graphs) end here
    const traced = this.traceUncached(value);
    this.memo.set(value, traced);
    return traced;
  }

  private traceUncached(value: string): Traced | undefined {
    if (this.widths.has(value)) {
      const width = this.widths.get(value);
      return width === undefined
        ? { wholeInput: value }
        : { columns: columnsOfInput(value, width) };
    }
    const node = this.producers.get(value);
    if (!node || node.output[0] !== value) return undefined;
    const op = node.op_type ?? '';
    const domain = node.domain ?? '';
    if (domain === 'ai.onnx.ml') {
      if (op === 'ArrayFeatureExtractor')
        return this.select(node.input[0], this.constantInts(node.input[1]));
      if (op === 'FeatureVectorizer') return this.concat(node.input);
      return undefined;
    }
    if (!standardDomains.has(domain)) return undefined;
    if (passThrough.has(op)) return node.input[0] ? this.trace(node.input[0]) : undefined;
    if (op === 'Gather') {
      const axis = intAttribute(node, 'axis') ?? 0;
      return axis === 1 || axis === -1
        ? this.select(node.input[0], this.constantInts(node.input[1]))
        : undefined;
    }
    if (op === 'Slice') return this.slice(node);
    if (op === 'Concat') {
      const axis = intAttribute(node, 'axis');
      return axis === 1 || axis === -1 ? this.concat(node.input) : undefined;
    }
    return undefined;
  }

  private select(source: string | undefined, indices: number[] | undefined): Traced | undefined {
    if (!source || !indices || indices.length === 0) return undefined;
    const traced = this.trace(source);
    if (!traced) return undefined;
    if ('wholeInput' in traced) {
      if (indices.some((i) => i < 0)) return undefined;
      return { columns: indices.map((column) => ({ input: traced.wholeInput, column })) };
    }
    const picked = indices.map((i) => traced.columns[i < 0 ? traced.columns.length + i : i]);
    return picked.every((c) => c !== undefined) ? { columns: picked as Column[] } : undefined;
  }

  private concat(parts: readonly string[]): Traced | undefined {
    const columns: Column[] = [];
    for (const part of parts) {
      const cols = part ? this.columnsOf(part) : undefined;
      if (!cols) return undefined;
      columns.push(...cols);
    }
    return columns.length > 0 ? { columns } : undefined;
  }

  /** Slice: rows (axis 0) keep the columns; the last axis selects a constant range of them. */
  private slice(node: NodeProto): Traced | undefined {
    const fromAttributes = attributeOf(node, 'starts') !== undefined; // opset < 10
    const read = (attr: string, at: number) =>
      fromAttributes ? intsOf(node, attr) : this.constantInts(node.input[at]);
    const starts = read('starts', 1);
    const ends = read('ends', 2);
    if (!starts || !ends || starts.length !== ends.length) return undefined;
    const axes = read('axes', 3) ?? starts.map((_, i) => i);
    const steps =
      (fromAttributes ? undefined : this.constantInts(node.input[4])) ?? starts.map(() => 1);
    const source = node.input[0] ? this.trace(node.input[0]) : undefined;
    if (!source) return undefined;
    const j = axes.findIndex((a) => a === 1 || a === -1);
    if (axes.some((a) => a !== 0 && a !== 1 && a !== -1)) return undefined;
    if (j < 0) return source;
    const width = 'columns' in source ? source.columns.length : undefined;
    const range = sliceRange(starts[j]!, ends[j]!, steps[j]!, width);
    if (!range) return undefined;
    if ('wholeInput' in source)
      return { columns: range.map((column) => ({ input: source.wholeInput, column })) };
    return { columns: range.map((i) => source.columns[i]!) };
  }

  /** Integers of a constant: an initializer or a Constant node's value. */
  constantInts(name: string | undefined): number[] | undefined {
    if (!name) return undefined;
    const init = this.initializers.get(name);
    if (init) return tensorInts(init);
    const node = this.producers.get(name);
    if (!node || node.op_type !== 'Constant') return undefined;
    const value = attributeOf(node, 'value');
    if (value?.t) return tensorInts(value.t);
    return (
      intsOf(node, 'value_ints') ??
      (intAttribute(node, 'value_int') !== undefined
        ? [intAttribute(node, 'value_int')!]
        : undefined)
    );
  }
}

function inputWidth(dims: ReadonlyArray<{ dim_value?: unknown }> | undefined): number | undefined {
  if (!dims) return undefined;
  if (dims.length <= 1) return 1;
  if (dims.length !== 2) return undefined;
  const d = dims[1]!;
  return Object.hasOwn(d, 'dim_value') ? int64ToNumber(d.dim_value as number) : undefined;
}

function columnsOfInput(input: string, width: number): Column[] {
  return Array.from({ length: width }, (_, column) => ({ input, column }));
}

function intsOf(node: NodeProto, name: string): number[] | undefined {
  const a = attributeOf(node, name);
  return a && a.ints.length > 0 ? a.ints.map(int64ToNumber) : undefined;
}

/** numpy slicing of [0, width) (width unknown: only non-negative finite bounds). */
function sliceRange(
  start: number,
  end: number,
  step: number,
  width: number | undefined,
): number[] | undefined {
  if (step === 0) return undefined;
  if (width === undefined) {
    if (start < 0 || end < 0 || end >= sliceToEnd || step < 0) return undefined;
    width = end;
  }
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const norm = (v: number) => (v < 0 ? v + width! : v);
  const range: number[] = [];
  if (step > 0) {
    for (let i = clamp(norm(start), 0, width); i < clamp(norm(end), 0, width); i += step)
      range.push(i);
  } else {
    for (let i = clamp(norm(start), -1, width - 1); i > clamp(norm(end), -1, width - 1); i += step)
      range.push(i);
  }
  return range.length > 0 ? range : undefined;
}

/** The integers of an INT64 or INT32 tensor (typed fields or raw little-endian bytes). */
export function tensorInts(t: TensorProto): number[] | undefined {
  if (t.data_type === DataType.INT64) {
    if (t.int64_data.length > 0) return t.int64_data.map(int64ToNumber);
    if (t.raw_data && t.raw_data.length % 8 === 0) {
      const view = new DataView(t.raw_data.buffer, t.raw_data.byteOffset, t.raw_data.byteLength);
      return Array.from({ length: t.raw_data.length / 8 }, (_, i) =>
        Number(view.getBigInt64(i * 8, true)),
      );
    }
    return undefined;
  }
  if (t.data_type === DataType.INT32) {
    if (t.int32_data.length > 0) return [...t.int32_data];
    if (t.raw_data && t.raw_data.length % 4 === 0) {
      const view = new DataView(t.raw_data.buffer, t.raw_data.byteOffset, t.raw_data.byteLength);
      return Array.from({ length: t.raw_data.length / 4 }, (_, i) => view.getInt32(i * 4, true));
    }
  }
  return undefined;
}
