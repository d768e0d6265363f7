/**
 * `npm run bench:cost` and `npm run bench:profile` write their tables into README.md between
 * markers (bench/readme-table.mjs): what is outside stays, a rerun replaces, missing markers refuse.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markdownTable, replaceBetweenMarkers, writeReadmeTable } from '../bench/readme-table.mjs';

const readme = [
  '# service',
  '',
  'Before.',
  '',
  '<!-- bench:cost:start -->',
  'Not measured yet: run `npm run bench:cost`.',
  '<!-- bench:cost:end -->',
  '',
  '<!-- bench:profile:start -->',
  'Not measured yet.',
  '<!-- bench:profile:end -->',
  '',
  'After.',
  '',
].join('\n');

describe('the README tables between markers', () => {
  it('replaces only what is between the markers of that bench', () => {
    const table = markdownTable(['rows', 'rows/s'], [[1, 900]]);
    const next = replaceBetweenMarkers(readme, 'cost', `${table}\n\nMeasured today.\n`);
    expect(next).toBe(
      readme.replace(
        'Not measured yet: run `npm run bench:cost`.',
        '| rows | rows/s |\n| --- | --- |\n| 1 | 900 |\n\nMeasured today.',
      ),
    );
    expect(next).toContain('<!-- bench:profile:start -->\nNot measured yet.\n');
  });

  it('gives the same README when run twice with the same table, and the new one with another', () => {
    const once = replaceBetweenMarkers(readme, 'profile', 'table A');
    expect(replaceBetweenMarkers(once, 'profile', 'table A')).toBe(once);
    const again = replaceBetweenMarkers(once, 'profile', 'table B');
    expect(again).toContain('<!-- bench:profile:start -->\ntable B\n<!-- bench:profile:end -->');
    expect(again).not.toContain('table A');
  });

  it('refuses a README without the markers, naming them and how to put them back', () => {
    const without = readme.replace(/<!-- bench:cost:(start|end) -->\n/g, '');
    expect(() => replaceBetweenMarkers(without, 'cost', 'x', 'README.md')).toThrow(
      /README\.md: .*"<!-- bench:cost:start -->" and "<!-- bench:cost:end -->".*neither marker is there\. Put those two lines back/,
    );
  });

  it('says which marker is missing', () => {
    const noEnd = readme.replace('<!-- bench:profile:end -->\n', '');
    expect(() => replaceBetweenMarkers(noEnd, 'profile', 'x')).toThrow(/the end marker is missing/);
    const noStart = readme.replace('<!-- bench:profile:start -->\n', '');
    expect(() => replaceBetweenMarkers(noStart, 'profile', 'x')).toThrow(
      /the start marker is missing/,
    );
  });

  it('refuses markers in the wrong order or twice', () => {
    const swapped = readme
      .replace('<!-- bench:cost:start -->', '@@')
      .replace('<!-- bench:cost:end -->', '<!-- bench:cost:start -->')
      .replace('@@', '<!-- bench:cost:end -->');
    expect(() => replaceBetweenMarkers(swapped, 'cost', 'x')).toThrow(/not one pair/);
    expect(() => replaceBetweenMarkers(`${readme}${readme}`, 'cost', 'x')).toThrow(/not one pair/);
  });

  it('writes the file, and leaves it untouched when it refuses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'readme-table-'));
    try {
      const file = join(dir, 'README.md');
      writeFileSync(file, readme);
      await writeReadmeTable(file, 'cost', 'measured');
      expect(readFileSync(file, 'utf8')).toContain(
        '<!-- bench:cost:start -->\nmeasured\n<!-- bench:cost:end -->',
      );
      writeFileSync(file, 'no markers\n');
      await expect(writeReadmeTable(file, 'cost', 'measured')).rejects.toThrow(/bench:cost:start/);
      expect(readFileSync(file, 'utf8')).toBe('no markers\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
