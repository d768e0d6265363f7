/**
 * Progress and messages. Interactive runs get @clack/prompts' intro, spinners and outro; other runs
 * get plain lines on stderr; with `--json` stdout carries only the final JSON report.
 */
import * as p from '@clack/prompts';

export interface Ui {
  intro(title: string): void;
  /** Runs `work` under a spinner (interactive) or between two log lines (plain). */
  phase<T>(label: string, work: () => Promise<T>, done?: (result: T) => string): Promise<T>;
  info(message: string): void;
  warn(message: string): void;
  outro(message: string): void;
}

export function createUi(mode: 'interactive' | 'plain' | 'quiet'): Ui {
  if (mode === 'interactive') {
    return {
      intro: (t) => p.intro(t),
      async phase(label, work, done) {
        const s = p.spinner();
        s.start(label);
        try {
          const result = await work();
          s.stop(done ? done(result) : label);
          return result;
        } catch (err) {
          s.error(`${label}: failed`);
          throw err;
        }
      },
      info: (m) => p.log.info(m),
      warn: (m) => p.log.warn(m),
      outro: (m) => p.outro(m),
    };
  }
  const write = mode === 'quiet' ? () => {} : (line: string) => process.stderr.write(`${line}\n`);
  return {
    intro: (t) => write(t),
    async phase(label, work, done) {
      write(`- ${label}...`);
      const result = await work();
      write(`  ${done ? done(result) : 'done'}`);
      return result;
    },
    info: (m) => write(m),
    warn: (m) => write(`warning: ${m}`),
    outro: (m) => write(m),
  };
}
