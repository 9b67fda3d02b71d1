/**
 * `@sockchan/async-connect`: multi-address connect the happy-eyeballs way (RFC 8305). A sans-IO
 * state machine ({@link HappyEyeballs}) and its Node driver ({@link connect}), with per-host
 * history, `myaddr`/`myport`, an AbortSignal, and errors that list every attempt.
 * @packageDocumentation
 */
export { HappyEyeballs, DEFAULT_TUNING, resolveTuning } from './machine.js';
export type { HappyEyeballsOptions, HappyEyeballsTuning, ResolvedTuning } from './machine.js';
export type {
  Action,
  Attempt,
  AttemptOutcome,
  CancelAction,
  ConnectedAction,
  FailedAction,
  Failure,
  Family,
  HistoryEntry,
  ResolveAction,
  StartAction,
  TimerAction,
} from './types.js';
export { ConnectHistory } from './history.js';
export type { ConnectHistoryOptions } from './history.js';
export { connect, checkConnectArguments, clearHistory, defaultHistory } from './connect.js';
export type { CheckedConnectArguments, ConnectOptions, ConnectResult } from './connect.js';
export { systemResolver } from './resolver.js';
export type { Resolver } from './resolver.js';
export { connectError, describeAttempt, isConnectError } from './errors.js';
export type { ConnectError } from './errors.js';
