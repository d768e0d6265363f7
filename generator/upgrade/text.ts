/**
 * Line-based three-way merge (node-diff3) with git's diff3-style conflict markers, and the
 * unified diffs that `upgrade --dry-run` and `diff` print.
 */
import { diff3Merge, diffComm, diffIndices } from 'node-diff3';

/** Splits into lines that keep their `\n`, so joining them gives the text back byte for byte. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/(?<=\n)/);
  return lines;
}

export interface MergeLabels {
  readonly ours: string;
  readonly base: string;
  readonly theirs: string;
}

export interface TextMerge {
  readonly text: string;
  /** Number of conflict blocks (0: merged cleanly). */
  readonly conflicts: number;
}

const withNewline = (lines: readonly string[]): string[] =>
  lines.map((l, i) => (i === lines.length - 1 && !l.endsWith('\n') ? `${l}\n` : l));

/** A line that starts a conflict block, as git writes it. */
export const conflictMarker = /^(<{7} |\|{7} |>{7} )/m;

/**
 * Merges the change base -> theirs into ours. Changes on both sides to the same lines become a
 * conflict block with git's markers (ours, base, theirs). Where the base has nothing (a file both
 * sides added), the two sides are compared line by line so only the lines that differ conflict.
 */
export function mergeText(
  ours: string,
  base: string,
  theirs: string,
  labels: MergeLabels,
): TextMerge {
  const regions = diff3Merge(splitLines(ours), splitLines(base), splitLines(theirs), {
    excludeFalseConflicts: true,
  });
  const out: string[] = [];
  let conflicts = 0;
  const conflict = (a: string[], o: string[], b: string[]) => {
    conflicts++;
    out.push(`<<<<<<< ${labels.ours}\n`, ...withNewline(a));
    out.push(`||||||| ${labels.base}\n`, ...withNewline(o));
    out.push('=======\n', ...withNewline(b), `>>>>>>> ${labels.theirs}\n`);
  };
  for (const region of regions) {
    if (region.ok) {
      out.push(...region.ok);
      continue;
    }
    const { a, o, b } = region.conflict!;
    if (o.length > 0) {
      conflict(a, o, b);
      continue;
    }
    // Both added here: what they added alike is no conflict.
    for (const part of diffComm(a, b)) {
      if (part.common) out.push(...part.common);
      else conflict(part.buffer1, [], part.buffer2);
    }
  }
  return { text: out.join(''), conflicts };
}

/** Share of lines two texts have in common: 2 * common / (lines of a + lines of b). */
export function similarity(a: string, b: string): number {
  const la = splitLines(a);
  const lb = splitLines(b);
  if (la.length + lb.length === 0) return 1;
  let common = 0;
  for (const part of diffComm(la, lb)) if (part.common) common += part.common.length;
  return (2 * common) / (la.length + lb.length);
}

/**
 * A unified diff (`diff -u` / `git diff` format) of one file; '' when the texts are equal.
 * `undefined` stands for an absent file (/dev/null).
 */
export function unifiedDiff(
  path: string,
  before: string | undefined,
  after: string | undefined,
  context = 3,
): string {
  if (before === after) return '';
  const a = splitLines(before ?? '');
  const b = splitLines(after ?? '');
  const header = `--- ${before === undefined ? '/dev/null' : `a/${path}`}\n+++ ${after === undefined ? '/dev/null' : `b/${path}`}\n`;
  const changes = diffIndices(a, b);
  if (changes.length === 0) return '';
  // Group changes whose context would touch into hunks.
  const hunks: Array<typeof changes> = [];
  for (const change of changes) {
    const last = hunks[hunks.length - 1];
    const prev = last?.[last.length - 1];
    if (prev && change.buffer1[0] - (prev.buffer1[0] + prev.buffer1[1]) <= 2 * context) {
      last!.push(change);
    } else {
      hunks.push([change]);
    }
  }
  const line = (prefix: string, text: string) =>
    text.endsWith('\n') ? `${prefix}${text}` : `${prefix}${text}\n\\ No newline at end of file\n`;
  let out = header;
  for (const hunk of hunks) {
    const first = hunk[0]!;
    const last = hunk[hunk.length - 1]!;
    const aStart = Math.max(0, first.buffer1[0] - context);
    const aEnd = Math.min(a.length, last.buffer1[0] + last.buffer1[1] + context);
    const bStart = first.buffer2[0] - (first.buffer1[0] - aStart);
    const bEnd = last.buffer2[0] + last.buffer2[1] + (aEnd - (last.buffer1[0] + last.buffer1[1]));
    const range = (start: number, length: number) =>
      `${length === 0 ? start : start + 1}${length === 1 ? '' : `,${length}`}`;
    out += `@@ -${range(aStart, aEnd - aStart)} +${range(bStart, bEnd - bStart)} @@\n`;
    let i = aStart;
    for (const change of hunk) {
      for (; i < change.buffer1[0]; i++) out += line(' ', a[i]!);
      for (const l of change.buffer1Content) out += line('-', l);
      for (const l of change.buffer2Content) out += line('+', l);
      i = change.buffer1[0] + change.buffer1[1];
    }
    for (; i < aEnd; i++) out += line(' ', a[i]!);
  }
  return out;
}
