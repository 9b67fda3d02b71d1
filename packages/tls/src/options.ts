import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { DEFAULT_CIPHERS, createSecureContext } from 'node:tls';
import type { SecureContext, SecureContextOptions, SecureVersion } from 'node:tls';
import { SockchanError, errnoCodeOf, formatChoices, posixError, valueText } from '@sockchan/base';
import type { VerifyCallback } from './verify.js';

/**
 * TclTLS's options in JS form (`-cafile` is `cafile`, `-tls1.2` is `tls1_2`), checked once with
 * Tcl-worded errors; files are read at once (`couldn't open "x.pem": no such file or directory`).
 */

/** PEM text or bytes. */
export type Pem = string | Uint8Array;

/** A certificate and its key, for a server's SNI names (see {@link TlsOptions.sni}). */
export interface TlsCertificateOptions {
  /** File of the certificate (PEM, the chain after it). */
  certfile?: string;
  /** File of the private key (PEM); default: the certificate file. */
  keyfile?: string;
  /** The certificate itself (PEM). */
  cert?: Pem;
  /** The private key itself (PEM). */
  key?: Pem;
  /** Password of an encrypted private key. */
  password?: string;
}

/**
 * TclTLS's options (`tls::socket`, `tls::import`), in JS form. Every one is optional; the
 * defaults are secure (TclTLS 2.0's, not 1.7's).
 */
export interface TlsOptions extends TlsCertificateOptions {
  /** File of trusted CA certificates (PEM). Default: Node's CA store. */
  cafile?: string;
  /** Trusted CA certificates themselves (PEM); with `cafile`, both count. */
  ca?: Pem | readonly Pem[];
  /**
   * The host name sent as SNI and checked against the server's certificate (a client). Default:
   * the host name the connection was made to (`tls.socket`); `tls.import` needs it unless
   * `require` is false (a numeric address is checked as an IP address, and sent as no SNI).
   */
  servername?: string;
  /** ALPN protocols, most preferred first (`['h2', 'http/1.1']`). A server picks the client's first one it has. */
  alpn?: readonly string[];
  /**
   * Verify the peer, failing the handshake otherwise. Client: the chain against the trusted CAs
   * and the host name against `servername` (default true). Server: a valid client certificate is
   * required (default false). `require: false` on a client is TclTLS 1.7's default and is
   * UNSAFE: any certificate, from anyone, is accepted.
   */
  require?: boolean;
  /** Server: ask the client for a certificate (default false; true when `require` is). */
  request?: boolean;
  /**
   * Called for each certificate of the peer's chain, root first, after the handshake (TclTLS's
   * `-validatecommand`): `true` accepts it whatever the built-in checks said, `false` rejects the
   * connection, anything else keeps the built-in outcome.
   */
  verify?: VerifyCallback;
  /** Allow TLS 1.0 (default false). */
  tls1?: boolean;
  /** Allow TLS 1.1 (default false). */
  tls1_1?: boolean;
  /** Allow TLS 1.2 (default true). */
  tls1_2?: boolean;
  /** Allow TLS 1.3 (default true). */
  tls1_3?: boolean;
  /** OpenSSL cipher list for TLS 1.2 and below (TclTLS's `-cipher`). */
  cipher?: string;
  /** OpenSSL cipher suites for TLS 1.3 (TclTLS's `-ciphersuites`). */
  ciphersuites?: string;
  /** Milliseconds the handshake may take (default 10 000; 0: no limit). */
  handshakeTimeout?: number;
  /** Server: certificates by SNI name (`{ 'a.test': { certfile, keyfile } }`); others get the main one. */
  sni?: Readonly<Record<string, TlsCertificateOptions>>;
  /** `tls.import` only: take the server's role (default false: the client's). */
  server?: boolean;
}

