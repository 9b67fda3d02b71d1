import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

/** Servers and sockets a test opened; `closeAll` in afterEach. */
export class Opened {
  readonly servers: Server[] = [];
  readonly sockets: Socket[] = [];

  /** Listens on host:port (0: any), accepting and keeping connections open until closed. */
  listen(host: string, port = 0): Promise<Server> {
    const server = createServer((socket) => {
      this.sockets.push(socket);
      socket.on('error', () => undefined);
    });
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(server));
    });
  }

  /** One port with a listener on ::1 and on 127.0.0.1 (retries if the second is taken). */
  async listenBoth(): Promise<number> {
    for (let tries = 0; tries < 20; tries += 1) {
      const first = await this.listen('::1');
      const port = portOf(first);
      try {
        await this.listen('127.0.0.1', port);
        return port;
      } catch {
        await closeServer(first);
      }
    }
    throw new Error('no port free on both ::1 and 127.0.0.1');
  }

  /** A port nothing listens on (bound once by the OS, then released). */
  async freePort(host = '127.0.0.1'): Promise<number> {
    const s = await this.listen(host);
    const port = portOf(s);
    await closeServer(s);
    return port;
  }

  track(socket: Socket): Socket {
    this.sockets.push(socket);
    return socket;
  }

  async closeAll(): Promise<void> {
    for (const s of this.sockets.splice(0)) s.destroy();
    await Promise.all(this.servers.splice(0).map(closeServer));
  }
}

export function portOf(server: Server): number {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('server not listening on a port');
  return a.port;
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

/**
 * A virtual clock for the driver (`connectWithClock`): time moves only when the test moves it,
 * and the one timer fires only when the test fires it, at any time it likes (earlier than due
 * too, as a real timer may).
 */
export class VirtualClock {
  time = 0;
  /** How many timers fired. */
  fired = 0;
  readonly #timers = new Map<number, { readonly callback: () => void; readonly at: number }>();
  #nextId = 1;
  #waiters: ((at: number) => void)[] = [];

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, ms: number): unknown {
    const id = this.#nextId++;
    const at = this.time + ms;
    this.#timers.set(id, { callback, at });
    for (const wake of this.#waiters.splice(0)) wake(at);
    return id;
  }

  clearTimer(timer: unknown): void {
    this.#timers.delete(timer as number);
  }

  /** Resolves with the due time of the next timer armed. */
  nextArmed(): Promise<number> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Due times of the armed timers. */
  get armed(): number[] {
    return [...this.#timers.values()].map((t) => t.at);
  }

  /** Fires the one armed timer with the clock at `now`. */
  fire(now: number): void {
    const [entry, ...rest] = [...this.#timers];
    if (entry === undefined || rest.length > 0) throw new Error(`expected one armed timer, found ${this.#timers.size}`);
    this.#timers.delete(entry[0]);
    this.time = now;
    this.fired += 1;
    entry[1].callback();
  }
}
