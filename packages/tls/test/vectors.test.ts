import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel } from '@sockchan/core';
import { CleanupList, makeTestCertificates } from '@sockchan/test-support';
import type { TestCertificates } from '@sockchan/test-support';
import { checkTlsOptions, startClient, startServer } from '../src/index.js';
import type { CheckedTlsOptions } from '../src/index.js';

/**
 * Tcl 8.6.13's channel vectors (core's recorded fixtures) over TLS on loopback: every input vector
 * (blocking `gets` and `read` transcripts, each chunk arriving as its own read, as when they were
 * recorded) and every output vector (the decrypted wire bytes). The channel code is core's; these
 * show that TLS under it changes nothing.
 */

const FIXTURES = new URL('../../core/test/fixtures/tcl-channel/', import.meta.url);

interface GetsResult {
  n: number;
  cp?: string[];
  eof?: number;
}
interface InputVector {
  id: string;
  config: Record<string, string>;
  chunks: string[];
  gets: GetsResult[];
  read: { cp: string[]; eof: number };
}
interface OutputVector {
  id: string;
  config: Record<string, string>;
  ops: { op: 'puts' | 'putsn' | 'flush'; arg?: { cp: string[] } }[];
  wireHex: string;
}

const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;
const toCp = (s: string): string[] => [...s].flatMap((c) => [...Array(c.length).keys()].map((k) => c.charCodeAt(k).toString(16).padStart(4, '0')));
const fromCp = (cp: readonly string[]): string => String.fromCharCode(...cp.map((h) => parseInt(h, 16)));

// Tcl 8.6.13's bug on a 4-byte UTF-8 sequence split after its third byte: the sane result (the vector's note).
const SANE_GETS: Record<string, GetsResult[]> = {
  'utf8-4b-split3': [
    { n: 2, cp: ['d83d', 'de00'], eof: 0 },
    { n: -1, eof: 1 },
  ],
};
const SANE_READ: Record<string, { cp: string[]; eof: number }> = { 'utf8-4b-split3': { cp: ['d83d', 'de00', '000a'], eof: 1 } };

let certs: TestCertificates;
let serverOptions: CheckedTlsOptions;
let clientOptions: CheckedTlsOptions;
const cleanup = new CleanupList();
/** What the next accepted TLS connection does. */
let onSecure: (s: TLSSocket) => void = () => undefined;
let port = 0;

beforeAll(async () => {
  certs = await makeTestCertificates();
  serverOptions = checkTlsOptions({ certfile: certs.server.cert, keyfile: certs.server.key }, 'server');
  clientOptions = checkTlsOptions({ cafile: certs.ca.cert }, 'client');
  const server = cleanup.add(
    net.createServer((raw) => {
      const session = startServer(raw, serverOptions, 'server: ');
      session.handshake.then(
        () => onSecure(session.socket),
        () => undefined,
      );
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await cleanup.closeAll();
  certs.dispose();
});

/** A TLS client channel configured as `config`; `received` counts the decrypted bytes that arrived. */
async function tlsChannel(config: Record<string, string>): Promise<{ ch: Channel; received: () => number }> {
  const raw = net.connect(port, '127.0.0.1');
  await new Promise((r) => raw.once('connect', r));
  const session = startClient(raw, clientOptions, 'localhost', 'client: ');
  await session.handshake;
  let bytes = 0;
  session.socket.on('data', (d: Buffer) => {
    bytes += d.length;
  });
  const ch = new Channel(session.socket);
  cleanup.add({ close: () => ch.close().catch(() => undefined) });
  for (const [k, v] of Object.entries(config)) ch.configure({ [k]: v });
  return { ch, received: () => bytes };
}

/** Waits (bounded) until `cond` holds. */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 5000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(cond()).toBe(true);
}

/** The server sends each chunk only once the previous one has been received: one read each. */
function sendChunks(chunks: readonly string[], received: () => number): void {
  onSecure = (s) => {
    void (async () => {
      let total = 0;
      for (const hex of chunks) {
        const b = Buffer.from(hex, 'hex');
        total += b.length;
        s.write(b);
        const want = total;
        await until(() => received() >= want);
      }
      s.end();
    })();
  };
}

describe('input vectors over TLS', () => {
  const vectors = load<InputVector[]>('input.json');
  it('has them all', () => expect(vectors.length).toBeGreaterThan(50));
  for (const v of vectors) {
    it(`${v.id}: gets and read`, async () => {
      let counter: () => number = () => 0;
      sendChunks(v.chunks, () => counter());
      const a = await tlsChannel(v.config);
      counter = a.received;
      const got: GetsResult[] = [];
      for (let i = 0; i < 200; i++) {
        const line = await a.ch.gets();
        got.push(line === null ? { n: -1, eof: a.ch.eof() ? 1 : 0 } : { n: line.length, cp: toCp(line), eof: a.ch.eof() ? 1 : 0 });
        if (line === null) break;
      }
      const want = SANE_GETS[v.id] ?? v.gets.map((g) => (g.n < 0 ? { n: -1, eof: g.eof ?? 0 } : { n: g.n, cp: g.cp ?? [], eof: g.eof ?? 0 }));
      expect(got).toEqual(want);
      sendChunks(v.chunks, () => counter());
      const b = await tlsChannel(v.config);
      counter = b.received;
      const text = await b.ch.read();
      const wantRead = SANE_READ[v.id] ?? v.read;
      expect({ cp: toCp(text), eof: b.ch.eof() ? 1 : 0 }).toEqual({ cp: wantRead.cp, eof: wantRead.eof });
    });
  }
});

describe('output vectors over TLS', () => {
  const vectors = load<OutputVector[]>('output.json');
  for (const v of vectors) {
    it(`${v.id}: wire bytes`, async () => {
      const wire: Buffer[] = [];
      const ended = new Promise<void>((resolve) => {
        onSecure = (s) => {
          s.on('data', (d: Buffer) => wire.push(d));
          s.on('end', () => {
            s.end();
            resolve();
          });
        };
      });
      const { ch } = await tlsChannel(v.config);
      for (const op of v.ops) {
        if (op.op === 'flush') await ch.flush();
        else await ch.puts(fromCp(op.arg?.cp ?? []), { nonewline: op.op === 'putsn' });
      }
      await ch.close();
      await ended;
      expect(Buffer.concat(wire).toString('hex')).toBe(v.wireHex);
    });
  }
});