/** Every name of {@link TlsOptions}, sorted (for `bad option` messages and option splitting). */
export const TLS_OPTION_NAMES: readonly string[] = [
  'alpn',
  'ca',
  'cafile',
  'cert',
  'certfile',
  'cipher',
  'ciphersuites',
  'handshakeTimeout',
  'key',
  'keyfile',
  'password',
  'request',
  'require',
  'server',
  'servername',
  'sni',
  'tls1',
  'tls1_1',
  'tls1_2',
  'tls1_3',
  'verify',
];

/** Default of {@link TlsOptions.handshakeTimeout}: 10 s. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/** Which side a set of options is for. */
export type TlsRole = 'client' | 'server';

/** Options after checking: the secure context made, the rest resolved. */
export interface CheckedTlsOptions {
  /** Client or server. */
  readonly role: TlsRole;
  /** The main secure context. */
  readonly context: SecureContext;
  /** Server: contexts by SNI name (lower case). */
  readonly sni: ReadonlyMap<string, SecureContext> | undefined;
  /** Explicit `servername`, if any. */
  readonly servername: string | undefined;
  /** ALPN protocols, if any. */
  readonly alpn: readonly string[] | undefined;
  /** Verification required. */
  readonly require: boolean;
  /** Server: ask for a client certificate. */
  readonly request: boolean;
  /** The verify callback, if any. */
  readonly verify: VerifyCallback | undefined;
  /** Handshake time limit in ms, 0 for none. */
  readonly handshakeTimeout: number;
}

function badValue(name: string, expected: string, value: unknown): SockchanError {
  const shown = typeof value === 'string' ? `"${value}"` : typeof value === 'function' ? 'a function' : valueText(value);
  return new SockchanError(`bad value for ${name}: expected ${expected} but got ${shown}`, { code: 'ERR_SOCKCHAN_BAD_VALUE', errorCode: ['NONE'] });
}

function tlsError(message: string, cause?: unknown): SockchanError {
  return new SockchanError(message, { code: 'ERR_SOCKCHAN_TLS', errorCode: ['TLS', 'CONTEXT', message], cause });
}

/** Throws Tcl's `bad option` for a name that is neither a TLS option nor one of `also`. */
export function checkTlsOptionNames(options: Record<string, unknown>, also: readonly string[] = []): void {
  for (const key of Object.keys(options)) {
    if (options[key] === undefined || TLS_OPTION_NAMES.includes(key) || also.includes(key)) continue;
    const all = [...TLS_OPTION_NAMES, ...also].sort();
    throw new SockchanError(`bad option "${key}": must be ${formatChoices(all)}`, {
      code: 'ERR_SOCKCHAN_ARGS',
      errorCode: ['TCL', 'LOOKUP', 'INDEX', 'option', key],
    });
  }
}

/** The TLS options among `options` (what {@link TLS_OPTION_NAMES} names), and the rest. */
export function splitTlsOptions<T extends object>(options: T): [Partial<TlsOptions>, Record<string, unknown>] {
  const tls: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) (TLS_OPTION_NAMES.includes(k) ? tls : rest)[k] = v;
  return [tls, rest];
}

// The checks take the value, read by name where they are called (`o['cafile']`): a load of
// `o[name]` inside a shared helper goes megamorphic, a runtime lookup for each absent option.
function optionalBoolean(v: unknown, name: string): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  throw badValue(name, 'true or false', v);
}

function optionalString(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || (v === '' && name !== 'password')) throw badValue(name, 'a non-empty string', v);
  return v;
}

function isPem(v: unknown): v is Pem {
  return typeof v === 'string' || v instanceof Uint8Array;
}

function optionalPem(v: unknown, name: string): Pem | undefined {
  if (v === undefined || isPem(v)) return v;
  throw badValue(name, 'PEM text or bytes', v);
}

/** Reads a file the way Tcl's `open` reports failures: `couldn't open "x.pem": no such file or directory`. */
export function readTlsFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw posixError(`couldn't open "${path}": `, errnoCodeOf(err) ?? 'EIO', err);
  }
}

