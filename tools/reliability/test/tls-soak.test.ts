import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates } from '@sockchan/test-support';
import type { TestCertificates } from '@sockchan/test-support';
import { tls } from 'sockchan';
import type { ServerChannel } from 'sockchan';

/**
 * A TLS soak: 200 verified TLS connections, 50 at a time, each sending 1 MiB of its own bytes
 * to a sockchan TLS server that answers with their SHA-256; every checksum must match (0 bytes
 * lost or changed). Bounded in count and time.
 */

const CONNECTIONS = 200;
const IN_FLIGHT = 50;
const BYTES = 1024 * 1024;

let certs: TestCertificates;
let srv: ServerChannel;
let port = 0;

beforeAll(async () => {
  certs = await makeTestCertificates();
  srv = await tls.server(
    async (ch) => {
      ch.configure({ translation: 'binary' });
      const hash = createHash('sha256');
      let n = 0;
      for (;;) {
        const chunk = await ch.readBytes(64 * 1024);
        if (chunk.length === 0) break;
        hash.update(chunk);
        n += chunk.length;
      }
      await ch.puts(`${n} ${hash.digest('hex')}\n`, { nonewline: true });
      await ch.close();
    },
    0,
    { certfile: certs.server.cert, keyfile: certs.server.key, myaddr: '127.0.0.1', reverseLookup: false },
  );
  port = (srv.configure('sockname') as [string, string, number][])[0]?.[2] as number;
});
afterAll(async () => {
  await srv.close();
  certs.dispose();
});

describe('TLS soak', () => {
  it(`${CONNECTIONS} connections x 1 MiB, checksums match, 0 bytes lost`, async () => {
    let next = 0;
    let verified = 0;
    const lane = async (): Promise<void> => {
      while (next < CONNECTIONS) {
        const id = next++;
        const payload = Buffer.alloc(BYTES);
        for (let i = 0; i < BYTES; i += 4) payload.writeUInt32LE((i * 2654435761 + id) >>> 0, i);
        const ch = await tls.socket('127.0.0.1', port, { cafile: certs.ca.cert, reverseLookup: false });
        ch.configure({ translation: 'binary' });
        for (let off = 0; off < BYTES; off += 64 * 1024) await ch.puts(payload.subarray(off, off + 64 * 1024), { nonewline: true });
        await ch.close('write');
        const reply = (await ch.read()).trim();
        await ch.close();
        expect(reply).toBe(`${BYTES} ${createHash('sha256').update(payload).digest('hex')}`);
        verified += 1;
      }
    };
    const start = Date.now();
    await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    expect(verified).toBe(CONNECTIONS);
    process.stderr.write(`TLS soak: ${CONNECTIONS} connections, ${(CONNECTIONS * BYTES) / 2 ** 20} MiB in ${Date.now() - start} ms, ${verified} checksums matched\n`);
  }, 120_000);
});
