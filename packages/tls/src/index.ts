/**
 * `@sockchan/tls`: TLS channels as Tcl's `tls` package (TclTLS) has them, over `node:tls`.
 * TclTLS's options in JS form with Tcl-worded errors ({@link checkTlsOptions}); TLS over a
 * connected stream in either role ({@link startClient}, {@link startServer}), with a handshake
 * time limit and verification that is on by default and says why and for which host it failed;
 * `tls::import` (STARTTLS, {@link importTls}, also exported as `import`), `tls::handshake` and
 * `tls::status` for channels. The umbrella `sockchan` composes `tls.socket` and `tls.server`
 * from these and its connector and listener.
 *
 * @packageDocumentation
 */
export { importTls, importTls as import, handshake, status, bindTls, isTlsChannel } from './channel.js';
export type { TlsImportOptions, TlsStatusOptions } from './channel.js';
export {
  DEFAULT_HANDSHAKE_TIMEOUT,
  TLS_OPTION_NAMES,
  checkTlsOptions,
  checkTlsOptionNames,
  readTlsFile,
  splitTlsOptions,
} from './options.js';
export type { CheckedTlsOptions, Pem, TlsCertificateOptions, TlsOptions, TlsRole } from './options.js';
export { TlsSession, connectClient, handshakeError, startClient, startServer } from './session.js';
export { certificateStatus, cipherBits } from './status.js';
export type { CertificateStatus, TlsStatus } from './status.js';
export { verifyErrorText, verifyFailure } from './verify.js';
export type { VerifyCallback, VerifyInfo } from './verify.js';
