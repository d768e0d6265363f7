/**
 * protobufjs drops fields its schema does not know. A model written by a newer exporter may hold
 * such fields, and a rewrite must not lose them: each message type's generated decoder and encoder
 * are wrapped so the raw records of unknown fields are kept on the decoded message (under a symbol,
 * invisible to everything else) and written back in field-number order, as protobuf writers do.
 */
import protobuf from 'protobufjs';

const unknownFields = Symbol('onnx.unknownFields');

interface RawRecord {
  readonly id: number;
  readonly bytes: Uint8Array;
}

type Decode = (
  reader: protobuf.Reader | Uint8Array,
  length?: number,
  end?: number,
  depth?: number,
) => object;
type Encode = (message: object, writer?: protobuf.Writer, depth?: number) => protobuf.Writer;

/** Wraps every message type under `root` (call once, before any decode or encode). */
export function preserveUnknownFields(root: protobuf.Namespace): void {
  for (const nested of root.nestedArray) {
    if (nested instanceof protobuf.Type) wrapType(nested);
    if (nested instanceof protobuf.Namespace) preserveUnknownFields(nested);
  }
}

/** Copies the unknown fields of `from` onto `to` (a shallow copy made by a rewrite). */
export function copyUnknownFields(from: object, to: object): void {
  const records = (from as Record<symbol, RawRecord[] | undefined>)[unknownFields];
  if (records) Object.defineProperty(to, unknownFields, { value: records, configurable: true });
}

function wrapType(type: protobuf.Type): void {
  type.setup();
  const known = new Set(type.fieldsArray.map((f) => f.id));
  const decode = type.decode as unknown as Decode;
  const encode = type.encode as unknown as Encode;
  const wrappedDecode: Decode = (input, length, end, depth) => {
    const reader = input instanceof protobuf.Reader ? input : protobuf.Reader.create(input);
    const start = reader.pos;
    const message = decode.call(type, reader, length, end, depth);
    if (end === undefined) {
      const records = rawRecords(reader.buf, start, reader.pos, (id) => !known.has(id));
      if (records.length > 0) {
        Object.defineProperty(message, unknownFields, { value: records, configurable: true });
      }
    }
    return message;
  };
  const wrappedEncode: Encode = (message, writer, depth) => {
    const unknown = (message as Record<symbol, RawRecord[] | undefined>)[unknownFields];
    if (!unknown) return encode.call(type, message, writer, depth);
    const knownBytes = encode.call(type, message, undefined, depth).finish();
    const records = [...rawRecords(knownBytes, 0, knownBytes.length, () => true), ...unknown];
    records.sort((a, b) => a.id - b.id); // stable: repeated records keep their order
    const out = writer ?? protobuf.Writer.create();
    for (const r of records) writeRaw(out, r.bytes);
    return out;
  };
  (type as unknown as { decode: Decode }).decode = wrappedDecode;
  (type as unknown as { encode: Encode }).encode = wrappedEncode;
}

/** The top-level field records (tag and value bytes) of buf[start, end) whose number `keep`s. */
function rawRecords(
  buf: Uint8Array,
  start: number,
  end: number,
  keep: (id: number) => boolean,
): RawRecord[] {
  const reader = protobuf.Reader.create(buf);
  reader.pos = start;
  reader.len = end;
  const records: RawRecord[] = [];
  while (reader.pos < end) {
    const at = reader.pos;
    const tag = reader.uint32();
    reader.skipType(tag & 7);
    if (keep(tag >>> 3)) records.push({ id: tag >>> 3, bytes: buf.subarray(at, reader.pos) });
  }
  return records;
}

/** Writes bytes as they are (no length prefix): protobufjs has no public call for it. */
function writeRaw(writer: protobuf.Writer, bytes: Uint8Array): void {
  const push = (writer as unknown as { _push: (fn: unknown, len: number, val: unknown) => void })
    ._push;
  push.call(writer, copyInto, bytes.length, bytes);
}

function copyInto(val: Uint8Array, buf: Uint8Array, pos: number): void {
  buf.set(val, pos);
}
