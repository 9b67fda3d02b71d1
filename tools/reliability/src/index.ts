/**
 * @sockchan/reliability: soak, fault and fuzz harnesses for sockchan (private tool).
 *
 * - {@link runSoak}: a server process and a client process, many connections, every byte and
 *   line checked, the server's memory sampled.
 * - {@link runSession}: one side of a checked two-way transfer over any `Channel`.
 * - Deterministic payloads and verifiers ({@link TextStream}, {@link ByteStream},
 *   {@link TextVerifier}, {@link ByteVerifier}).
 * - Fuzz properties over the decoders, the translation layer and option and argument parsing
 *   ({@link fuzzProperties}, {@link runFuzz}).
 *
 * @packageDocumentation
 */
export { ByteStream, ByteVerifier, Prng, TextStream, TextVerifier, lineChecksum } from './payload.js';
export type { VerifyResult } from './payload.js';
export { configureForPlan, runSession } from './session.js';
export type { IoMode, ReadStyle, SessionPlan, SessionResult, StreamFormat } from './session.js';
export { connectionPlan, parsePlanHeader, planHeader } from './soak-plan.js';
export type { ConnectionPlan } from './soak-plan.js';
export { runSoak } from './soak-runner.js';
export type { MemorySample, SeriesStats, SoakOptions, SoakReport } from './soak-runner.js';
export { leakedHandles, networkResources } from './leaks.js';
export {
  channelLinesProperty,
  configureProperty,
  decoderSplitProperty,
  duplexPair,
  encoderSplitProperty,
  inputTranslationProperty,
  offlineProperties,
  outputTranslationProperty,
  proxyHeaderProperty,
  serverCallProperty,
  socketArgsProperty,
  socketCallProperty,
  unixCallProperty,
  valueParsersProperty,
} from './fuzz-properties.js';
export type { FuzzOutcome, FuzzProperty } from './fuzz-properties.js';
