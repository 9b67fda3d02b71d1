import { X509Certificate } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';

/**
 * `tls.status`: TclTLS 2.0's keys, and 1.7's `serial` and `version`, from Node's view of the
 * connection. Texts are TclTLS's: `subject` `CN=localhost,O=Example` (its order), dates
 * `Dec  5 08:36:56 2026 GMT`, serial and hashes in upper-case hex without colons.
 */

/** The certificate keys of `tls.status` (and of a {@link VerifyInfo}'s certificate). */
export interface CertificateStatus {
  /** The subject's distinguished name, `CN=localhost,O=Example` (TclTLS's form). */
  readonly subject: string;
  /** The issuer's distinguished name. */
  readonly issuer: string;
  /** Start of validity, `Dec  5 08:36:56 2026 GMT`. */
  readonly notBefore: string;
  /** End of validity. */
  readonly notAfter: string;
  /** Serial number, upper-case hex (TclTLS 2.0's name). */
  readonly serialNumber: string;
  /** The same (TclTLS 1.7's name). */
  readonly serial: string;
  /** SHA-1 fingerprint of the DER certificate, upper-case hex. */
  readonly sha1_hash: string;
  /** SHA-256 fingerprint, upper-case hex. */
  readonly sha256_hash: string;
  /** The certificate in PEM. */
  readonly certificate: string;
}

/** `tls.status(ch)`: the certificate keys (absent when that end has no certificate) and the connection's. */
export interface TlsStatus extends Partial<CertificateStatus> {
  /** OpenSSL's name of the cipher (`TLS_AES_256_GCM_SHA384`). */
  readonly cipher: string;
  /** Secret bits of the cipher (`256`). */
  readonly sbits: number;
  /** The protocol (`TLSv1.3`), TclTLS 2.0's name. */
  readonly protocol: string;
  /** The same (TclTLS 1.7's name). */
  readonly version: string;
  /** The ALPN protocol chosen, `''` when none. */
  readonly alpn: string;
}

function hex(fingerprint: string): string {
  return fingerprint.replace(/:/g, '').toUpperCase();
}

function dn(text: string): string {
  return text.split('\n').filter((p) => p !== '').join(',');
}

/** The certificate keys of `cert` (a peer certificate object or an `X509Certificate`). */
export function certificateStatus(cert: PeerCertificate | X509Certificate): CertificateStatus {
  const x = cert instanceof X509Certificate ? cert : new X509Certificate(cert.raw);
  const serial = x.serialNumber.toUpperCase();
  return {
    subject: dn(x.subject),
    issuer: dn(x.issuer),
    notBefore: x.validFrom,
    notAfter: x.validTo,
    serialNumber: serial,
    serial,
    sha1_hash: hex(x.fingerprint),
    sha256_hash: hex(x.fingerprint256),
    certificate: x.toString(),
  };
}

/** Secret bits of an OpenSSL cipher name (what TclTLS's `sbits` gives). */
export function cipherBits(name: string): number {
  if (/CHACHA20|AES_?256|AES256|CAMELLIA256|ARIA256/i.test(name)) return 256;
  if (/AES_?128|AES128|CAMELLIA128|ARIA128/i.test(name)) return 128;
  if (/3DES|DES-CBC3/i.test(name)) return 112;
  return 0;
}

/** The status of a TLS socket whose handshake is done; `local` describes our own certificate. */
export function socketStatus(socket: TLSSocket, local: boolean): TlsStatus {
  const cert = local ? socket.getX509Certificate() : socket.getPeerX509Certificate();
  const cipher = socket.getCipher();
  const protocol = socket.getProtocol() ?? '';
  const alpn = socket.alpnProtocol;
  return {
    ...(cert === undefined ? {} : certificateStatus(cert)),
    cipher: cipher.name,
    sbits: cipherBits(cipher.name),
    protocol,
    version: protocol,
    alpn: typeof alpn === 'string' ? alpn : '',
  };
}
