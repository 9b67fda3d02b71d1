/**
 * The one error type of sockchan. Every failure the library reports is a `SockchanError`
 * carrying Tcl's message text, a Node-style `code` and Tcl's `errorCode` list.
 */

const BRAND = Symbol.for('sockchan.SockchanError');

/** Node-style codes of sockchan's own (non-errno) failures. */
export type SockchanErrorCode =
  | 'ERR_SOCKCHAN_ARGS' // wrong arguments: count, option names, values
  | 'ERR_SOCKCHAN_BAD_VALUE' // an option value or port that does not parse
  | 'ERR_SOCKCHAN_UNKNOWN_CHANNEL' // use after close
  | 'ERR_SOCKCHAN_NOT_OPEN' // channel not opened for reading/writing
  | 'ERR_SOCKCHAN_ENCODING' // unknown encoding, or a strict-profile failure
  | 'ERR_SOCKCHAN_RESOLVE' // name resolution (gai) failures
  | 'ERR_SOCKCHAN_LIMIT' // an input limit was exceeded
  | 'ERR_SOCKCHAN_TIMEOUT'
  | 'ERR_SOCKCHAN_PROXY' // a bad or missing PROXY protocol header
  | 'ERR_SOCKCHAN_ABORTED'
  | 'ERR_SOCKCHAN_INTERNAL' // Node broke an assumption sockchan relies on (a bug to report)
  | (string & {}); // errno names such as 'ECONNREFUSED'

/** Options of the {@link SockchanError} constructor. */
export interface SockchanErrorOptions {
  /** Node-style code: an errno name (`'ECONNREFUSED'`) or an `ERR_SOCKCHAN_*` code. */
  code: SockchanErrorCode;
  /** Tcl's `errorCode` list, e.g. `['POSIX', 'ECONNREFUSED', 'connection refused']` or `['NONE']`. */
  errorCode?: readonly string[];
  /** The underlying error, if any. */
  cause?: unknown;
}

/**
 * An error with Tcl's message text (`couldn't open socket: connection refused`), a Node-style
 * `code` and Tcl's `errorCode` list. `instanceof` holds across duplicate copies of the package.
 */
export class SockchanError extends Error {
  /** Node-style code: `'ECONNREFUSED'`, `'ERR_SOCKCHAN_ARGS'`, ... */
  readonly code: SockchanErrorCode;
  /** Tcl's `errorCode` list: `['POSIX', code, text]`, `['NONE']`, `['TCL', ...]`. */
  readonly errorCode: readonly string[];

  constructor(message: string, options: SockchanErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.errorCode = options.errorCode ?? ['NONE'];
  }

  override get name(): string {
    return 'SockchanError';
  }

  /** Brand check so that `instanceof` works across several copies of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}
Object.defineProperty(SockchanError.prototype, BRAND, { value: true });

/** True when `value` is a {@link SockchanError} (from any copy of this package). */
export function isSockchanError(value: unknown): value is SockchanError {
  return value instanceof SockchanError;
}
