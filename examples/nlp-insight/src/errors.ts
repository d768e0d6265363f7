/**
 * Errors that become HTTP answers. Every error body is `{"error": "<message>"}` (the Open Inference
 * Protocol's shape), plus `details` for validation and the request id; never a stack trace.
 */

export interface FieldIssue {
  /** Path of the bad value: `Age`, `instances.3.Age`, `inputs.Age[2]`. */
  readonly field: string;
  readonly message: string;
}

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly options: {
      readonly details?: readonly FieldIssue[];
      readonly retryAfterSeconds?: number;
      /** Headers the answer must carry (e.g. `WWW-Authenticate` of a 401). */
      readonly headers?: Readonly<Record<string, string>>;
    } = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export class ValidationError extends HttpError {
  constructor(readonly issues: readonly FieldIssue[]) {
    super(400, describeIssues(issues), { details: issues });
    this.name = 'ValidationError';
  }
}

export type ShedReason = 'queue_full' | 'queue_timeout' | 'not_ready' | 'explain_busy';

/** Overload: the request is refused at once so the client can retry elsewhere. */
export class ShedError extends HttpError {
  constructor(readonly reason: ShedReason) {
    const messages: Record<ShedReason, string> = {
      queue_full: 'overloaded: the inference queue is full',
      queue_timeout: 'overloaded: the request waited too long in the inference queue',
      not_ready: 'not ready: the model is still warming up or the service is shutting down',
      explain_busy: 'overloaded: the explanation worker is busy',
    };
    super(503, messages[reason], { retryAfterSeconds: 1 });
    this.name = 'ShedError';
  }
}

/** No valid credential (RFC 6750: the answer names the scheme, and why a token was refused). */
export class UnauthorizedError extends HttpError {
  constructor(message: string, realm: string, invalidToken = false) {
    super(401, message, {
      headers: {
        'www-authenticate': `Bearer realm="${realm}"${invalidToken ? ', error="invalid_token"' : ''}`,
      },
    });
    this.name = 'UnauthorizedError';
  }
}

export class DeadlineError extends HttpError {
  constructor(timeoutMs: number) {
    super(504, `the request did not complete within its ${timeoutMs} ms deadline`);
    this.name = 'DeadlineError';
  }
}

/** The inference worker that held the request died; the pool replaces it. */
export class WorkerCrashError extends HttpError {
  constructor() {
    super(
      500,
      'the inference worker running this request failed; it has been replaced, retry the request',
    );
    this.name = 'WorkerCrashError';
  }
}

export function describeIssues(issues: readonly FieldIssue[]): string {
  const shown = issues.slice(0, 5).map((i) => `${i.field}: ${i.message}`);
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  return `invalid request: ${shown.join('; ')}${more}`;
}
