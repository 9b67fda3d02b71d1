// Shared by the TLS rows: the certificate files (see ../tls-certs.ts) and what each TLS workload
// does, decided by its parameters: `bytes` is tls-bulk (a sink that answers with the byte count
// at EOF), `handshakes` is tls-handshakes (the client makes that many full handshakes, one after
// the other, each closing at once), otherwise tls-pingpong (a line echo; tls-idle's server is
// the same echo, idle).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { Channel } from '@sockchan/core';
import { bulkClient, bulkSink, lineOptions, pingpongClient, pingpongServer } from './channel-loops.js';
import { fail, intParam, printResult, timedSteps, warmupParam } from './common.js';
import type { RowArgs } from './common.js';

/** The certificate and key files (the certificate is also the client's trusted CA). */
export function tlsFiles(): { cert: string; key: string; certPem: Buffer; keyPem: Buffer } {
  const dir = process.env['SOCKCHAN_BENCH_TLS_DIR'];
  if (dir === undefined || dir === '') fail('SOCKCHAN_BENCH_TLS_DIR is not set (the bench harness makes the certificate)');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  return { cert, key, certPem: readFileSync(cert), keyPem: readFileSync(key) };
}

/**
 * Every row's handshakes are full ones: no client keeps a session to resume. A resumed session
 * would skip the certificate work this workload measures, so it fails the row instead.
 */
export function checkFullHandshake(socket: TLSSocket): void {
  if (socket.isSessionReused()) fail('client: the TLS session was resumed; tls-handshakes measures full handshakes');
}

/** Which TLS workload the parameters are for. */
export function tlsKind(args: RowArgs): 'bulk' | 'handshakes' | 'pingpong' {
  return args.params.has('bytes') ? 'bulk' : args.params.has('handshakes') ? 'handshakes' : 'pingpong';
}

/** A channel row's server side for an accepted TLS channel. */
export function serveTlsChannel(args: RowArgs, ch: Channel): void {
  if (tlsKind(args) === 'bulk') {
    ch.configure({ translation: 'binary', blocking: false });
    bulkSink(ch, 'until-empty');
  } else {
    ch.configure(lineOptions);
    pingpongServer(ch);
  }
}

/** A channel row's client side: `connect` makes a verified TLS channel. */
export async function runTlsChannelClient(args: RowArgs, connect: () => Promise<Channel>): Promise<void> {
  const kind = tlsKind(args);
  if (kind === 'handshakes') {
    const n = intParam(args, 'handshakes');
    const seconds = await timedSteps(warmupParam(args), n, async () => (await connect()).close());
    printResult({ ops: n, seconds });
    return;
  }
  const run = kind === 'bulk' ? bulkClient(args) : pingpongClient(args);
  const ch = await connect();
  ch.configure(kind === 'bulk' ? { translation: 'binary' } : lineOptions);
  await run(ch);
}
