import { Buffer } from 'node:buffer';
import process from 'node:process';
import { SockchanError } from './errors.js';
import { errnoText } from './errno.js';
import { valueText } from './values.js';

/**
 * Unix-domain socket addresses: a file system path, or (Linux) an abstract name written with a
 * leading `@`. `sun_path` holds 108 bytes on Linux (104 on macOS and the BSDs) including the
 * terminating NUL; an abstract name has a NUL in place of the `@` and no terminator. Node
 * truncates a longer path silently in some versions, so the length is checked first.
 */

/** The longest socket path, in bytes of UTF-8, on `platform` (107 on Linux, 103 elsewhere). */
function pathMax(platform: string): number {
  return platform === 'linux' ? 107 : 103;
}

/** The longest socket path, in bytes of UTF-8, on this platform (107 on Linux, 103 elsewhere). */
export const UNIX_PATH_MAX: number = pathMax(process.platform);

/** A checked Unix-domain socket address. */
export interface UnixSocketAddress {
  /** The address as the caller wrote it (`/run/app.sock`, `@app`): what `sockname`/`peername` show. */
  readonly path: string;
  /** The address as Node takes it (`\0app` for the abstract name `@app`). */
  readonly nodePath: string;
  /** True for a Linux abstract name (no file in the file system). */
  readonly abstract: boolean;
}

function badPath(message: string): SockchanError {
  return new SockchanError(message, { code: 'ERR_SOCKCHAN_BAD_VALUE', errorCode: ['NONE'] });
}

/**
 * Checks a Unix-domain socket path and gives the form Node takes. Throws a `SockchanError`:
 * `bad value for path: ...` (code `ERR_SOCKCHAN_BAD_VALUE`) for a value that is not a non-empty
 * string or holds a NUL, and `couldn't open socket: file name too long (socket path "..." is 120
 * bytes; the limit is 107)` (code `ENAMETOOLONG`) for a path too long for the platform: never a
 * silent truncation. An abstract name (`@name`) is Linux only.
 */
export function checkUnixPath(path: unknown, platform: string = process.platform): UnixSocketAddress {
  if (typeof path !== 'string') throw badPath(`bad value for path: expected a socket path but got ${valueText(path)}`);
  if (path === '') throw badPath('bad value for path: expected a socket path but got ""');
  if (path.includes('\0')) throw badPath(`bad value for path: a socket path cannot hold a NUL character: ${JSON.stringify(path)}`);
  const abstract = path.startsWith('@');
  if (abstract && platform !== 'linux') {
    throw badPath(`bad value for path: abstract socket names ("${path}") exist on Linux only`);
  }
  if (abstract && path.length === 1) throw badPath('bad value for path: an abstract socket name needs a name after "@"');
  const limit = pathMax(platform);
  const bytes = Buffer.byteLength(abstract ? path.slice(1) : path, 'utf8');
  if (bytes > limit) {
    const text = errnoText('ENAMETOOLONG');
    const what = abstract ? 'abstract socket name' : 'socket path';
    throw new SockchanError(`couldn't open socket: ${text} (${what} "${path}" is ${bytes} bytes; the limit is ${limit})`, {
      code: 'ENAMETOOLONG',
      errorCode: ['POSIX', 'ENAMETOOLONG', text],
    });
  }
  return { path, nodePath: abstract ? `\0${path.slice(1)}` : path, abstract };
}
