/**
 * The service's start as its JSON log on stdout tells it: where it listens (`address`, and
 * `grpcAddress` when gRPC is on) and when every worker is warm (the `ready` line). The one reader
 * of those lines for whatever starts the service as a child process and waits for it: the tests,
 * `npm run bench`, the release gates' side-by-side run.
 */

/** The message the service logs once every inference worker is warm: readiness, for a reader. */
export const readyMessage = 'ready: every inference worker is warm';

export interface StartupState {
  /** The REST listener's address (`http://host:port`), once logged. */
  readonly address?: string;
  /** The gRPC listener's address, once logged (gRPC on). */
  readonly grpcAddress?: string;
  /** Every worker is warm. */
  readonly ready: boolean;
}

/** Reads the service's stdout chunk by chunk; lines that are not JSON are passed over. */
export class StartupLog {
  private rest = '';
  private address: string | undefined;
  private grpcAddress: string | undefined;
  private ready = false;

  /** Takes a chunk of stdout and returns what the complete lines so far have said. */
  read(chunk: string | Buffer): StartupState {
    this.rest += chunk.toString();
    let newline;
    while ((newline = this.rest.indexOf('\n')) >= 0) {
      this.line(this.rest.slice(0, newline));
      this.rest = this.rest.slice(newline + 1);
    }
    return {
      ready: this.ready,
      ...(this.address !== undefined ? { address: this.address } : {}),
      ...(this.grpcAddress !== undefined ? { grpcAddress: this.grpcAddress } : {}),
    };
  }

  private line(line: string): void {
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof entry !== 'object' || entry === null) return;
    const { address, grpcAddress, msg } = entry as Record<string, unknown>;
    if (typeof address === 'string') this.address = address;
    if (typeof grpcAddress === 'string') this.grpcAddress = grpcAddress;
    if (msg === readyMessage) this.ready = true;
  }
}
