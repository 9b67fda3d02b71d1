// Small local test helpers (candidates for tools/test-support: connectTo, connectError,
// readLine, readToEnd, socketFdCount, and a freePort that is free on both loopbacks).
import net from 'node:net';
import { readdirSync, readlinkSync } from 'node:fs';
import type { CleanupList } from '@sockchan/test-support';

/** Connects to host:port; resolves with the connected socket or rejects with the error. */
export function connectTo(host: string, port: number, cleanup: CleanupList): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = cleanup.add(net.connect({ host, port }));
    s.once('connect', () => {
      s.removeListener('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Resolves with the error code of a connect that must fail (rejects if it connects). */
export function connectError(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      reject(new Error(`unexpectedly connected to ${host} ${port}`));
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      s.destroy();
      resolve(err.code ?? String(err));
    });
  });
}

/** Reads from `s` until EOF; resolves with everything read as text. */
export function readToEnd(s: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.once('end', () => resolve(text));
    s.once('error', reject);
  });
}

/** Reads one line (without its end) from `s`. */
export function readLine(s: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer): void => {
      text += d.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl >= 0) {
        s.removeListener('data', onData);
        s.removeListener('error', reject);
        s.pause();
        resolve(text.slice(0, nl));
      }
    };
    s.on('data', onData);
    s.once('error', reject);
    s.once('end', () => reject(new Error(`EOF before a line; got ${JSON.stringify(text)}`)));
  });
}

/** How many sockets this process has open (its fds that are sockets). */
export function socketFdCount(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n += 1;
    } catch {
      // The fd closed while we looked (readdir's own fd): not a socket of ours.
    }
  }
  return n;
}

/** A port that is free on both loopbacks right now (for tests that need a fixed number). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const v4 = net.createServer();
    await new Promise<void>((resolve, reject) => {
      v4.once('error', reject);
      v4.listen(0, '127.0.0.1', resolve);
    });
    const port = (v4.address() as net.AddressInfo).port;
    const v6 = net.createServer();
    const ok = await new Promise<boolean>((resolve) => {
      v6.once('error', () => resolve(false));
      v6.listen({ port, host: '::1', ipv6Only: true }, () => resolve(true));
    });
    await Promise.all([new Promise((r) => v4.close(r)), ok ? new Promise((r) => v6.close(r)) : Promise.resolve()]);
    if (ok) return port;
  }
  throw new Error('no port free on both loopbacks after 20 tries');
}
