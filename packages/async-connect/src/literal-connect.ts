import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { SockchanError, toSockchanError } from '@sockchan/base';
import { whenAborted } from './abort.js';
import { attemptConnectOptions, attemptErrorCode, copyAttempt, notifyAttempt, thrownAttemptCode, watchBoundEnd, withBoundEnd } from './attempt-socket.js';
import type { BoundEnd } from './attempt-socket.js';
import { connectError } from './errors.js';
import type { Attempt, AttemptOutcome, Failure } from './types.js';
import type { CheckedConnectArguments, ConnectOptions, ConnectResult, DriverClock } from './connect.js';

/**
 * A connect to a literal address without `myaddr`: one attempt, nothing to resolve and nothing
 * to race (RFC 8305 orders and staggers the addresses of a name; an address has one). The
 * happy-eyeballs machine would decide exactly this, through a resolve step, a candidate queue
 * and an action list per input: per connect, that is most of a literal connect's own CPU, and
 * compiled code a process connecting a few thousand times keeps paying for. What it reports is
 * the machine's, field for field (attempt 1, its times, outcome, errno and text; the error's
 * words, `attempts` and cause), and tests hold the two to that.
 */
export class LiteralConnect {
  readonly #options: ConnectOptions;
  readonly #clock: DriverClock;
  readonly #t0: number;
  /** The latest time read: what the attempt log shows never goes backwards (a timer may fire early). */
  #fed: number;
  readonly #args: CheckedConnectArguments;
  readonly #family: 4 | 6;
  /** The one attempt, as the machine's snapshot shows it (no bound end); made when it starts. */
  #attempt!: Attempt;
  #socket: Socket | undefined;
  #onConnect: (() => void) | undefined;
  #onError: ((err: Error) => void) | undefined;
  #error: unknown;
  #bound: BoundEnd | undefined;
  #timer: unknown;
  #stopWaiting: (() => void) | undefined;
  #settled = false;
  #resolve!: (result: ConnectResult) => void;
  #reject!: (err: unknown) => void;

  constructor(args: CheckedConnectArguments, family: 4 | 6, options: ConnectOptions, clock: DriverClock) {
    this.#options = options;
    this.#clock = clock;
    this.#t0 = clock.now();
    this.#fed = this.#t0;
    this.#args = args;
    this.#family = family;
  }

  run(): Promise<ConnectResult> {
    const promise = new Promise<ConnectResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    try {
      const { signal, connectTimeout } = this.#options;
      if (signal !== undefined) this.#stopWaiting = whenAborted(signal, () => this.#end('aborted', undefined, { kind: 'aborted', code: 'ABORT_ERR' }));
      if (connectTimeout !== undefined) {
        const at = this.#t0 + connectTimeout;
        this.#timer = this.#clock.setTimer(
          () => {
            this.#timer = undefined;
            this.#end('timeout', 'ETIMEDOUT', { kind: 'timeout', code: 'ETIMEDOUT' }, at);
          },
          Math.max(0, at - this.#clock.now()),
        );
      }
      this.#start();
    } catch (err) {
      // A bug must not leave a socket open or the promise pending.
      this.#settle();
      this.#reject(toSockchanError("couldn't open socket: ", err));
    }
    return promise;
  }

  /** The time for the log: the clock, never before `atLeast` (a timer's due time) nor before the last. */
  #now(atLeast = Number.NEGATIVE_INFINITY): number {
    this.#fed = Math.max(this.#fed, atLeast, this.#clock.now());
    return this.#fed;
  }

  #start(): void {
    const args = this.#args;
    // Property by property, in the machine's order. It files an address in lower case.
    const a: { -readonly [K in keyof Attempt]: Attempt[K] } = { id: 1, address: args.host.toLowerCase(), family: this.#family, port: args.port } as Attempt;
    if (args.localPort !== undefined) a.localPort = args.localPort;
    a.startedAt = this.#now() - this.#t0;
    a.outcome = 'pending';
    this.#attempt = a;
    notifyAttempt(this.#options, this.#attempt);
    let socket: Socket;
    try {
      socket = (this.#options.createSocket ?? netConnect)(attemptConnectOptions(this.#attempt, this.#options));
    } catch (err) {
      this.#error = err;
      const code = thrownAttemptCode(err);
      queueMicrotask(() => this.#end('failed', code, { kind: 'attempts', code }));
      return;
    }
    this.#socket = socket;
    this.#onConnect = (): void => this.#connected();
    // Stays attached after a failure: an error queued before `destroy` must not go unhandled.
    this.#onError = (err: Error): void => {
      this.#error ??= err;
      const code = attemptErrorCode(err);
      this.#end('failed', code, { kind: 'attempts', code });
    };
    watchBoundEnd(socket, (end) => (this.#bound = end));
    // `on`, not `once` (no wrapper per connect): #connected removes it, and a socket that failed
    // or was destroyed never connects.
    socket.on('connect', this.#onConnect);
    socket.on('error', this.#onError);
  }

  /** The attempt ends as `outcome` (with the local end the kernel gave it, when `bound`). */
  #ended(outcome: AttemptOutcome, code: string | undefined, atLeast?: number, bound?: BoundEnd): Attempt {
    const a = copyAttempt(this.#attempt, { endedAt: this.#now(atLeast) - this.#t0, outcome, code }, bound);
    this.#attempt = a;
    notifyAttempt(this.#options, a);
    return a;
  }

  #connected(): void {
    if (this.#settled) return;
    // The observer sees the machine's attempt, without the local end; unobserved, one copy has it.
    const observed = this.#options.onAttempt !== undefined;
    const ended = this.#ended('connected', undefined, undefined, observed ? undefined : this.#bound);
    const socket = this.#socket;
    this.#socket = undefined;
    this.#settle();
    if (socket === undefined) {
      // Not reachable ('connect' comes only from the socket kept), but never a pending promise.
      this.#reject(new SockchanError("couldn't open socket: socket is not connected", { code: 'ENOTCONN', errorCode: ['POSIX', 'ENOTCONN', 'socket is not connected'] }));
      return;
    }
    // Only our own listeners: a socket from `createSocket` may have its own (TLS).
    if (this.#onError !== undefined) socket.off('error', this.#onError);
    socket.off('connect', this.#onConnect as () => void);
    this.#resolve({ socket, attempts: [observed ? withBoundEnd(ended, this.#bound) : ended] });
  }

  /** No connection: failed, timed out or aborted. */
  #end(outcome: AttemptOutcome, code: string | undefined, failure: Failure, atLeast?: number): void {
    if (this.#settled) return;
    this.#ended(outcome, code, atLeast);
    this.#settle();
    const errors = this.#error === undefined ? [] : [this.#error];
    this.#reject(connectError(failure, [withBoundEnd(this.#attempt, this.#bound)], errors, this.#options.signal?.reason));
  }

  /** Settled: the timer, the abort listener and a socket that did not connect go. */
  #settle(): void {
    this.#settled = true;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#stopWaiting?.();
    this.#stopWaiting = undefined;
    this.#socket?.destroy();
    this.#socket = undefined;
  }
}
