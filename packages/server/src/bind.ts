/**
 * Binding a set of local addresses to one port, the way Tcl's `Tcl_OpenTcpServerEx` does:
 * addresses are bound in order; with a fixed port an address that fails is skipped as long as
 * another succeeds; with port 0 the first bind picks the port and every later address gets that
 * same port, and when a later bind finds it taken everything bound so far is closed and the
 * whole set starts over on a fresh port (at most {@link MAX_PORT_ZERO_ROUNDS} rounds).
 *
 * The binder is injected so that the retry logic can be tested without depending on which
 * ports the kernel happens to pick. Internal to the package (index.ts does not export it).
 */

/** One bound and listening socket, as the binder hands it back. */
export interface BoundSocket {
  /** The port the kernel bound (the chosen one when 0 was asked for). */
  readonly port: number;
  /** Releases the socket (stops listening); must not throw. */
  close(): void;
}

/** Binds and listens on one address; rejects with a Node system error (`code`) on failure. */
export type BindOne<T extends BoundSocket> = (address: string, port: number) => Promise<T>;

/** Tcl gives up after this many rounds of port-0 retries (its `MAXRETRY`). */
export const MAX_PORT_ZERO_ROUNDS = 10;

/** What {@link bindAll} achieved. */
export interface BindResult<T extends BoundSocket> {
  /** The sockets, in the order of the addresses that bound (failed ones are absent). */
  readonly bound: readonly { readonly address: string; readonly socket: T }[];
  /** The one port every bound socket listens on. */
  readonly port: number;
  /** How many rounds it took (1 unless port 0 had to start over). */
  readonly rounds: number;
}

/** Thrown by {@link bindAll} when no address could be bound; `cause` is the reported failure. */
export class BindFailure extends Error {
  constructor(
    override readonly cause: unknown,
    /** How many rounds were tried. */
    readonly rounds: number,
  ) {
    super('no address could be bound');
  }
}

function isAddressInUse(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EADDRINUSE';
}

/**
 * Binds every address in `addresses` to `port` (see the module comment for the rules).
 * Resolves with what was bound, or rejects with a {@link BindFailure} carrying the first
 * failure of the last round (all of Node's failures happen at the same stage, so "the attempt
 * that got furthest", as Tcl reports it, is the first one). Nothing stays bound on failure.
 */
export async function bindAll<T extends BoundSocket>(
  addresses: readonly string[],
  port: number,
  bindOne: BindOne<T>,
): Promise<BindResult<T>> {
  let lastFailure: unknown;
  for (let round = 1; round <= (port === 0 ? MAX_PORT_ZERO_ROUNDS : 1); round += 1) {
    const bound: { address: string; socket: T }[] = [];
    let chosenPort = port;
    let firstFailure: unknown;
    let startOver = false;
    for (const address of addresses) {
      try {
        const socket = await bindOne(address, chosenPort);
        bound.push({ address, socket });
        if (chosenPort === 0) chosenPort = socket.port;
      } catch (err) {
        firstFailure ??= err;
        // Port 0: "address in use" means the shared port is taken on this address, so the
        // whole set must move to another port; skipping would leave the families apart.
        if (port === 0 && isAddressInUse(err)) {
          startOver = true;
          lastFailure = err;
          break;
        }
      }
    }
    if (!startOver && bound.length > 0) return { bound, port: chosenPort, rounds: round };
    for (const b of bound) b.socket.close();
    if (!startOver) throw new BindFailure(firstFailure, round);
  }
  throw new BindFailure(lastFailure, MAX_PORT_ZERO_ROUNDS);
}