/** The reason of an OpenSSL error (`bad decrypt`), else its message. */
export function opensslReason(err: unknown): string {
  const reason = (err as { reason?: unknown } | null)?.reason;
  if (typeof reason === 'string' && reason !== '') return reason;
  return err instanceof Error ? err.message : String(err);
}

const VERSIONS: readonly [string, SecureVersion][] = [
  ['tls1', 'TLSv1'],
  ['tls1_1', 'TLSv1.1'],
  ['tls1_2', 'TLSv1.2'],
  ['tls1_3', 'TLSv1.3'],
];
const VERSION_DEFAULTS: Readonly<Record<string, boolean>> = { tls1: false, tls1_1: false, tls1_2: true, tls1_3: true };

/** `minVersion`/`maxVersion` from the four booleans: the allowed versions must be contiguous. */
function versionRange(o: Record<string, unknown>): [SecureVersion, SecureVersion] {
  const given = [optionalBoolean(o['tls1'], 'tls1'), optionalBoolean(o['tls1_1'], 'tls1_1'), optionalBoolean(o['tls1_2'], 'tls1_2'), optionalBoolean(o['tls1_3'], 'tls1_3')];
  // One pass, no callbacks: this runs for every tls.socket.
  let from = -1;
  let to = -1;
  let allowed = 0;
  for (let i = 0; i < VERSIONS.length; i++) {
    const [name] = VERSIONS[i]!;
    if (!(given[i] ?? VERSION_DEFAULTS[name] ?? false)) continue;
    if (from < 0) from = i;
    to = i;
    allowed += 1;
  }
  if (allowed === 0) throw tlsError('no protocol allowed: set one of tls1, tls1_1, tls1_2, tls1_3');
  if (to - from + 1 !== allowed) throw tlsError('the allowed protocols must be contiguous (OpenSSL has a minimum and a maximum version)');
  return [VERSIONS[from]![1], VERSIONS[to]![1]];
}

/** The files a certificate and its key came from, for makeContext's error texts (the key may be in the certificate's file). */
function certificateFiles(o: Record<string, unknown>): { cert: string | undefined; key: string | undefined } {
  const cert = optionalString(o['certfile'], 'certfile');
  return { cert, key: optionalString(o['keyfile'], 'keyfile') ?? cert };
}

/** The certificate and key of `o` (files read), or undefined when it has none. */
function certificateOf(o: Record<string, unknown>, where: string): { cert: Buffer | string; key: Buffer | string; passphrase?: string } | undefined {
  const certfile = optionalString(o['certfile'], 'certfile');
  const keyfile = optionalString(o['keyfile'], 'keyfile');
  const cert = optionalPem(o['cert'], 'cert');
  const key = optionalPem(o['key'], 'key');
  const password = optionalString(o['password'], 'password');
  const certText = cert !== undefined ? toPem(cert) : certfile !== undefined ? readTlsFile(certfile) : undefined;
  const keyText = key !== undefined ? toPem(key) : keyfile !== undefined ? readTlsFile(keyfile) : certfile !== undefined && certText !== undefined ? certText : undefined;
  if (certText === undefined) {
    if (keyText !== undefined) throw tlsError(`${where}a key needs its certificate: set certfile or cert`);
    return undefined;
  }
  if (keyText === undefined) throw tlsError(`${where}a certificate needs its key: set keyfile or key`);
  return { cert: certText, key: keyText, ...(password === undefined ? {} : { passphrase: password }) };
}

function toPem(p: Pem): Buffer | string {
  return typeof p === 'string' ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
}

/**
 * Node takes TLS 1.3 suites and older ciphers in one list (`ciphers`): TclTLS's two options are
 * joined, each part that is not given keeping Node's default (a TLS 1.2 list alone would turn
 * TLS 1.3 off).
 */
function cipherString(cipher: string | undefined, ciphersuites: string | undefined): string {
  const defaults = DEFAULT_CIPHERS.split(':');
  const suites = ciphersuites ?? defaults.filter((c) => c.startsWith('TLS_')).join(':');
  const list = cipher ?? defaults.filter((c) => !c.startsWith('TLS_')).join(':');
  return [suites, list].filter((p) => p !== '').join(':');
}

