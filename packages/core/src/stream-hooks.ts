/**
 * The stream attachment's module-level hooks: `streamChannels` gives each stream's channel, so one
 * set of handlers serves every channel (no closure per channel), and sockets made with
 * `Channel.onread` keep what they read before a channel takes them.
 */
import { Buffer } from 'node:buffer';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { SockchanError } from '@sockchan/base';
import type { StreamAttachment } from './stream-attachment.js';

/**
 * The channel of each attached stream. A WeakMap, not a property on the stream: a property
 * added to Node's socket objects gives them maps Node's own code never sees elsewhere, and with
 * a TLS socket wrapping a net.Socket that is enough to make the property loads in Node's
 * stream code (`_handle`, `Readable.read`, `writeOrBuffer`) megamorphic for the whole process.
 */
export const streamChannels = new WeakMap<Duplex, StreamAttachment>();
/** Chunks a socket made with `Channel.onread` read before a channel took it (same reason). */
export const earlyInputs = new WeakMap<Duplex, EarlyInput>();

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
export function deliverRead(socket: Duplex, chunk: Buffer): boolean {
  const ch = streamChannels.get(socket);
  if (ch !== undefined) {
    ch.onData(chunk, true);
    return true;
  }
  let early = earlyInputs.get(socket);
  if (early === undefined) {
    early = { chunks: [], bytes: 0 };
    earlyInputs.set(socket, early);
  }
  early.chunks.push(chunk);
  early.bytes += chunk.length;
  // false: Node stops reading (readStop) until attach resumes the socket.
  return early.bytes < EARLY_INPUT_LIMIT;
}

// Module-level stream handlers (no closure per channel): streamChannels gives the stream's channel.
export function onStreamData(this: Duplex, chunk: Buffer | string): void {
  // A net.Socket emits 'data' from its read callback or from the stream's own flow tick, never
  // inside a caller's write: the readable handler may run at once (see onData).
  streamChannels.get(this)?.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, this instanceof Socket);
}
export function onStreamEnd(this: Duplex): void {
  streamChannels.get(this)?.onEnd();
}
export function onStreamError(this: Duplex, err: unknown): void {
  streamChannels.get(this)?.onError(err);
}
export function onStreamClose(this: Duplex): void {
  streamChannels.get(this)?.onClose();
}
export function onStreamDrain(this: Duplex): void {
  streamChannels.get(this)?.onDrain();
}
