import { afterEach, beforeEach, expect } from 'vitest';
import { socket } from 'sockchan';
import type { ServerChannel, SocketChannel } from 'sockchan';
import type { Socket } from 'node:net';
import { leakedHandles, networkResources } from '../src/index.js';

/** Closes every registered thing after each test, then checks no network handle was left open. */
export function withLeakCheck(): { track: <T extends { close(): unknown } | Socket>(x: T) => T } {
  let baseline = new Map<string, number>();
  const open: ({ close(): unknown } | Socket)[] = [];
  beforeEach(() => {
    baseline = networkResources();
  });
  afterEach(async () => {
    const items = open.splice(0);
    await Promise.allSettled(
      items.map((x) => {
        if ('destroy' in x && typeof x.destroy === 'function') {
          x.destroy();
          return undefined;
        }
        return (x as { close(): unknown }).close();
      }),
    );
    expect(await leakedHandles(baseline)).toEqual([]);
  });
  return {
    track: (x) => {
      open.push(x);
      return x;
    },
  };
}

/** A sockchan server on `host`, port 0, no reverse lookups; callback errors fail loudly. */
export async function server(
  host: string,
  onAccept: (ch: SocketChannel, addr: string, port: number) => unknown,
  track: <T extends { close(): unknown }>(x: T) => T,
): Promise<{ srv: ServerChannel; port: number; accepted: SocketChannel[] }> {
  const accepted: SocketChannel[] = [];
  const srv = await socket.server(
    (ch, addr, port) => {
      accepted.push(track(ch));
      return onAccept(ch, addr, port);
    },
    0,
    { myaddr: host, reverseLookup: false, onError: (err) => console.error('server onError', err) },
  );
  track(srv);
  return { srv, port: srv.port, accepted };
}

/** A promise and its resolver. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Tcl's texts for a write to a peer that is gone (tcl-socket-behaviour item 68). */
export const DEAD_PEER_WRITE = /^error (flushing|writing) "sock\d+": (broken pipe|connection reset by peer)$/;
