/**
 * The state every part of a `Channel` shares, in one object (the channel itself): connection and
 * side flags, options, the lazily made input/output buffers, waiters, error bookkeeping fields and
 * event flags, plus the checks and error texts all parts use. The parts are layers of one class
 * (`ChannelState` <- `ChannelOutput` <- `ChannelInput` <- `EventScheduler` <- `StreamAttachment`
 * <- `ChannelLifecycle` <- `ChannelConfig` <- `Channel`), each in its own file, so a channel stays
 * one object with one shape: no part objects, back-references or indirect calls on the hot paths.
 * The members the layers share are `protected` only so that they can share them: each carries the
 * internal tag, which keeps it out of the published types (`stripInternal`) and the API docs, as
 * `private` did when `Channel` was one class. Members subclasses use (`stream`, `attach`,
 * `failConnect`, the driver-option hooks) are untagged.
 */
import { Buffer } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { SockchanError, errnoText } from '@sockchan/base';
import { createEncoder } from '@sockchan/encodings';
import { InputBuffer } from './input.js';
import type { StreamDecoder } from './input.js';
import { OutputBuffer } from './output.js';
import { LazyDecoder } from './lazy-decoder.js';
import type { ReadWaiter } from './read-waiter.js';
import { currentSystemEncoding } from './system-encoding.js';
import type { ChannelProfile, InputTranslation, OutputTranslation } from './options.js';
import type { ChannelEventHandler } from './channel.js';

/** Resolved promise shared by the calls that complete at once. */
export const RESOLVED: Promise<void> = Promise.resolve();
export const EMPTY = Buffer.alloc(0);
/** Tcl's default `-buffersize`. */
export const DEFAULT_BUFFER_SIZE = 4096;

/**
 * Default of `Channel.maxLine`: 1 MiB (1,048,576 characters), the largest `buffersize`
 * Tcl allows. Tcl itself has no such limit; sockchan has one so that a peer that never sends a
 * line end cannot make a `gets` grow memory without bound.
 */
export const DEFAULT_MAX_LINE = 1024 * 1024;

/** Lifecycle of the connection under a channel. */
export const enum Conn {
  Connecting = 0,
  Open = 1,
  Failed = 2,
}

/** A waiter for output progress (drain, write completion, connect outcome). */
export type Waiter = { resolve: () => void; reject: (err: unknown) => void };

export function settleAll(waiters: Waiter[] | undefined): void {
  if (waiters === undefined) return;
  for (const w of waiters) w.resolve();
}

/** The shared fields and checks of a `Channel` (see the module comment). */
export abstract class ChannelState {
  /** The channel's Tcl name (`sock7`), quoted in error messages. */
  readonly name: string;
  /** The stream, once there is one (a subclass may create the channel before connecting). */
  protected stream: Duplex | undefined;

  /** @internal */
  protected conn: Conn = Conn.Connecting;
  /** @internal */
  protected connectError: SockchanError | undefined;
  /** @internal */
  protected closed = false;
  /** @internal */
  protected canRead = true;
  /** @internal */
  protected canWrite = true;
  /** @internal close('write') was done: a second one fails with Tcl's text. */
  protected writeHalfClosed = false;

  /** @internal */
  protected blockingMode = true;
  /**
   * The encoding; the system encoding is looked up when first needed (reading the locale
   * variables costs microseconds, and a connection closed unused never needs it).
   * @internal
   */
  protected encodingValue: string | undefined;
  /** @internal */
  protected profileName: ChannelProfile = 'tcl8';
  /** @internal */
  protected inTranslation: InputTranslation = 'auto';
  /** @internal */
  protected outTranslationDefault: OutputTranslation = 'crlf';
  /** @internal Created on first use (see `input`): a connection closed unread never allocates one. */
  protected inputBuffer: InputBuffer | undefined;
  /** @internal Created on first use (see `output`): a connection closed unwritten never allocates one. */
  protected outputBuffer: OutputBuffer | undefined;

  /** @internal */
  protected blockedFlag = false;
  /** @internal */
  protected maxLineChars = DEFAULT_MAX_LINE;
  /** @internal Tcl's need-more-data rule: after a blocked partial gets/read, readable waits for new bytes. */
  protected needMoreData = false;
  /** @internal */
  protected readWaiters: ReadWaiter[] | undefined;
  /** @internal */
  protected drainWaiters: Waiter[] | undefined;
  /** @internal */
  protected connectWaiters: Waiter[] | undefined;
  /** @internal Bytes produced while connecting, sent on attach. */
  protected preconnect: Buffer[] | undefined;
  /** @internal */
  protected preconnectBytes = 0;
  /** @internal */
  protected pausedByUs = false;
  /**
   * The stream is a `net.Socket`: text of a one-byte encoding is written as a `latin1` string,
   * which the socket copies into the kernel at once and frees (a Buffer per write would hold fresh
   * memory until the next garbage collection). Other streams get Buffers, as they may keep them.
   * @internal
   */
  protected stringWrites = false;
  /**
   * The stream is a plain `net.Socket` (not TLS): a write that goes through to the kernel at once
   * has left its queue when `write()` returns, so a blocking flush can tell without a callback.
   * A TLS socket calls every write back on a later turn (Node's TLS handle, from an immediate).
   * @internal
   */
  protected syncWriteDone = false;
  /** @internal */
  protected fullScheduled = false;
  /** @internal */
  protected streamEnded = false;
  /** @internal */
  protected readError: SockchanError | undefined;
  /** @internal A write failure not yet reported to the caller (Tcl's "unreported error"). */
  protected writeError: SockchanError | undefined;
  /** @internal */
  protected writeErrorSticky: SockchanError | undefined;
  /** @internal The stream error a call already reported as its own (its 'error' event must not report it again). */
  protected reportedStreamError: unknown;

