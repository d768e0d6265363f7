/**
 * The open sockets and the requests being answered, for the shutdown: it waits for requests to
 * finish and for clients to leave, and destroys what is left at the deadline.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export class Connections {
  private readonly sockets = new Set<Socket>();
  private requests = 0;
  private idleWaiters: Array<() => void> = [];
  private closedWaiters: Array<() => void> = [];

  /** Tracks every socket the server accepts. */
  attach(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        if (this.sockets.size === 0) this.closedWaiters.splice(0).forEach((w) => w());
      });
    });
  }

  /** A request arrived; `requestEnded` is called once its response is done or abandoned. */
  requestStarted(): void {
    this.requests += 1;
  }

  requestEnded(): void {
    this.requests -= 1;
    if (this.requests === 0) this.idleWaiters.splice(0).forEach((w) => w());
  }

  get inflight(): number {
    return this.requests;
  }

  get open(): number {
    return this.sockets.size;
  }

  /** Resolves true once no request is in flight, false after `ms`. */
  whenIdle(ms: number): Promise<boolean> {
    return waitFor(() => this.requests === 0, this.idleWaiters, ms);
  }

  /** Resolves true once every socket closed, false after `ms`. */
  whenClosed(ms: number): Promise<boolean> {
    return waitFor(() => this.sockets.size === 0, this.closedWaiters, ms);
  }

  /** Destroys every open socket (their requests get no answer); returns how many there were. */
  destroyAll(): number {
    const count = this.sockets.size;
    for (const socket of this.sockets) socket.destroy();
    return count;
  }
}

function waitFor(done: () => boolean, waiters: Array<() => void>, ms: number): Promise<boolean> {
  if (done()) return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const waiter = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      const at = waiters.indexOf(waiter);
      if (at >= 0) waiters.splice(at, 1);
      resolve(false);
    }, ms);
    waiters.push(waiter);
  });
}

/** Resolves to the promise's outcome (true once it settles) or false after `ms`. */
export function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, ms));
    timer.unref();
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}
