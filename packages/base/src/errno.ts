import { SockchanError } from './errors.js';

/**
 * Tcl's lower-case errno texts (`Tcl_ErrnoMsg` in Tcl 8.6.13 on Linux), keyed by errno name.
 * These are what follow `couldn't open socket: ` and `error reading "sockN": `.
 */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  E2BIG: 'argument list too long',
  EACCES: 'permission denied',
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EAFNOSUPPORT: 'address family not supported by protocol family',
  EAGAIN: 'resource temporarily unavailable',
  EALREADY: 'operation already in progress',
  EBADF: 'bad file number',
  EBUSY: 'file busy',
  ECONNABORTED: 'software caused connection abort',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EEXIST: 'file already exists',
  EHOSTDOWN: 'host is down',
  EHOSTUNREACH: 'host is unreachable',
  EILSEQ: 'invalid or incomplete multibyte or wide character',
  EINPROGRESS: 'operation now in progress',
  EINTR: 'interrupted system call',
  EINVAL: 'invalid argument',
  EIO: 'I/O error',
  EISCONN: 'socket is already connected',
  ELOOP: 'too many levels of symbolic links',
  EISDIR: 'illegal operation on a directory',
  EMFILE: 'too many open files',
  EMSGSIZE: 'message too long',
  ENAMETOOLONG: 'file name too long',
  ENETDOWN: 'network is down',
  ENETRESET: 'network dropped connection on reset',
  ENETUNREACH: 'network is unreachable',
  ENFILE: 'file table overflow',
  ENOBUFS: 'no buffer space available',
  ENOENT: 'no such file or directory',
  ENOMEM: 'not enough memory',
  ENOPROTOOPT: 'bad protocol option',
  ENOTCONN: 'socket is not connected',
  ENOTDIR: 'not a directory',
  ENOTSOCK: 'socket operation on non-socket',
  ENOTSUP: 'operation not supported',
  EOPNOTSUPP: 'operation not supported on socket',
  EPERM: 'not owner',
  EPIPE: 'broken pipe',
  EPROTO: 'protocol error',
  EROFS: 'read-only file system',
  ESHUTDOWN: "can't send afer socket shutdown",
  ETIMEDOUT: 'connection timed out',
  EWOULDBLOCK: 'resource temporarily unavailable',
};

/**
 * Tcl's text for an errno name (`'ECONNREFUSED'` gives `'connection refused'`).
 * Unknown names give the name itself, lower-cased, so a message is never empty.
 */
export function errnoText(code: string): string {
  return ERRNO_TEXT[code] ?? code.toLowerCase();
}

/** The errno name of a Node system error (`err.code`), or `undefined` when it has none. */
export function errnoCodeOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
  }
  return undefined;
}

/**
 * Builds a `SockchanError` for an errno failure, as Tcl reports it:
 * message `prefix + text` (e.g. `couldn't open socket: connection refused`),
 * errorCode `['POSIX', code, text]`.
 */
export function posixError(prefix: string, code: string, cause?: unknown): SockchanError {
  const text = errnoText(code);
  return new SockchanError(prefix + text, {
    code,
    errorCode: ['POSIX', code, text],
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * Converts any error from Node's socket layer into a `SockchanError` with Tcl's text.
 * Resolver failures (`ENOTFOUND`, `EAI_*`) get the `gai_strerror` texts Tcl shows.
 * A `SockchanError` is returned unchanged.
 */
export function toSockchanError(prefix: string, err: unknown): SockchanError {
  if (err instanceof SockchanError) return err;
  const code = errnoCodeOf(err) ?? (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? String((err as { code: string }).code) : undefined);
  if (code !== undefined) {
    const gai = GAI_TEXT[code];
    if (gai !== undefined) {
      return new SockchanError(prefix + gai, { code, errorCode: ['NONE'], cause: err });
    }
    return posixError(prefix, code, err);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new SockchanError(prefix + message, { code: 'EIO', errorCode: ['NONE'], cause: err });
}

/** glibc's `gai_strerror` texts, keyed by the code Node's resolver reports. */
const GAI_TEXT: Readonly<Record<string, string>> = {
  ENOTFOUND: 'Name or service not known',
  EAI_NONAME: 'Name or service not known',
  EAI_AGAIN: 'Temporary failure in name resolution',
  EAI_FAIL: 'Non-recoverable failure in name resolution',
  EAI_FAMILY: 'ai_family not supported',
  EAI_SERVICE: 'Servname not supported for ai_socktype',
  EAI_NODATA: 'No address associated with hostname',
  ENODATA: 'No address associated with hostname',
  EAI_ADDRFAMILY: 'Address family for hostname not supported',
  ESERVFAIL: 'Temporary failure in name resolution',
  ETIMEOUT: 'Temporary failure in name resolution',
};

/** The `gai_strerror` text for a resolver code, or `undefined` when it is not a resolver code. */
export function resolverText(code: string): string | undefined {
  return GAI_TEXT[code];
}