  /** @internal */
  protected readableHandler: ChannelEventHandler | null = null;
  /** @internal */
  protected writableHandler: ChannelEventHandler | null = null;
  /** @internal */
  protected readableRunning = false;
  /** @internal */
  protected writableRunning = false;
  /** @internal */
  protected eventScheduled = false;
  /** @internal */
  protected connectOutcomePending = false;

  constructor(name: string) {
    this.name = name;
  }

  /** @internal */
  protected get encodingName(): string {
    return (this.encodingValue ??= currentSystemEncoding());
  }

  /** @internal */
  protected set encodingName(name: string) {
    this.encodingValue = name;
  }

  /** @internal The input buffer, made on first use with the defaults (configure() changes it afterwards). */
  protected get input(): InputBuffer {
    if (this.inputBuffer !== undefined) return this.inputBuffer;
    const input = new InputBuffer(this.newDecoder(), 'auto', '');
    input.tclUtf8Hold = this.encodingName === 'utf-8';
    // The stream may have ended before anything asked for input (see onEnd).
    if (this.streamEnded) input.pushEnd();
    this.inputBuffer = input;
    return input;
  }

  /** @internal The output buffer, made on first use with the defaults (configure() changes it afterwards). */
  protected get output(): OutputBuffer {
    return (this.outputBuffer ??= new OutputBuffer(
      this.encodingName,
      () => createEncoder(this.encodingName, { profile: this.profileName }),
      'crlf',
      'full',
      DEFAULT_BUFFER_SIZE,
    ));
  }

  /** @internal A decoder for the current encoding and profile, created on first use. */
  protected newDecoder(): StreamDecoder {
    return new LazyDecoder(this.encodingName, this.profileName);
  }

  /** @internal */
  protected unknownChannel(): SockchanError {
    return new SockchanError(`can not find channel named "${this.name}"`, {
      code: 'ERR_SOCKCHAN_UNKNOWN_CHANNEL',
      errorCode: ['TCL', 'LOOKUP', 'CHANNEL', this.name],
    });
  }

  /** @internal */
  protected notOpenFor(what: 'reading' | 'writing'): SockchanError {
    return new SockchanError(`channel "${this.name}" wasn't opened for ${what}`, {
      code: 'ERR_SOCKCHAN_NOT_OPEN',
      errorCode: ['NONE'],
    });
  }

  /**
   * Checks at the start of an input operation. A write failure no call has reported yet (bytes
   * that failed in the background, after the call that wrote them returned) is reported here,
   * once, as Tcl's CheckChannelErrors reports its unreported error to whatever operation comes
   * next: `error reading "sock5": connection reset by peer`. A stream error that also failed
   * reading is left to the read (it reports its own error).
   * @internal
   */
  protected checkRead(): SockchanError | undefined {
    if (this.closed) return this.unknownChannel();
    if (!this.canRead) return this.notOpenFor('reading');
    if (this.writeError !== undefined && this.readError === undefined) return this.takeUnreported('reading');
    return undefined;
  }

  /** @internal Checks at the start of `puts`: as {@link checkRead}, an unreported write failure first. */
  protected checkWrite(): SockchanError | undefined {
    return this.checkFlush() ?? (this.writeError !== undefined ? this.takeUnreported('writing') : undefined);
  }

  /** @internal `flush` reports an unreported failure itself, with its own prefix (see `takeWriteError`). */
  protected checkFlush(): SockchanError | undefined {
    if (this.closed) return this.unknownChannel();
    if (!this.canWrite) return this.notOpenFor('writing');
    return undefined;
  }

  /** @internal */
  protected takeUnreported(op: 'reading' | 'writing'): SockchanError {
    const e = this.writeError as SockchanError;
    this.writeError = undefined;
    return this.ioError(op, e);
  }

  /** @internal */
  protected ioError(op: 'reading' | 'writing' | 'flushing', cause: SockchanError): SockchanError {
    const code = typeof cause.code === 'string' ? cause.code : 'EIO';
    const text = cause.errorCode[0] === 'POSIX' ? (cause.errorCode[2] ?? errnoText(code)) : cause.message;
    return new SockchanError(`error ${op} "${this.name}": ${text}`, {
      code,
      errorCode: cause.errorCode[0] === 'POSIX' ? cause.errorCode : ['POSIX', code, text],
      cause,
    });
  }
}
