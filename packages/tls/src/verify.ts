import { isIP } from 'node:net';
import { checkServerIdentity } from 'node:tls';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { SockchanError } from '@sockchan/base';
import { certificateStatus } from './status.js';
import type { CertificateStatus } from './status.js';

/**
 * Verification of the peer after the handshake: OpenSSL's chain result, the host name, and the
 * user's {@link VerifyCallback}; a failure is a `SockchanError` that says why and for which host.
 */

/** What a {@link VerifyCallback} sees for one certificate of the peer's chain. */
export interface VerifyInfo {
  /** 0 for the peer's own certificate, 1 for its issuer, and so on. */
  readonly depth: number;
  /** The certificate, with `tls.status`'s certificate keys. */
  readonly certificate: CertificateStatus;
  /** True when the built-in checks (chain and, on a client, host name) passed. */
  readonly ok: boolean;
  /** Why they failed (`self-signed certificate`), `''` when they passed. */
  readonly error: string;
  /** The name the peer was checked against (client), or `undefined` (server). */
  readonly host: string | undefined;
}

/**
 * TclTLS's `-validatecommand`: called for each certificate of the peer's chain, root first.
 * `true` accepts whatever the built-in checks said, `false` rejects, anything else keeps their outcome.
 */
export type VerifyCallback = (info: VerifyInfo) => unknown;

/** OpenSSL 3's texts for the verify results Node reports by name (`X509_verify_cert_error_string`). */
const VERIFY_TEXTS: Readonly<Record<string, string>> = {
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  UNABLE_TO_GET_CRL: 'unable to get certificate CRL',
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: "unable to decrypt certificate's signature",
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 'unable to decode issuer public key',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_HAS_EXPIRED: 'certificate has expired',
  ERROR_IN_CERT_NOT_BEFORE_FIELD: "format error in certificate's notBefore field",
  ERROR_IN_CERT_NOT_AFTER_FIELD: "format error in certificate's notAfter field",
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  CERT_CHAIN_TOO_LONG: 'certificate chain too long',
  CERT_REVOKED: 'certificate revoked',
  INVALID_CA: 'invalid CA certificate',
  PATH_LENGTH_EXCEEDED: 'path length constraint exceeded',
  INVALID_PURPOSE: 'unsupported certificate purpose',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_REJECTED: 'certificate rejected',
  HOSTNAME_MISMATCH: 'hostname mismatch',
  IP_ADDRESS_MISMATCH: 'IP address mismatch',
  EE_KEY_TOO_SMALL: 'EE certificate key too weak',
  CA_KEY_TOO_SMALL: 'CA certificate key too weak',
  CA_MD_TOO_WEAK: 'CA signature digest algorithm too weak',
};

/** OpenSSL's text for a verify result name (`CERT_HAS_EXPIRED` gives `certificate has expired`). */
export function verifyErrorText(code: string): string {
  return VERIFY_TEXTS[code] ?? code.toLowerCase().replace(/_/g, ' ');
}

/** A verification failure: `certificate verify failed: <why> (host "<name>")`. */
export function verifyFailure(prefix: string, reason: string, code: string, host: string | undefined): SockchanError {
  const text = `certificate verify failed: ${reason}${host === undefined ? '' : ` (host "${host}")`}`;
  return new SockchanError(prefix + text, { code: 'ERR_SOCKCHAN_TLS_VERIFY', errorCode: ['TLS', 'VERIFY', code, text] });
}

/** The result of OpenSSL's chain verification on `socket` (server side: Node keeps it on the handle). */
function chainResult(socket: TLSSocket, role: 'client' | 'server'): { code: string; text: string } | undefined {
  if (role === 'client') {
    if (socket.authorized) return undefined;
    const code = String(socket.authorizationError ?? 'CERT_UNTRUSTED');
    return { code, text: verifyErrorText(code) };
  }
  // Node keeps a server socket's result on its handle (`tls.Server` reads it the same way).
  const handle = (socket as unknown as { ssl?: { verifyError?: () => (Error & { code?: string }) | null } }).ssl;
  const err = handle?.verifyError?.();
  if (err === null || err === undefined) return undefined;
  const code = err.code ?? 'CERT_UNTRUSTED';
  return { code, text: err.message !== '' ? err.message : verifyErrorText(code) };
}

/** The peer's chain, leaf first, as Node gives it (stopping at a self-issued certificate). */
function peerChain(socket: TLSSocket, given: PeerCertificate | undefined): PeerCertificate[] {
  const chain: PeerCertificate[] = [];
  let cert = (given ?? socket.getPeerCertificate(true)) as PeerCertificate & { issuerCertificate?: PeerCertificate };
  const seen = new Set<string>();
  while (cert !== undefined && cert !== null && Object.keys(cert).length > 0 && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(cert);
    cert = cert.issuerCertificate as PeerCertificate & { issuerCertificate?: PeerCertificate };
  }
  return chain;
}

/** What {@link checkPeer} needs. */
export interface PeerCheck {
  /** Client or server side. */
  readonly role: 'client' | 'server';
  /** Failing verification fails the connection. */
  readonly require: boolean;
  /** Client: the name to check the certificate against. */
  readonly host: string | undefined;
  /** The user's callback. */
  readonly verify: ((info: VerifyInfo) => unknown) | undefined;
  /**
   * The peer's certificate with its chain (`getPeerCertificate(true)`), when the caller has it
   * already: building it again costs as much as a third of a client's handshake CPU.
   */
  readonly peerCertificate?: PeerCertificate | undefined;
}

/**
 * Verifies the peer of a finished handshake; returns the failure to report, or `undefined` when
 * the connection may go on. A server that does not require a certificate accepts a client
 * without one; a client always needs the server's.
 */
export function checkPeer(socket: TLSSocket, check: PeerCheck, prefix: string): SockchanError | undefined {
  const chain = check.require || check.verify !== undefined ? peerChain(socket, check.peerCertificate) : [];
  if (!check.require && check.verify === undefined) return undefined;
  let failure: { code: string; text: string } | undefined;
  if (chain.length === 0) {
    failure = check.role === 'server' ? { code: 'NO_PEER_CERTIFICATE', text: 'peer did not return a certificate' } : { code: 'NO_PEER_CERTIFICATE', text: 'no certificate from the server' };
  } else {
    failure = chainResult(socket, check.role);
    if (failure === undefined && check.role === 'client' && check.host !== undefined) {
      const err = checkServerIdentity(check.host, chain[0] as PeerCertificate);
      if (err !== undefined) failure = isIP(check.host) !== 0 ? { code: 'IP_ADDRESS_MISMATCH', text: 'IP address mismatch' } : { code: 'HOSTNAME_MISMATCH', text: 'hostname mismatch' };
    }
  }
  let accepted = failure === undefined;
  if (check.verify !== undefined) {
    for (let depth = chain.length - 1; depth >= 0; depth--) {
      const cert = chain[depth] as PeerCertificate;
      let answer: unknown;
      try {
        answer = check.verify({ depth, certificate: certificateStatus(cert), ok: failure === undefined, error: failure?.text ?? '', host: check.host });
      } catch (err) {
        return verifyFailure(prefix, `verify callback failed: ${err instanceof Error ? err.message : String(err)}`, 'CALLBACK_FAILED', check.host);
      }
      if (answer === false) return verifyFailure(prefix, 'rejected by the verify callback', 'CERT_REJECTED', check.host);
      if (answer === true && depth === 0) accepted = true;
    }
  }
  if (accepted || !check.require) return undefined;
  return verifyFailure(prefix, (failure as { text: string }).text, (failure as { code: string }).code, check.host);
}