/** Makes a secure context, with the failures in TclTLS's words. */
function makeContext(options: SecureContextOptions, files: { cert?: string | undefined; key?: string | undefined }): SecureContext {
  try {
    return createSecureContext(options);
  } catch (err) {
    const reason = opensslReason(err);
    const code = (err as { code?: unknown }).code;
    const what = typeof code === 'string' && /KEY|DECRYPT|PASS/i.test(code + reason) ? 'private key' : 'certificate';
    const file = what === 'private key' ? (files.key ?? files.cert) : files.cert;
    throw tlsError(`unable to set ${what}${file === undefined ? '' : ` file "${file}"`}: ${reason}`, err);
  }
}

/** How many distinct trust-only contexts {@link trustContext} keeps (the oldest goes first). */
const TRUST_CONTEXTS_KEPT = 16;

/** One kept trust-only context: the settings and CA bytes it was made from (copies of our own). */
interface TrustEntry {
  readonly cas: readonly (Buffer | string)[];
  readonly context: SecureContext;
}

/** Kept contexts by their settings and the kinds and lengths of their CAs; the bytes are compared on a hit. */
const trustContexts = new Map<string, TrustEntry>();

function sameCas(a: readonly (Buffer | string)[], b: readonly (Buffer | string)[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (typeof x === 'string' ? x !== y : typeof y === 'string' || !x.equals(y)) return false;
  }
  return true;
}

/**
 * A secure context with no certificate of its own (a client's: trusted CAs, protocol bounds,
 * ciphers), shared by every check whose settings have the same content. Making one parses each
 * CA, which costs about as much CPU as a handshake, so a client that connects again and again
 * (`tls.socket` per connection) would otherwise pay it every time. Safe to share: a kept context
 * is found by its settings and then the CA bytes as read now are compared with a copy of those
 * it was made from (not the options object or the file name, so a changed options object or CA
 * file gets a new context; a byte compare costs far less than hashing the CAs on every check).
 * Node never changes a context once made, and a client resumes a session only when given one
 * explicitly, so sharing makes no handshake shorter. Contexts with a certificate and key are
 * never kept (no private key outlives its check).
 */
function trustContext(options: SecureContextOptions, cas: readonly (Buffer | string)[]): SecureContext {
  // The versions and each CA's kind and length, then the cipher list after the first `|` (none
  // before it: no two settings alike, whatever a cipher list holds).
  let key = `${options.minVersion ?? '-'} ${options.maxVersion ?? '-'}`;
  for (const ca of cas) key += ` ${typeof ca === 'string' ? 's' : 'b'}${ca.length}`;
  key += options.ciphers === undefined ? '|' : `|+${options.ciphers}`;
  const known = trustContexts.get(key);
  if (known !== undefined && sameCas(cas, known.cas)) return known.context;
  const made = makeContext(options, {});
  // The same settings with other CA bytes replace the entry (the newest is the likeliest to be asked again).
  trustContexts.delete(key);
  if (trustContexts.size >= TRUST_CONTEXTS_KEPT) trustContexts.delete(trustContexts.keys().next().value as string);
  trustContexts.set(key, { cas: cas.map((ca) => (typeof ca === 'string' ? ca : Buffer.from(ca))), context: made });
  return made;
}

/**
 * Checks TLS options for `role` and makes the secure contexts (files read now). Throws a
 * `SockchanError` with a clear text for a bad name, value, file, certificate or key.
 * `also` are further option names the caller accepts (for the `bad option` text).
 */
