/**
 * @sockchan/test-support: what real-socket tests share.
 *
 * - Free ports and ephemeral listeners, with bounded cleanup ({@link freePort},
 *   {@link listenEphemeral}, {@link closeAll}, {@link CleanupList}).
 * - Bounded child processes with line-buffered output ({@link runCommand}, {@link startProcess}).
 * - `tclsh` 8.6 as a real peer ({@link startTclServer}, {@link runTclClient}, ready-made echo,
 *   sink and source servers).
 * - Network namespaces with nftables SYN-drop rules ({@link createNetns}, {@link Netns}).
 * - Kernel TCP state, waited for through `ss` ({@link waitForTcpState}).
 * - Name isolation checks ({@link assertTestNames}, {@link withTestNamesPath}).
 * - Test certificates made with `openssl` at test time ({@link makeTestCertificates}).
 *
 * @packageDocumentation
 */
export { TestSupportError, type TestSupportErrorCode } from './errors.js';
export {
  DEFAULT_CLOSE_TIMEOUT_MS,
  CleanupList,
  closeAll,
  closeServer,
  destroySocket,
  freePort,
  listenEphemeral,
  trackConnections,
  type Closable,
  type ClosableObject,
  type Disposable,
  type Stoppable,
  type EphemeralServer,
  type ListenEphemeralOptions,
} from './ports.js';
export {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_PEER_LIFETIME_MS,
  DEFAULT_STOP_GRACE_MS,
  DEFAULT_WAIT_MS,
  ManagedProcess,
  runCommand,
  startProcess,
  type CommandResult,
  type CommandWrapper,
  type ExitInfo,
  type RunCommandOptions,
  type StartProcessOptions,
  type WaitOptions,
} from './process.js';
export {
  TCL_CLIENT_PRELUDE,
  TCL_SERVER_EPILOGUE,
  TCL_SERVER_PRELUDE,
  TclPeer,
  assertTclsh,
  runTclClient,
  sourcePattern,
  startTclEchoServer,
  startTclScript,
  startTclServer,
  startTclSinkServer,
  startTclSourceServer,
  tclServerScripts,
  tclshCommand,
  type RunTclClientOptions,
  type StartTclScriptOptions,
  type StartTclServerOptions,
  type TclReadyServerOptions,
  type TclRunOptions,
} from './tcl.js';
export { tcpSocketsOf, waitForTcpState } from './ss.js';
export {
  NETNS_PREFIX,
  NFT_TABLE,
  Netns,
  cleanupStaleNetns,
  createNetns,
  listNetns,
  type CleanupStaleNetnsOptions,
  type CreateNetnsOptions,
  type DropFirstSynOptions,
  type NetnsRunOptions,
  type NetnsSpawnOptions,
  type NftRule,
  type SynTarget,
} from './netns.js';
export { TEST_NAMES, assertTestNames, underTestNames, withTestNamesPath } from './names.js';
export { activationCommand, passableListener, type PassableListener } from './activation.js';
export { makeTestCertificates, type CertificatePair, type TestCertificates } from './certs.js';
