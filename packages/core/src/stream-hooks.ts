/**
 * The stream attachment's module-level hooks: a stream carries its channel under a symbol, so one
 * set of handlers serves every channel (no closure per channel), and sockets made with
 * `Channel.onread` keep what they read before a channel takes them.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { SockchanError } from '@sockchan/base';
import type { StreamAttachment } from './stream-attachment.js';

export const kChannel = Symbol('sockchan.channel');
/** Chunks a socket made with `Channel.onread` read before a channel took it. */
export const kEarlyInput = Symbol('sockchan.earlyInput');
export type StreamWithChannel = Duplex & { [kChannel]?: StreamAttachment | undefined; [kEarlyInput]?: EarlyInput | undefined };

/** Input held for a channel that does not exist yet (see onSocketRead). */
export interface EarlyInput {
  readonly chunks: Buffer[];
  bytes: number;
}

/**
 * What a socket made with `Channel.onread` reads before a channel takes it may hold: past
 * this the socket stops reading (the peer sees TCP backpressure) until a channel takes it.
 */
export const EARLY_INPUT_LIMIT = 256 * 1024;

/** The size of the one read buffer shared by every socket made with `Channel.onread`. */
export const ONREAD_BUFFER_SIZE = 64 * 1024;

/**
 * The `onread` callback of `Channel.onread`. Node calls it on the socket (`this`), with the
 * shared buffer, which the next read of any socket overwrites: the bytes are copied out at once.
 */
export function onSocketRead(this: unknown, nread: number, buf: Uint8Array): boolean {
  if (!(this instanceof Socket)) {
    // Node has always called it as a method of the socket; without that no channel can be found.
    throw new SockchanError('Channel.onread: Node did not call onread on its socket', { code: 'ERR_SOCKCHAN_INTERNAL', errorCode: ['NONE'] });
  }
  const chunk = Buffer.allocUnsafe(nread);
  chunk.set(buf.subarray(0, nread));
  return deliverRead(this, chunk);
}

/** Gives a chunk read by a Channel.onread socket to its channel, or keeps it until one takes the socket. */
export function deliverRead(socket: StreamWithChannel, chunk: Buffer): boolean {
  const ch = socket[kChannel];
  if (ch !== undefined) {
    ch.onData(chunk, true);
    return true;
  }
  const early = (socket[kEarlyInput] ??= { chunks: [], bytes: 0 });
  early.chunks.push(chunk);
  early.bytes += chunk.length;
  // false: Node stops reading (readStop) until attach resumes the socket.
  return early.bytes < EARLY_INPUT_LIMIT;
}

// Module-level stream handlers (no closure per channel): the stream carries its channel.
export function onStreamData(this: StreamWithChannel, chunk: Buffer | string): void {
  // A net.Socket emits 'data' from its read callback or from the stream's own flow tick, never
  // inside a caller's write: the readable handler may run at once (see onData).
  this[kChannel]?.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, this instanceof Socket);
}
export function onStreamEnd(this: StreamWithChannel): void {
  this[kChannel]?.onEnd();
}
export function onStreamError(this: StreamWithChannel, err: unknown): void {
  this[kChannel]?.onError(err);
}
export function onStreamClose(this: StreamWithChannel): void {
  this[kChannel]?.onClose();
}
export function onStreamDrain(this: StreamWithChannel): void {
  this[kChannel]?.onDrain();
}
