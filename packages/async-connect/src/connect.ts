import { connect as netConnect } from 'node:net';
import type { OnReadOpts, Socket, TcpNetConnectOpts } from 'node:net';
import { performance } from 'node:perf_hooks';
import { SockchanError, addressFamily, errnoCodeOf, parsePort, stripBrackets, toSockchanError, valueText } from '@sockchan/base';
import { whenAborted } from './abort.js';
import { attemptConnectOptions, attemptErrorCode, notifyAttempt, thrownAttemptCode, watchBoundEnd, withBoundEnd } from './attempt-socket.js';
import type { BoundEnd } from './attempt-socket.js';
import { connectError } from './errors.js';
import { ConnectHistory } from './history.js';
import { LiteralConnect } from './literal-connect.js';
import { HappyEyeballs, resolveTuning } from './machine.js';
import type { HappyEyeballsOptions, HappyEyeballsTuning } from './machine.js';
import type { Action, Attempt, Family, HistoryEntry } from './types.js';
import { systemResolver } from './resolver.js';
import type { Resolver } from './resolver.js';

/** Options of {@link connect}. Every one is optional; the defaults are Tcl's and RFC 8305's. */
export interface ConnectOptions extends HappyEyeballsTuning {
  /** Local address or name to bind before connecting (Tcl's `-myaddr`); only its families are tried. */
  myaddr?: string;
  /** Local port to bind before connecting (Tcl's `-myport`): a number or a TCP service name. */
  myport?: number | string;
  /** Aborts the connect: every attempt is closed and the promise rejects (`ERR_SOCKCHAN_ABORTED`). */
  signal?: AbortSignal;
  /** Resolves one family of a name; default: the system resolver (getaddrinfo, `/etc/hosts` included). */
  resolver?: Resolver;
  /** Called when an attempt starts (`outcome` `'pending'`) and again when it ends. */
  onAttempt?: (attempt: Attempt) => void;
  /** Whether to use and update the per-host history (default true). */
  useHistory?: boolean;
  /** The history to use (default: one shared by the process, see {@link clearHistory}). */
  history?: ConnectHistory;
  /**
   * Keep the socket writable after the peer's FIN (Node's `allowHalfOpen`). Default false, as
   * `net.connect`; Tcl's channels behave as true (the `sockchan` umbrella passes true).
   */
  allowHalfOpen?: boolean;
  /**
   * Node's `onread` option, given to every attempt's socket (only the winner ever reads):
   * `@sockchan/core`'s `Channel.onread` for a socket that a channel will read.
   */
  onread?: OnReadOpts;
  /**
   * Makes each attempt's socket from the options `net.connect` would get (default:
   * `net.connect`). It must return a socket that is connecting to `options.host` port
   * `options.port` and emits 'connect' once the TCP connection is up, as `net.connect` and
   * `tls.connect` do. `@sockchan/tls` passes `tls.connect` (through its `connectClient`): a TLS
   * client is then one TLSSocket with its own TCP handle, as Node makes one, instead of a
   * net.Socket that TLS wraps afterwards. Losing attempts are destroyed; the winner keeps every
   * listener but the connector's own.
   */
  createSocket?: (options: TcpNetConnectOpts) => Socket;
}

/** A successful {@link connect}: the connected socket and every attempt made. */
export interface ConnectResult {
  /** The connected socket; the caller owns it. */
  readonly socket: Socket;
  /** Every attempt, in the order started; the winner has outcome `'connected'`. */
  readonly attempts: readonly Attempt[];
}

/** The process-wide history used when `history` is not given. */
export const defaultHistory = new ConnectHistory();

/** Forgets what the process-wide history remembers about every host. */
export function clearHistory(): void {
  defaultHistory.clear();
}

/**
 * The driver's clock and its one timer: the system's for {@link connect}; tests give a virtual
 * one ({@link connectWithClock}) that may fire a timer early, as a real one may.
 */
export interface DriverClock {
  /** Monotonic ms. */
  now(): number;
  /** Calls `callback` in `ms`; returns what `clearTimer` takes. */
  setTimer(callback: () => void, ms: number): unknown;
  /** Disarms a timer `setTimer` returned. */
  clearTimer(timer: unknown): void;
}

