import type { Channel } from '@sockchan/core';
import { SockchanError } from '@sockchan/base';
import { checkTlsOptions } from './options.js';
import type { TlsOptions } from './options.js';
import { startClient, startServer } from './session.js';
import type { TlsSession } from './session.js';
import { socketStatus } from './status.js';
import type { TlsStatus } from './status.js';

/**
 * TclTLS's channel commands: `tls::import` (STARTTLS on an open channel), `tls::handshake` and
 * `tls::status`. A channel is TLS once `importTls` switched it or the umbrella made it TLS
 * ({@link bindTls}).
 */

interface Entry {
  session: TlsSession | undefined;
  /** The session while the connection is still being made (undefined once given: no promise per channel). */
  readonly pending: Promise<TlsSession> | undefined;
  error: Error | undefined;
}

const channels = new WeakMap<Channel, Entry>();

/**
 * Marks `ch` as a TLS channel whose session `session` gives (a promise while the connection is
 * still being made): `handshake` and `status` then answer for it. For drivers such as the
 * umbrella's `tls.socket`.
 */
export function bindTls(ch: Channel, session: TlsSession | Promise<TlsSession>): void {
  if (!(session instanceof Promise)) {
    channels.set(ch, { session, pending: undefined, error: undefined });
    return;
  }
  const entry: Entry = { session: undefined, pending: session, error: undefined };
  session.then(
    (s) => {
      entry.session = s;
    },
    (err: unknown) => {
      entry.error = err instanceof Error ? err : new Error(String(err));
    },
  );
  channels.set(ch, entry);
}

function notTls(ch: Channel): SockchanError {
  return new SockchanError(`bad channel "${ch.name}": not a TLS channel`, { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['TLS', 'CHANNEL', ch.name] });
}

/** The channel's blocking mode (`configure` throws Tcl's text for a closed channel). */
function isBlocking(ch: Channel): boolean {
  return ch.configure('blocking') === true;
}

/** Options of {@link importTls}: the TLS options and `server` for the server's role. */
export type TlsImportOptions = TlsOptions;

/**
 * `tls::import`: STARTTLS. The channel goes on over TLS, the same object, with its options and
 * handlers; `server: true` takes the server's role. Output the channel buffered goes out in
 * plaintext first. Bytes received and not read before the switch go to the TLS engine, never to a
 * read: plaintext pipelined after the STARTTLS command (CVE-2011-0411) makes the handshake fail
 * instead of being read as protected data, and a ClientHello that arrived early is not lost.
 * Blocking mode resolves once the handshake is done and the peer verified; nonblocking mode
 * resolves at once (`handshake(ch)` tells when it is done). A client needs `servername` to
 * verify the server, unless `require: false`.
 */
export async function importTls(ch: Channel, options?: TlsImportOptions): Promise<void> {
  const server = (options as { server?: unknown } | undefined)?.server === true;
  const checked = checkTlsOptions(options, server ? 'server' : 'client');
  if (!server && checked.require && checked.servername === undefined && checked.verify === undefined) {
    throw new SockchanError('tls.import needs servername to check the server\'s certificate against (or require: false, which is unsafe)', {
      code: 'ERR_SOCKCHAN_ARGS',
      errorCode: ['NONE'],
    });
  }
  if (channels.has(ch)) throw new SockchanError(`bad channel "${ch.name}": already a TLS channel`, { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['TLS', 'CHANNEL', ch.name] });
  const blocking = isBlocking(ch);
  // Write errors of the plaintext part are this call's; a blocking flush waits for the kernel.
  await ch.flush();
  let session: TlsSession | undefined;
  ch.replaceStream((current, unread) => {
    session = server ? startServer(current, checked, 'handshake failed: ', unread) : startClient(current, checked, undefined, 'handshake failed: ', unread);
    return session.socket;
  });
  const s = session as unknown as TlsSession;
  bindTls(ch, s);
  if (blocking) await s.handshake;
}

/**
 * `tls::handshake`: `true` once the handshake is done and the peer verified. Blocking mode waits
 * for it; nonblocking mode gives `false` while it runs (Tcl's 0). A failed handshake rejects with
 * its `SockchanError` (`handshake failed: certificate verify failed: ... (host "x")`).
 */
export async function handshake(ch: Channel): Promise<boolean> {
  const entry = channels.get(ch);
  const blocking = isBlocking(ch);
  if (entry === undefined) throw notTls(ch);
  const s = entry.session;
  if (s !== undefined && s.done) return true;
  if (s?.error !== undefined) throw s.error;
  if (entry.error !== undefined) throw entry.error;
  if (!blocking) return false;
  // An entry has its session, or the promise of it (bindTls).
  const session = s ?? (await entry.pending);
  await session?.handshake;
  return true;
}

/** Options of {@link status}. */
export interface TlsStatusOptions {
  /** Describe our own certificate instead of the peer's (TclTLS's `-local`). */
  local?: boolean;
}

/**
 * `tls::status`: the peer's certificate (our own with `local: true`) and the connection's
 * cipher, protocol and ALPN choice; `null` before the handshake is done.
 */
export function status(ch: Channel, options?: TlsStatusOptions): TlsStatus | null {
  const entry = channels.get(ch);
  ch.configure('blocking');
  if (entry === undefined) throw notTls(ch);
  const s = entry.session;
  if (s === undefined || !s.done || s.socket.destroyed) return null;
  return socketStatus(s.socket, options?.local === true);
}

/** True when `ch` is a TLS channel (made by `tls.socket`/`tls.server` or switched by `import`). */
export function isTlsChannel(ch: Channel): boolean {
  return channels.has(ch);
}
