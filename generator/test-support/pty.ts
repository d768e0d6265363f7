/**
 * Runs the built CLI inside a pseudo-terminal (util-linux `script`), so tests can answer
 * @clack/prompts' questions and press Ctrl-C as a person would.
 */
import { spawn, spawnSync } from 'node:child_process';
import { binPath } from './cli.js';

export interface PtyStep {
  /** Wait until the screen shows this text (after what earlier steps consumed)... */
  readonly waitFor: string;
  /** ...then type this (e.g. "my-team\r", or "\x03" for Ctrl-C). */
  readonly send: string;
}

export const ptyAvailable = (): boolean =>
  spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/** Strips ANSI escapes and carriage returns so tests can look for plain text. */
export const plain = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

export function runInPty(
  args: string[],
  steps: readonly PtyStep[],
  cwd: string,
  timeoutMs = 30_000,
): Promise<{ code: number | null; screen: string }> {
  // A pty made without a terminal has no size: give it one, or prompts wrap at one column.
  const command = `stty cols 120 rows 40; exec ${[process.execPath, binPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}`;
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', COLUMNS: '120', LINES: '40' };
    delete env.CI;
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let consumed = 0;
    let next = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `pty run timed out waiting for ${JSON.stringify(steps[next]?.waitFor)}; screen:\n${plain(screen).slice(-2000)}`,
        ),
      );
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      screen += d.toString();
      const text = plain(screen);
      while (next < steps.length) {
        const at = text.indexOf(steps[next]!.waitFor, consumed);
        if (at < 0) break;
        consumed = at + steps[next]!.waitFor.length;
        child.stdin.write(steps[next]!.send);
        next += 1;
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen: plain(screen) });
    });
  });
}
