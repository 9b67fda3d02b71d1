// What both drivers do with an attempt's socket (the happy-eyeballs one in connect.ts and the
// one-attempt one for a literal address in literal-connect.ts): the options it is made with, the
// observer's call, the local end the kernel gave it, the errno of its failure.
import process from 'node:process';
import type { Socket, TcpNetConnectOpts } from 'node:net';
import { errnoCodeOf, errnoText, toSockchanError } from '@sockchan/base';
import type { Attempt, AttemptOutcome } from './types.js';
import type { ConnectOptions } from './connect.js';

/** The local end the kernel gave an attempt's socket. */
export interface BoundEnd {
  readonly address: string;
  readonly port: number;
}

/** `net.connect`'s (or `createSocket`'s) options for `attempt`. */
export function attemptConnectOptions(attempt: Attempt, options: ConnectOptions): TcpNetConnectOpts {
  // Set one by one (no spreads: each is a copy through V8's runtime, on every attempt).
  const connectOptions: TcpNetConnectOpts = { host: attempt.address, port: attempt.port, family: attempt.family, autoSelectFamily: false };
  if (options.allowHalfOpen === true) connectOptions.allowHalfOpen = true;
  if (options.onread !== undefined) connectOptions.onread = options.onread;
  if (attempt.localAddress !== undefined) connectOptions.localAddress = attempt.localAddress;
  if (attempt.localPort !== undefined) connectOptions.localPort = attempt.localPort;
  return connectOptions;
}

/** Tells `onAttempt` about `attempt`; an observer that throws is a warning, not a broken connect. */
export function notifyAttempt(options: ConnectOptions, attempt: Attempt): void {
  const onAttempt = options.onAttempt;
  if (onAttempt === undefined) return;
  try {
    onAttempt(attempt);
  } catch (err) {
    process.emitWarning(`onAttempt callback threw: ${String(err)}`, 'SockchanWarning');
  }
}

/**
 * Calls `found` with the socket's local end once Node has called connect() (a later tick). It is
 * known from then until a failure, when Node forgets it; Tcl's -sockname of a failed connect
 * still shows it.
 */
export function watchBoundEnd(socket: Socket, found: (end: BoundEnd) => void): void {
  process.nextTick(() => {
    const address = socket.localAddress;
    const port = socket.localPort;
    if (address !== undefined && port !== undefined && port !== 0) found({ address, port });
  });
}

/** How an attempt ended, for {@link copyAttempt}. */
export interface AttemptEnd {
  readonly endedAt: number;
  readonly outcome: AttemptOutcome;
  /** Errno name of a failure; its Tcl text comes with it. */
  readonly code: string | undefined;
}

/**
 * A copy of `attempt`, property by property in the documented order, ended as `end` says and
 * with the local end `bound` when given. A spread of an attempt (whose later properties V8 keeps
 * out of the object) took about 800 bytes per copy in a microbenchmark, against 160-200 for this.
 */
export function copyAttempt(attempt: Attempt, end: AttemptEnd | undefined, bound: BoundEnd | undefined): Attempt {
  const a: { -readonly [K in keyof Attempt]: Attempt[K] } = { id: attempt.id, address: attempt.address, family: attempt.family, port: attempt.port } as Attempt;
  if (attempt.localAddress !== undefined) a.localAddress = attempt.localAddress;
  if (attempt.localPort !== undefined) a.localPort = attempt.localPort;
  a.startedAt = attempt.startedAt;
  const endedAt = end === undefined ? attempt.endedAt : end.endedAt;
  if (endedAt !== undefined) a.endedAt = endedAt;
  a.outcome = end === undefined ? attempt.outcome : end.outcome;
  const code = end === undefined ? attempt.code : end.code;
  if (code !== undefined) {
    a.code = code;
    a.message = end === undefined ? (attempt.message ?? errnoText(code)) : errnoText(code);
  }
  if (bound !== undefined) {
    a.boundAddress = bound.address;
    a.boundPort = bound.port;
  }
  return a;
}

/** `attempt` with the local end its socket had, if known (a copy, see {@link copyAttempt}). */
export function withBoundEnd(attempt: Attempt, bound: BoundEnd | undefined): Attempt {
  return bound === undefined ? attempt : copyAttempt(attempt, undefined, bound);
}

/**
 * The errno of a `createSocket`/`net.connect` that threw instead of returning a socket: Node
 * throws synchronously only for arguments it rejects (a malformed address).
 */
export function thrownAttemptCode(err: unknown): string {
  return errnoCodeOf(err) ?? 'EINVAL';
}

/** The errno name of an attempt's socket error (`ECONNREFUSED`), or our code for one without. */
export function attemptErrorCode(err: unknown): string {
  return errnoCodeOf(err) ?? toSockchanError('', err).code;
}
