/**
 * Free ports, ephemeral listeners and bounded cleanup of servers, sockets and fixtures.
 */
import net from 'node:net';
import { TestSupportError } from './errors.js';

/** How long a close may take before cleanup reports it as stuck (ms). */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

// Connections accepted by servers this module created, so that cleanup can destroy them:
// `server.close()` alone waits for every connection to end and could hang a test's teardown.
const trackedConnections = new WeakMap<net.Server, Set<net.Socket>>();

/** Starts tracking a server's connections so that {@link closeServer} can destroy them. */
export function trackConnections(server: net.Server): void {
  if (trackedConnections.has(server)) return;
  const sockets = new Set<net.Socket>();
  trackedConnections.set(server, sockets);
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
}

/**
 * A TCP port that was free on `host` a moment ago: listens on port 0, reads the port, closes.
 * `host` defaults to `127.0.0.1`; pass `'::1'` for IPv6. Another process may take the port
 * before you use it, so prefer {@link listenEphemeral} when you need a listener anyway; use
 * this for a port that must be refused (nothing listens) or for a peer that needs its port
 * up front.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const { server, port } = await listenEphemeral({ host });
  await closeServer(server);
  return port;
}

/** Options of {@link listenEphemeral}. */
export interface ListenEphemeralOptions {
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** A port to use instead of 0 (an ephemeral one). Default 0. */
  port?: number;
  /** Called for each accepted connection. Default: none (connections stay open until cleanup). */
  onConnection?: (socket: net.Socket) => void;
  /** For an IPv6 host `::`: refuse IPv4-mapped connections. */
  ipv6Only?: boolean;
  /** Listen backlog. */
  backlog?: number;
}

/** A listening server from {@link listenEphemeral}. */
export interface EphemeralServer {
  /** The listening server; its connections are tracked for {@link closeServer}. */
  readonly server: net.Server;
  /** The port it listens on. */
  readonly port: number;
  /** The address it listens on, as the kernel reports it (`127.0.0.1`, `::1`, ...). */
  readonly address: string;
  /** The address family, 4 or 6. */
  readonly family: 4 | 6;
}

/**
 * Creates a `net.Server` listening on `host` (default `127.0.0.1`) and an ephemeral port, and
 * resolves once it listens. Its connections are tracked, so {@link closeServer} /
 * {@link closeAll} close it without waiting for clients.
 */
export function listenEphemeral(options: ListenEphemeralOptions = {}): Promise<EphemeralServer> {
  const host = options.host ?? '127.0.0.1';
  const server = net.createServer();
  trackConnections(server);
  if (options.onConnection !== undefined) server.on('connection', options.onConnection);
  return new Promise<EphemeralServer>((resolve, reject) => {
    const onError = (error: Error): void => {
      server.close();
      reject(error);
    };
    server.once('error', onError);
    server.listen(
      {
        host,
        port: options.port ?? 0,
        ...(options.ipv6Only === undefined ? {} : { ipv6Only: options.ipv6Only }),
        ...(options.backlog === undefined ? {} : { backlog: options.backlog }),
      },
      () => {
        server.off('error', onError);
        const address = server.address();
        if (address === null || typeof address === 'string') {
          server.close();
          reject(new TestSupportError(`listen on ${host} gave no TCP address`, 'ERR_TEST_SUPPORT_BAD_ARGUMENT'));
          return;
        }
        resolve({ server, port: address.port, address: address.address, family: address.family === 'IPv6' ? 6 : 4 });
      },
    );
  });
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TestSupportError(`${what} did not finish within ${timeoutMs} ms`, 'ERR_TEST_SUPPORT_TIMEOUT')), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Closes a server: stops listening, destroys the connections it accepted (when tracked, see
 * {@link listenEphemeral}/{@link trackConnections}) and resolves once it is closed. Resolves at
 * once when it is not listening. Rejects after `timeoutMs` if connections keep it open.
 */
export function closeServer(server: net.Server, timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
  if (!server.listening) {
    for (const socket of trackedConnections.get(server) ?? []) socket.destroy();
    return Promise.resolve();
  }
  const closed = new Promise<void>((resolve, reject) => {
    server.close((error) => (error === undefined ? resolve() : reject(error)));
  });
  for (const socket of trackedConnections.get(server) ?? []) socket.destroy();
  return withTimeout(closed, timeoutMs, 'closing the server (connections still open?)');
}

/** Destroys a socket and resolves once it has emitted `close` (at once if it is closed). */
export function destroySocket(socket: net.Socket, timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
  if (socket.closed) return Promise.resolve();
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  // An error while being destroyed is not a teardown failure.
  socket.on('error', () => undefined);
  socket.destroy();
  return withTimeout(closed, timeoutMs, 'destroying the socket');
}

/** Anything {@link closeAll} can close. `null` and `undefined` are skipped. */
export type Closable = net.Server | net.Socket | Disposable | Stoppable | ClosableObject | null | undefined;

/** A fixture with `dispose()` (e.g. a `Netns` or a `ManagedProcess`). */
export interface Disposable {
  /** Releases everything the fixture holds; may return a promise. */
  dispose(): unknown;
}

/** A fixture with `stop()`. */
export interface Stoppable {
  /** Stops the fixture; may return a promise. */
  stop(): unknown;
}

/** Anything else with `close()`. */
export interface ClosableObject {
  /** Closes it; may return a promise. */
  close(): unknown;
}

async function closeOne(item: Closable): Promise<void> {
  if (item === null || item === undefined) return;
  if (item instanceof net.Server) return closeServer(item);
  if (item instanceof net.Socket) return destroySocket(item);
  if ('dispose' in item) {
    await withTimeout(Promise.resolve(item.dispose()), DEFAULT_CLOSE_TIMEOUT_MS * 2, 'dispose()');
    return;
  }
  if ('stop' in item) {
    await withTimeout(Promise.resolve(item.stop()), DEFAULT_CLOSE_TIMEOUT_MS * 2, 'stop()');
    return;
  }
  await withTimeout(Promise.resolve(item.close()), DEFAULT_CLOSE_TIMEOUT_MS, 'close()');
}

/**
 * Closes everything given, all at once: servers (with their tracked connections), sockets,
 * and fixtures with `dispose()`, `stop()` or `close()` (in that order of preference). Every
 * item is attempted even if some fail; failures are rethrown together afterwards (one error
 * as is, several as an `AggregateError`).
 */
export async function closeAll(...items: readonly Closable[]): Promise<void> {
  const results = await Promise.allSettled(items.map((item) => closeOne(item)));
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `closeAll: ${errors.length} items failed to close`);
}

/**
 * A list of things to close after a test: `const cleanup = new CleanupList();
 * afterEach(() => cleanup.closeAll());` then `cleanup.add(server)` wherever a test opens one.
 */
export class CleanupList {
  private items: Closable[] = [];

  /** Registers an item for the next {@link CleanupList.closeAll} and returns it. */
  add<T extends Closable>(item: T): T {
    this.items.push(item);
    return item;
  }

  /** Closes every registered item (all at once, each attempted) and empties the list. */
  async closeAll(): Promise<void> {
    const items = this.items;
    this.items = [];
    await closeAll(...items);
  }
}
