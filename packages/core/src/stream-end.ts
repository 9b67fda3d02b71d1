/** Ending a channel's stream: end-then-destroy, and waiting for a half-closed stream to finish. */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errnoCodeOf, posixError } from '@sockchan/base';
import { isTlsSocket } from './socket-writes.js';

const RESOLVED: Promise<void> = Promise.resolve();

/** Ends the stream after its queued writes and destroys it once they are done. */
export function endAndDestroy(s: Duplex, blocking: boolean): Promise<void> {
  if (s instanceof Socket && !s.destroyed && !s.writableEnded && s.writableLength === 0 && !s.connecting && !isTlsSocket(s)) {
    // Nothing left to send: close the descriptor at once, as Tcl's close() does. The kernel sends
    // the FIN after whatever it still holds; end() would first make libuv shutdown() and wait.
    // A TLS socket (`encrypted`) ends instead: end() sends TLS's close_notify before the FIN.
    s.destroy();
    return RESOLVED;
  }
  const p = new Promise<void>((resolve, reject) => {
    if (s.destroyed) {
      resolve();
      return;
    }
    let settled = false;
    const done = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      s.off('finish', onFinish);
      s.off('error', onErr);
      s.off('close', onCloseEv);
      if (!s.destroyed) s.destroy();
      if (err !== undefined) reject(err instanceof Error ? err : posixError('', errnoCodeOf(err) ?? 'EPIPE', err));
      else resolve();
    };
    const onFinish = (): void => done();
    const onErr = (err: unknown): void => done(err);
    const onCloseEv = (): void => done(s.writableFinished ? undefined : posixError('', 'EPIPE'));
    s.once('finish', onFinish);
    s.once('error', onErr);
    s.once('close', onCloseEv);
    if (!s.writableEnded) s.end();
    else if (s.writableFinished) done();
  });
  void blocking;
  return p;
}

export function waitFinish(s: Duplex): Promise<void> {
  if (s.writableFinished || s.destroyed) return RESOLVED;
  return new Promise<void>((resolve) => {
    const done = (): void => {
      s.off('finish', done);
      s.off('close', done);
      resolve();
    };
    s.once('finish', done);
    s.once('close', done);
  });
}
