import { SockchanError, errnoText, resolverText } from '@sockchan/base';
import type { Attempt, Failure } from './types.js';

/** A failed connect's `SockchanError`, with every attempt on `attempts`. */
export interface ConnectError extends SockchanError {
  /** Every attempt, in the order started, with address, outcome and times. */
  readonly attempts: readonly Attempt[];
}

/** True when `err` is a {@link ConnectError} (a `SockchanError` with an attempt list). */
export function isConnectError(err: unknown): err is ConnectError {
  return err instanceof SockchanError && Array.isArray((err as { attempts?: unknown }).attempts);
}

const PREFIX = "couldn't open socket: ";

/** One attempt as a line of the cause's message: `::1 port 80: connection refused after 3 ms`. */
export function describeAttempt(a: Attempt): string {
  const where = `${a.family === 6 ? `[${a.address}]` : a.address}:${a.port}`;
  const local = a.localAddress !== undefined || a.localPort !== undefined ? ` from ${a.localAddress ?? '*'}:${a.localPort ?? '*'}` : '';
  const took = a.endedAt === undefined ? `started at ${Math.round(a.startedAt)} ms` : `at ${Math.round(a.startedAt)}-${Math.round(a.endedAt)} ms`;
  const what = a.outcome === 'failed' ? (a.message ?? 'failed') : a.outcome;
  return `${where}${local} ${what} (${took})`;
}

/**
 * The error of a failed connect, as Tcl words it: `couldn't open socket: ` and the text of the
 * failure that decided it (the last attempt's errno text, `connection timed out` for the overall
 * timeout, `host is unreachable` when no address has `myaddr`'s family, the resolver's text for
 * an unknown host). `attempts` lists every attempt; `cause` is an `AggregateError` of the
 * attempts' own errors whose message names each address (like undici's connect), or the abort
 * reason for an aborted connect.
 */
export function connectError(failure: Failure, attempts: readonly Attempt[], errors: readonly unknown[], abortReason?: unknown): ConnectError {
  let err: SockchanError;
  const summary = attempts.length === 0 ? 'no connection attempt was made' : attempts.map(describeAttempt).join('; ');
  const cause = failure.kind === 'aborted' ? abortReason : new AggregateError(errors, `connect failed: ${summary}`);
  switch (failure.kind) {
    case 'resolve': {
      const text = resolverText(failure.code) ?? 'Name or service not known';
      err = new SockchanError(PREFIX + text, { code: failure.code, errorCode: ['NONE'], cause });
      break;
    }
    case 'aborted':
      err = new SockchanError(`${PREFIX}operation canceled`, {
        code: 'ERR_SOCKCHAN_ABORTED',
        errorCode: ['POSIX', 'ECANCELED', 'operation canceled'],
        cause,
      });
      break;
    default: {
      const text = errnoText(failure.code);
      err = new SockchanError(PREFIX + text, { code: failure.code, errorCode: ['POSIX', failure.code, text], cause });
    }
  }
  Object.defineProperty(err, 'attempts', { value: Object.freeze([...attempts]), enumerable: true });
  return err as ConnectError;
}
