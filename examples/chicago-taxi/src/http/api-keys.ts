/**
 * The API keys a client may present, as a file of sha256 hashes (never the keys themselves), one
 * per line: `[<client name>:]<64 hex digits>`, `#` starts a comment. In Kubernetes the file comes
 * from a Secret mounted as a volume; rotating the Secret swaps the file (the kubelet replaces the
 * `..data` symlink of the directory), and the service picks the new keys up without a restart:
 * `fs.watch` on the directory, and a cheap `stat` every few seconds in case an event is missed
 * (network file systems, editors that write in place).
 *
 * At start a missing, unreadable, malformed or empty file is a ConfigError naming the file (exit
 * 1). Later, such a file is refused and the keys in force stay, with an error in the log: a
 * half-written Secret never locks every client out, nor lets everyone in.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type FSWatcher, type Stats, readFileSync, statSync, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { ConfigError } from '../config.js';

interface Key {
  readonly name: string;
  readonly hash: Buffer;
}

/** The keys of a file's text; throws naming the line that is not `[name:]<sha256 hex>`. */
export function parseApiKeys(text: string, file: string): Key[] {
  const keys: Key[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const colon = line.lastIndexOf(':');
    const name = colon >= 0 ? line.slice(0, colon).trim() : `key-${keys.length + 1}`;
    const hex = (colon >= 0 ? line.slice(colon + 1) : line).trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hex) || !/^[\w.@-]{1,64}$/.test(name)) {
      throw new Error(
        `${file} line ${i + 1}: expected "[name:]<sha256 hex of the key>" (64 hex digits; hash a key with: printf %s "$KEY" | sha256sum)`,
      );
    }
    keys.push({ name, hash: Buffer.from(hex, 'hex') });
  }
  if (keys.length === 0) throw new Error(`${file} holds no key hash`);
  return keys;
}

/** What identifies a version of the file: another inode (a swapped symlink), size or mtime. */
const versionOf = (s: Stats) => `${s.ino}:${s.size}:${s.mtimeMs}`;

export interface ApiKeyStoreEvents {
  /** The file changed and its keys are in force. */
  reload: [keys: number];
  /** The file changed but could not be used: the previous keys stay. */
  rejected: [error: Error];
}

export class ApiKeyStore extends EventEmitter<ApiKeyStoreEvents> {
  private keys: readonly Key[];
  private version: string;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private again = false;

  /** Reads the file now; a ConfigError naming API_KEYS_FILE and the file when it cannot be used. */
  constructor(
    readonly file: string,
    private readonly pollMs = 5000,
  ) {
    super();
    try {
      this.version = versionOf(statSync(file));
      this.keys = parseApiKeys(readFileSync(file, 'utf8'), file);
    } catch (error) {
      throw new ConfigError('API_KEYS_FILE', `cannot use ${file}: ${(error as Error).message}`);
    }
  }

  get size(): number {
    return this.keys.length;
  }

  /** The client name of a presented key, or undefined. Compares every hash in constant time. */
  match(presented: string): string | undefined {
    const hash = createHash('sha256').update(presented, 'utf8').digest();
    let found: string | undefined;
    for (const key of this.keys) {
      if (timingSafeEqual(hash, key.hash) && found === undefined) found = key.name;
    }
    return found;
  }

  /** Starts following the file (the directory's events, and a stat every `pollMs`). */
  watch(): void {
    if (this.watcher || this.timer) return;
    const dir = dirname(this.file);
    const name = basename(this.file);
    try {
      this.watcher = watch(dir, { persistent: false }, (_event, changed) => {
        // Kubernetes swaps `..data`, not the file itself: any change in the directory counts.
        if (changed === null || changed === name || changed.startsWith('..')) void this.check();
      });
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      // No watch on this file system: the stat below still finds changes.
    }
    this.timer = setInterval(() => void this.check(), this.pollMs).unref();
  }

  /** Re-reads the file if it changed since it was last read. */
  async check(): Promise<void> {
    if (this.checking) {
      this.again = true;
      return;
    }
    this.checking = true;
    try {
      const version = versionOf(await stat(this.file));
      if (version === this.version) return;
      this.version = version;
      this.keys = parseApiKeys(readFileSync(this.file, 'utf8'), this.file);
      this.emit('reload', this.keys.length);
    } catch (error) {
      this.emit('rejected', error as Error);
    } finally {
      this.checking = false;
    }
    if (this.again) {
      this.again = false;
      await this.check();
    }
  }

  close(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    this.watcher = undefined;
    this.timer = undefined;
  }
}