export function checkTlsOptions(options: unknown, role: TlsRole, also: readonly string[] = []): CheckedTlsOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new SockchanError('TLS options must be an object', { code: 'ERR_SOCKCHAN_ARGS', errorCode: ['NONE'] });
  const o = (options ?? {}) as Record<string, unknown>;
  checkTlsOptionNames(o, also);
  const servername = optionalString(o['servername'], 'servername');
  const alpnValue = o['alpn'];
  let alpn: readonly string[] | undefined;
  if (alpnValue !== undefined) {
    if (!Array.isArray(alpnValue) || alpnValue.length === 0 || !alpnValue.every((p) => typeof p === 'string' && p.length > 0 && Buffer.byteLength(p) < 256)) {
      throw badValue('alpn', 'a non-empty list of protocol names', alpnValue);
    }
    alpn = [...(alpnValue as string[])];
  }
  const requireOpt = optionalBoolean(o['require'], 'require');
  const requestOpt = optionalBoolean(o['request'], 'request');
  optionalBoolean(o['server'], 'server');
  const verify = o['verify'];
  if (verify !== undefined && typeof verify !== 'function') throw badValue('verify', 'a function (info)', verify);
  const timeout = o['handshakeTimeout'];
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isSafeInteger(timeout) || timeout < 0)) {
    throw badValue('handshakeTimeout', 'a non-negative integer (milliseconds)', timeout);
  }
  const cipher = optionalString(o['cipher'], 'cipher');
  const ciphersuites = optionalString(o['ciphersuites'], 'ciphersuites');
  const [minVersion, maxVersion] = versionRange(o);
  const cafile = optionalString(o['cafile'], 'cafile');
  const caValue = o['ca'];
  const cas: (Buffer | string)[] = [];
  if (caValue !== undefined) {
    const list = Array.isArray(caValue) ? (caValue as unknown[]) : [caValue];
    for (const c of list) {
      if (!isPem(c)) throw badValue('ca', 'PEM text or bytes, or a list of them', caValue);
      cas.push(toPem(c));
    }
  }
  if (cafile !== undefined) cas.push(readTlsFile(cafile));
  const own = certificateOf(o, '');
  const sniValue = o['sni'];
  if (sniValue !== undefined && (role !== 'server' || typeof sniValue !== 'object' || sniValue === null || Array.isArray(sniValue))) {
    throw badValue('sni', role === 'server' ? 'an object of names and certificates' : 'nothing on a client (a server option)', sniValue);
  }
  if (role === 'server' && own === undefined) throw tlsError('a server needs a certificate: set certfile and keyfile (or cert and key)');
  const base: SecureContextOptions = { minVersion, maxVersion };
  if (cas.length > 0) base.ca = cas;
  if (cipher !== undefined || ciphersuites !== undefined) base.ciphers = cipherString(cipher, ciphersuites);
  const context = own === undefined ? trustContext(base, cas) : makeContext({ ...base, ...own }, certificateFiles(o));
  let sni: Map<string, SecureContext> | undefined;
  if (sniValue !== undefined) {
    sni = new Map();
    for (const [name, entry] of Object.entries(sniValue as Record<string, unknown>)) {
      if (typeof entry !== 'object' || entry === null) throw badValue(`sni "${name}"`, 'an object with certfile and keyfile', entry);
      const e = entry as Record<string, unknown>;
      for (const k of Object.keys(e)) {
        if (!['cert', 'certfile', 'key', 'keyfile', 'password'].includes(k)) throw badValue(`sni "${name}"`, 'only cert, certfile, key, keyfile and password', k);
      }
      const pair = certificateOf(e, `sni "${name}": `);
      if (pair === undefined) throw tlsError(`sni "${name}": a certificate is needed: set certfile and keyfile (or cert and key)`);
      sni.set(name.toLowerCase(), makeContext({ ...base, ...pair }, certificateFiles(e)));
    }
  }
  const require = requireOpt ?? role === 'client';
  return {
    role,
    context,
    sni,
    servername,
    alpn,
    require,
    request: require || (requestOpt ?? false),
    verify: verify as VerifyCallback | undefined,
    handshakeTimeout: (timeout) ?? DEFAULT_HANDSHAKE_TIMEOUT,
  };
}
