/** Exit codes of every command: one place, so scripts and agents can rely on them. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** `upgrade` wrote the merge, but some files hold conflict markers to resolve (listed). */
  conflicts: 3,
  cancelled: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error whose message is meant for the user as it is: no stack trace is printed. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly details: readonly string[] = [],
    readonly exitCode: ExitCode = ExitCode.failure,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Bad flags, answers or arguments: exit 2. */
export class UsageError extends UserError {
  constructor(message: string, details: readonly string[] = []) {
    super(message, details, ExitCode.usage);
    this.name = 'UsageError';
  }
}

/** The user pressed Ctrl-C or cancelled a prompt: exit 130, nothing written. */
export class CancelledError extends UserError {
  constructor() {
    super('Cancelled. Nothing was written.', [], ExitCode.cancelled);
    this.name = 'CancelledError';
  }
}