const systemClock: DriverClock = {
  now: () => performance.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/** Arguments of a connect after checking. */
export interface CheckedConnectArguments {
  /** The host, without brackets. */
  readonly host: string;
  /** The remote port as a number. */
  readonly port: number;
  /** The local port, when one was asked for (0 means the OS chooses, as no `myport`). */
  readonly localPort: number | undefined;
}

/**
 * Checks `connect`'s arguments without starting anything, throwing the `SockchanError` that
 * `connect` would reject with. For callers that must fail synchronously (Tcl's `socket -async`).
 */
export function checkConnectArguments(host: unknown, port: unknown, options: ConnectOptions = {}): CheckedConnectArguments {
  if (typeof host !== 'string') {
    throw new SockchanError(`expected a host name or address but got "${valueText(host)}"`, { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
  }
  if (typeof port !== 'string' && typeof port !== 'number') {
    throw new SockchanError(`expected integer but got "${valueText(port)}"`, { code: 'ERR_SOCKCHAN_BAD_VALUE', errorCode: ['NONE'] });
  }
  const remotePort = parsePort(port);
  let localPort: number | undefined;
  if (options.myport !== undefined) {
    const p = parsePort(options.myport);
    localPort = p === 0 ? undefined : p;
  }
  if (options.myaddr !== undefined && typeof options.myaddr !== 'string') {
    throw new SockchanError(`expected a local address but got "${valueText(options.myaddr)}"`, { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
  }
  if (options.createSocket !== undefined && typeof options.createSocket !== 'function') {
    throw new SockchanError(`expected a function for createSocket but got "${valueText(options.createSocket)}"`, { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
  }
  // The tuning's checks throw their texts; with none given there is nothing to check (and no object to make).
  if (options.connectionAttemptDelay !== undefined || options.resolutionDelay !== undefined || options.firstAddressFamilyCount !== undefined || options.connectTimeout !== undefined) {
    resolveTuning(options);
  }
  return { host: stripBrackets(host), port: remotePort, localPort };
}

function abortedError(reason: unknown): SockchanError {
  return connectError({ kind: 'aborted', code: 'ABORT_ERR' }, [], [], reason);
}

/** Resolves `myaddr` (both families) to the local addresses to bind, in resolver order. */
async function resolveLocal(myaddr: string, resolver: Resolver): Promise<string[]> {
  const bare = stripBrackets(myaddr);
  if (addressFamily(bare) !== 0) return [bare];
  const answers = await Promise.allSettled([resolver(bare, 6), resolver(bare, 4)]);
  const locals: string[] = [];
  let firstError: unknown;
  for (const answer of answers) {
    if (answer.status === 'fulfilled') locals.push(...answer.value);
    else firstError ??= answer.reason;
  }
  if (locals.length === 0) {
    throw connectError({ kind: 'resolve', code: errnoCodeOf(firstError) ?? codeOf(firstError) ?? 'ENOTFOUND' }, [], firstError === undefined ? [] : [firstError]);
  }
  return [...new Set(locals)];
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Copies the tuning options that are set into `tuning` (exactOptionalPropertyTypes: no `undefined` values). */
function pickTuning(options: HappyEyeballsTuning, tuning: HappyEyeballsTuning): void {
  if (options.connectionAttemptDelay !== undefined) tuning.connectionAttemptDelay = options.connectionAttemptDelay;
  if (options.resolutionDelay !== undefined) tuning.resolutionDelay = options.resolutionDelay;
  if (options.firstAddressFamilyCount !== undefined) tuning.firstAddressFamilyCount = options.firstAddressFamilyCount;
  if (options.connectTimeout !== undefined) tuning.connectTimeout = options.connectTimeout;
}

function codeOf(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Connects to `host` port `port` the happy-eyeballs way (RFC 8305): both families resolved in
 * parallel, attempts staggered by the Connection Attempt Delay and left running while later ones
 * start, the first to connect wins. Resolves with the connected socket and every attempt; rejects
 * with a `SockchanError` in Tcl's words whose `attempts` lists every attempt (see `isConnectError`).
 * Literal addresses skip the resolver.
 */
export function connect(host: string, port: number | string, options: ConnectOptions = {}): Promise<ConnectResult> {
  return connectWithClock(host, port, options, systemClock);
}

/** {@link connect} with the clock and timer given (a virtual clock in tests). */
export function connectWithClock(host: string, port: number | string, options: ConnectOptions, clock: DriverClock): Promise<ConnectResult> {
  // Not an async function: a connect without `myaddr` starts its driver now, with no promise
  // and no turn of its own in front of the one it returns.
  try {
    const args = checkConnectArguments(host, port, options);
    const { signal } = options;
    if (signal?.aborted === true) throw abortedError(signal.reason);
    const resolver = options.resolver ?? systemResolver;
    const myaddr = options.myaddr;
    if (myaddr === undefined) return startDriver(args, options, resolver, clock, undefined);
    return resolveLocal(myaddr, resolver).then((localAddresses) => {
      // The signal may have fired during that lookup.
      if (isAborted(signal)) throw abortedError(signal?.reason);
      return startDriver(args, options, resolver, clock, localAddresses);
    });
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/**
 * Makes the machine for one connect and runs it with a {@link Driver}; a literal address without
 * `myaddr` has one attempt to make, which {@link LiteralConnect} makes without one.
 */
function startDriver(
  args: CheckedConnectArguments,
  options: ConnectOptions,
  resolver: Resolver,
  clock: DriverClock,
  localAddresses: string[] | undefined,
): Promise<ConnectResult> {
  const literal = addressFamily(args.host);
  if (literal !== 0 && localAddresses === undefined) return new LiteralConnect(args, literal, options, clock).run();
  const history = options.useHistory === false || literal !== 0 ? undefined : (options.history ?? defaultHistory);
  const remembered = history?.get(args.host, clock.now());
  // Set one by one (no spreads: each is a copy through V8's runtime, on every connect).
  const machineOptions: HappyEyeballsOptions = { port: args.port };
  pickTuning(options, machineOptions);
  if (localAddresses !== undefined) machineOptions.localAddresses = localAddresses;
  if (args.localPort !== undefined) machineOptions.localPort = args.localPort;
  if (remembered !== undefined) machineOptions.preferred = remembered;
  if (literal !== 0) machineOptions.families = [literal];
  return new Driver(new HappyEyeballs(machineOptions), args, resolver, options, history, clock).run();
}

/** An attempt's socket and the connector's listeners on it (removed from the winner). */
interface AttemptSocket {
  readonly socket: Socket;
  readonly onConnect: () => void;
  readonly onError: (err: Error) => void;
}

/** Runs one machine with real sockets, one timer and the resolver. */
class Driver {
  readonly #machine: HappyEyeballs;
  readonly #host: string;
  readonly #literal: 0 | 4 | 6;
  readonly #resolver: Resolver;
  readonly #options: ConnectOptions;
  readonly #history: ConnectHistory | undefined;
  readonly #sockets = new Map<number, AttemptSocket>();
  readonly #errors = new Map<number, unknown>();
  /** The local end of each attempt's socket, read once Node has called connect() (see #startAttempt). */
  readonly #boundEnds = new Map<number, BoundEnd>();
  readonly #resolveErrors: unknown[] = [];
  #settled = false;
  readonly #reported = new Set<number>();
  readonly #inputs: (() => Action[])[] = [];
  #busy = false;
  readonly #clock: DriverClock;
  /** The latest time fed to the machine: what it is fed never goes backwards (see #now). */
  #fed = Number.NEGATIVE_INFINITY;
  #timer: unknown;
  #stopWaiting: (() => void) | undefined;
  #resolve!: (result: ConnectResult) => void;
  #reject!: (err: unknown) => void;

  constructor(
    machine: HappyEyeballs,
    args: CheckedConnectArguments,
    resolver: Resolver,
    options: ConnectOptions,
    history: ConnectHistory | undefined,
    clock: DriverClock,
  ) {
    this.#clock = clock;
    this.#machine = machine;
    this.#host = args.host;
    this.#literal = addressFamily(args.host);
    this.#resolver = resolver;
    this.#options = options;
    this.#history = history;
  }

  run(): Promise<ConnectResult> {
    const promise = new Promise<ConnectResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const signal = this.#options.signal;
    // One listener per signal, shared by every connect that waits on it.
    if (signal !== undefined) this.#stopWaiting = whenAborted(signal, () => this.#step(() => this.#machine.cancel(this.#now())));
    this.#step(() => this.#machine.start(this.#now()));
    return promise;
  }

  /**
   * The time to feed the machine: the clock, but never before `atLeast` (a timer's due time: a
   * timer may fire a fraction of a ms early by the clock, and it is still "at") nor before the
   * time fed last. Otherwise an attempt a timer started at its due time could end before it began.
   */
  #now(atLeast = Number.NEGATIVE_INFINITY): number {
    this.#fed = Math.max(this.#fed, atLeast, this.#clock.now());
    return this.#fed;
  }

  /** Feeds one input; inputs that arrive while actions are performed wait their turn. */
  #step(input: () => Action[]): void {
    this.#inputs.push(input);
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let next = this.#inputs.shift(); next !== undefined; next = this.#inputs.shift()) {
        const actions = next();
        // Ends first, then starts: the observer sees attempts in the order things happened.
        this.#reportEnded();
        for (const action of actions) this.#perform(action);
      }
    } catch (err) {
      // A bug must not leave sockets open or the promise pending: close everything, reject.
      this.#inputs.length = 0;
      this.#finish();
      if (!this.#settled) {
        this.#settled = true;
        this.#reject(toSockchanError("couldn't open socket: ", err));
      }
    } finally {
      this.#busy = false;
    }
  }

  #perform(action: Action): void {
    switch (action.type) {
      case 'resolve':
        this.#lookup(action.family);
        break;
      case 'start':
        this.#notify(action.attempt);
        this.#startAttempt(action.attempt);
        break;
      case 'cancel': {
        const attempt = this.#sockets.get(action.id);
        this.#sockets.delete(action.id);
        attempt?.socket.destroy();
        break;
      }
      case 'timer':
        if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
        this.#timer = undefined;
        if (action.at !== null) {
          const at = action.at;
          this.#timer = this.#clock.setTimer(
            () => {
              this.#timer = undefined;
              this.#step(() => this.#machine.timerFired(this.#now(at)));
            },
            Math.max(0, at - this.#clock.now()),
          );
        }
        break;
      case 'connected':
        this.#succeed(action.id);
        break;
      case 'failed':
        this.#finish();
        // What won before may be what is broken now; an abort says nothing about the host.
        if (action.failure.kind !== 'aborted') this.#history?.forget(this.#host);
        this.#settled = true;
        this.#reject(
          connectError(action.failure, this.#attemptsWithBound(), [...this.#errors.values(), ...this.#resolveErrors], this.#options.signal?.reason),
        );
        break;
    }
  }

  #lookup(family: Family): void {
    if (this.#literal !== 0) {
      const answer = this.#literal === family ? [this.#host] : [];
      this.#step(() => this.#machine.resolved(family, answer, this.#now()));
      return;
    }
    let pending: Promise<readonly string[]>;
    try {
      pending = this.#resolver(this.#host, family);
    } catch (err) {
      // A resolver that throws instead of rejecting is treated as one that rejected.
      pending = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    pending.then(
      (addresses) => this.#step(() => this.#machine.resolved(family, addresses, this.#now())),
      (err: unknown) => {
        this.#resolveErrors.push(err);
        this.#step(() => this.#machine.resolveFailed(family, codeOf(err) ?? 'ENOTFOUND', this.#now()));
      },
    );
  }

  #startAttempt(attempt: Attempt): void {
    const id = attempt.id;
    let socket: Socket;
    try {
      const o = this.#options;
      socket = (o.createSocket ?? netConnect)(attemptConnectOptions(attempt, o));
    } catch (err) {
      this.#errors.set(id, err);
      const code = thrownAttemptCode(err);
      queueMicrotask(() => this.#step(() => this.#machine.attemptFailed(id, code, this.#now())));
      return;
    }
    const onConnect = (): void => this.#step(() => this.#machine.attemptSucceeded(id, this.#now()));
    // Stays attached on losers: an error queued before `destroy` must not go unhandled.
    const onError = (err: Error): void => {
      if (!this.#errors.has(id)) this.#errors.set(id, err);
      this.#step(() => this.#machine.attemptFailed(id, attemptErrorCode(err), this.#now()));
    };
    this.#sockets.set(id, { socket, onConnect, onError });
    watchBoundEnd(socket, (end) => this.#boundEnds.set(id, end));
    socket.once('connect', onConnect);
    socket.on('error', onError);
  }

  #succeed(id: number): void {
    const won = this.#sockets.get(id);
    this.#sockets.delete(id);
    this.#finish();
    this.#settled = true;
    if (won === undefined) {
      this.#reject(new SockchanError("couldn't open socket: socket is not connected", { code: 'ENOTCONN', errorCode: ['POSIX', 'ENOTCONN', 'socket is not connected'] }));
      return;
    }
    // Only the connector's own listeners: a socket from `createSocket` may have its own (TLS).
    const socket = won.socket;
    socket.off('error', won.onError);
    socket.off('connect', won.onConnect);
    const winner = this.#machine.attempt(id);
    if (winner !== undefined) {
      const entry: HistoryEntry = { family: winner.family, address: winner.address };
      this.#history?.record(this.#host, entry, this.#clock.now());
    }
    this.#resolve({ socket, attempts: this.#attemptsWithBound() });
  }

  #finish(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#stopWaiting?.();
    this.#stopWaiting = undefined;
    for (const attempt of this.#sockets.values()) attempt.socket.destroy();
    this.#sockets.clear();
  }

  #notify(attempt: Attempt): void {
    notifyAttempt(this.#options, attempt);
  }

  /** The machine's attempt log with the local ends the sockets were given. */
  #attemptsWithBound(): readonly Attempt[] {
    const attempts = this.#machine.attempts;
    if (this.#boundEnds.size === 0) return attempts;
    return attempts.map((a) => withBoundEnd(a, this.#boundEnds.get(a.id)));
  }

  /** Tells the observer about attempts that ended since the last input. */
  #reportEnded(): void {
    if (this.#options.onAttempt === undefined) return;
    for (const attempt of this.#machine.attempts) {
      if (attempt.outcome === 'pending' || this.#reported.has(attempt.id)) continue;
      this.#reported.add(attempt.id);
      this.#notify(attempt);
    }
  }
}
