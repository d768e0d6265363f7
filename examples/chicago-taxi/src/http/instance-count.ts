/**
 * How many records a `/predict/batch` body holds, counted on its bytes before `JSON.parse`: a
 * 1 MiB body of 340,000 empty objects costs ~100 ms of main-thread CPU to parse and ~2 ms to count,
 * so an oversized batch is refused for the price of the count (issue: cheap CPU denial of service).
 *
 * It counts the elements of the top-level object's `instances` array (strings, escapes and nesting
 * understood), and stops as soon as the count passes `limit`. Anything it cannot follow (no such
 * array, malformed JSON) is left to the parser, which reports it as before.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const isSpace = (b: number | undefined) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

function skipSpace(body: Uint8Array, i: number): number {
  while (i < body.length && isSpace(body[i])) i++;
  return i;
}

/** Index just past the string that starts at `i` (a quote): the next quote not escaped. */
function endOfString(body: Uint8Array, i: number): number {
  let from = i + 1;
  for (;;) {
    const quote = body.indexOf(QUOTE, from);
    if (quote < 0) return body.length;
    let backslashes = 0;
    for (let k = quote - 1; k > i && body[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

const instancesKey = new TextEncoder().encode('"instances"');

/** Is the string at [start, end) the key "instances" (escaped spellings included)? */
function isInstancesKey(body: Uint8Array, start: number, end: number): boolean {
  const raw = body.subarray(start, end);
  if (!raw.includes(BACKSLASH)) {
    if (raw.length !== instancesKey.length) return false;
    for (let k = 0; k < raw.length; k++) if (raw[k] !== instancesKey[k]) return false;
    return true;
  }
  try {
    return JSON.parse(Buffer.from(raw).toString('utf8')) === 'instances';
  } catch {
    return false;
  }
}

/** Elements of the array whose `[` is at `i` (counted until `limit` is passed), and its end. */
function countElements(body: Uint8Array, i: number, limit: number): { count: number; end: number } {
  let depth = 0;
  let commas = 0;
  let seenValue = false;
  for (let j = i; j < body.length; j++) {
    const b = body[j]!;
    if (b === QUOTE) {
      j = endOfString(body, j) - 1;
      seenValue = true;
    } else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
      depth++;
      if (depth > 1) seenValue = true;
    } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) {
      depth--;
      if (depth === 0) return { count: seenValue ? commas + 1 : 0, end: j + 1 };
    } else if (depth === 1 && b === COMMA) {
      commas++;
      if (commas + 1 > limit) return { count: commas + 1, end: j + 1 };
    } else if (!isSpace(b)) seenValue = true;
  }
  return { count: seenValue ? commas + 1 : 0, end: body.length };
}

/**
 * The number of records in `body`'s top-level `instances` array (at most a little past `limit`:
 * it stops counting there), or undefined when the body has no such array. A key given twice is
 * counted each time (`JSON.parse` keeps the last): any one past the limit is the answer.
 */
export function countInstances(body: Uint8Array, limit: number): number | undefined {
  let i = skipSpace(body, 0);
  if (body[i] !== OPEN_OBJECT) return undefined;
  let depth = 0;
  let found: number | undefined;
  while (i < body.length) {
    const b = body[i]!;
    if (b !== QUOTE) {
      if (b === OPEN_OBJECT || b === OPEN_ARRAY) depth++;
      else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) depth--;
      i++;
      continue;
    }
    const start = i;
    const end = endOfString(body, i);
    i = end;
    if (depth !== 1) continue;
    const colon = skipSpace(body, end);
    if (body[colon] !== COLON || !isInstancesKey(body, start, end)) continue;
    const value = skipSpace(body, colon + 1);
    if (body[value] !== OPEN_ARRAY) {
      found = undefined;
      i = value;
      continue;
    }
    const counted = countElements(body, value, limit);
    if (counted.count > limit) return counted.count;
    found = counted.count;
    i = counted.end;
  }
  return found;
}
