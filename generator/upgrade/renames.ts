/**
 * Which files the template itself moved (docs/adr/0010-renames-and-json-merge-in-upgrade.md).
 *
 * A rename is a path the old templates rendered and the new templates no longer render *for the
 * same answers*, paired with a path the new templates render for those answers and the old ones
 * did not, when their contents are alike (half their lines in common). A file that is gone
 * because an answer changed (cloud aws -> gcp drops `deploy-aws.yml` and adds `deploy-gcp.yml`,
 * which look alike) is not a rename: with the old answers the new templates still render it.
 */
import type { FileState } from './engine.js';
import { toLf } from './eol.js';
import { isText } from './snapshot.js';
import { similarity } from './text.js';

export interface RenameInput {
  /** The paths of the last render. */
  readonly recorded: ReadonlyMap<string, string>;
  /** The last render's content of a path, where known. */
  readonly baseOf: (path: string) => Buffer | undefined;
  /** The new templates rendered with the answers of the last render. */
  readonly sameAnswers: ReadonlyMap<string, FileState>;
  /** The new templates rendered with the current answers (what the upgrade writes). */
  readonly next: ReadonlyMap<string, FileState>;
}

const threshold = 0.5;

/** old path -> new path, each path in at most one pair, the most alike first. */
export function detectRenames(input: RenameInput): Map<string, string> {
  const { recorded, sameAnswers, next } = input;
  const removed = [...recorded.keys()].filter((p) => !sameAnswers.has(p) && !next.has(p));
  const added = [...sameAnswers.keys()].filter((p) => !recorded.has(p) && next.has(p));
  const candidates: Array<{ from: string; to: string; score: number }> = [];
  for (const from of removed) {
    const b = input.baseOf(from);
    if (!b || !isText(b)) continue;
    for (const to of added) {
      const n = sameAnswers.get(to)!.content;
      if (!isText(n)) continue;
      const score = similarity(toLf(b).toString('utf8'), toLf(n).toString('utf8'));
      if (score >= threshold) candidates.push({ from, to, score });
    }
  }
  candidates.sort((x, y) => y.score - x.score || x.from.localeCompare(y.from));
  const renames = new Map<string, string>();
  const taken = new Set<string>();
  for (const c of candidates) {
    if (renames.has(c.from) || taken.has(c.to)) continue;
    renames.set(c.from, c.to);
    taken.add(c.to);
  }
  return renames;
}
