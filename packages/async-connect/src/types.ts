// The types the state machine, its driver, the history and the errors share (one place, no
// import loop between machine.ts and history.ts).

/** An address family: 6 for IPv6, 4 for IPv4. */
export type Family = 4 | 6;

/**
 * How one connection attempt ended. `pending` while it runs; `cancelled` when another attempt
 * won; `timeout` when the overall `connectTimeout` ended it; `aborted` when the caller's
 * AbortSignal did.
 */
export type AttemptOutcome = 'pending' | 'connected' | 'failed' | 'cancelled' | 'timeout' | 'aborted';

/** What won the last connect to a host (a `ConnectHistory` entry; the machine's `preferred`). */
export interface HistoryEntry {
  /** The family of the address that connected. */
  readonly family: Family;
  /** The address that connected. */
  readonly address: string;
}

/** One connection attempt, as the attempt log and the error of a failed connect show it. */
export interface Attempt {
  /** 1 for the first attempt started, then 2, 3, ... */
  readonly id: number;
  /** The remote address (IPv6 without brackets). */
  readonly address: string;
  /** Its family. */
  readonly family: Family;
  /** The remote port. */
  readonly port: number;
  /** The local address bound before connecting (`myaddr`), if any. */
  readonly localAddress?: string;
  /** The local port bound before connecting (`myport`), if any. */
  readonly localPort?: number;
  /**
   * The local end the kernel gave the attempt's socket (address and port), when the I/O shell
   * saw it; Tcl's `-sockname` of a failed connect answers with it. The pure machine never sets it.
   */
  readonly boundAddress?: string;
  /** The port of {@link Attempt.boundAddress}. */
  readonly boundPort?: number;
  /** When it started, in ms after the connect began. */
  readonly startedAt: number;
  /** When it ended, in ms after the connect began; absent while pending. */
  readonly endedAt?: number;
  /** How it ended. */
  readonly outcome: AttemptOutcome;
  /** Errno name of a failure (`'ECONNREFUSED'`), `'ETIMEDOUT'` for `timeout`. */
  readonly code?: string;
  /** Tcl's errno text of that failure (`'connection refused'`). */
  readonly message?: string;
}

/**
 * Why a connect failed, as the state machine decides it; the driver turns it into a
 * `SockchanError` (see `connectError`).
 * - `attempts`: every attempt failed; `code` is the errno of the last failure.
 * - `resolve`: no address at all; `code` is the resolver's (`'ENOTFOUND'`).
 * - `unreachable`: addresses, but none of `myaddr`'s family (Tcl: `host is unreachable`).
 * - `timeout`: the overall `connectTimeout` passed.
 * - `aborted`: `cancel()` was called (the caller's AbortSignal).
 */
export interface Failure {
  /** See the type's description. */
  readonly kind: 'attempts' | 'resolve' | 'unreachable' | 'timeout' | 'aborted';
  /** Errno or resolver code that decides the message. */
  readonly code: string;
}

/** Ask the resolver for this family's addresses, then call `resolved` or `resolveFailed`. */
export interface ResolveAction {
  /** Discriminant. */
  readonly type: 'resolve';
  /** The family to ask for (6: AAAA, 4: A). */
  readonly family: Family;
}

/** Open a socket and connect it as `attempt` says, then call `attemptSucceeded` or `attemptFailed`. */
export interface StartAction {
  /** Discriminant. */
  readonly type: 'start';
  /** Address, family, port and local binding of the new attempt. */
  readonly attempt: Attempt;
}

/** Close the socket of this attempt (it lost, timed out or was aborted); report nothing more for it. */
export interface CancelAction {
  /** Discriminant. */
  readonly type: 'cancel';
  /** The attempt's id. */
  readonly id: number;
}

/** Arm the one timer to call `timerFired` at `at` (the driver's clock); `null` disarms it. */
export interface TimerAction {
  /** Discriminant. */
  readonly type: 'timer';
  /** When to call `timerFired`, or `null` for never. */
  readonly at: number | null;
}

/** Done: this attempt's socket is the connection. */
export interface ConnectedAction {
  /** Discriminant. */
  readonly type: 'connected';
  /** The winning attempt's id. */
  readonly id: number;
}

/** Done: no connection. */
export interface FailedAction {
  /** Discriminant. */
  readonly type: 'failed';
  /** Why. */
  readonly failure: Failure;
}

/** What the state machine asks its driver to do. Actions are performed in order. */
export type Action = ResolveAction | StartAction | CancelAction | TimerAction | ConnectedAction | FailedAction;
