/**
 * The values a V2 JSON tensor may hold for its declared datatype: an `INT8` tensor holding 619 is
 * the client's mistake, refused with 400 rather than silently coerced to the graph's type.
 */
const integerRanges: Readonly<Record<string, readonly [number, number]>> = {
  INT8: [-128, 127],
  UINT8: [0, 255],
  INT16: [-32768, 32767],
  UINT16: [0, 65535],
  INT32: [-2147483648, 2147483647],
  UINT32: [0, 4294967295],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
};

/** The first value `datatype` cannot hold: its index and what is wrong; undefined when all fit. */
export function datatypeIssue(
  datatype: string,
  values: readonly unknown[],
): { readonly index: number; readonly message: string } | undefined {
  const range = integerRanges[datatype];
  if (datatype === 'BOOL') {
    const at = values.findIndex((v) => typeof v !== 'boolean' && v !== 0 && v !== 1);
    if (at < 0) return undefined;
    return { index: at, message: `${show(values[at])} is not a BOOL (true, false, 0 or 1)` };
  }
  if (!range) return undefined;
  const [min, max] = range;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    // null (a missing value) and non-numbers are the record validation's to name.
    if (typeof v !== 'number') continue;
    if (!Number.isInteger(v) || v < min || v > max) {
      return {
        index: i,
        message: `${show(v)} is not an ${datatype} (whole numbers ${min} to ${max})`,
      };
    }
  }
  return undefined;
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
