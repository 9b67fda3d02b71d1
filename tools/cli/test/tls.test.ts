import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates } from '@sockchan/test-support';
import type { TestCertificates } from '@sockchan/test-support';
import { CliProcess, runCli } from './run-cli.js';

/** The CLI's TLS options: a TLS echo server and a verifying TLS client, both the real binary. */

let certs: TestCertificates;
const running: CliProcess[] = [];
beforeAll(async () => {
  certs = await makeTestCertificates();
});
afterAll(() => certs.dispose());
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});

describe('TLS', () => {
  it('-server echo with -certfile/-keyfile; a client with -cafile -alpn verifies and gets the echo', async () => {
    const srv = new CliProcess(['-server', 'echo', '-certfile', certs.server.cert, '-keyfile', certs.server.key, '-myaddr', '127.0.0.1', '0']);
    running.push(srv);
    const port = await srv.listeningPort();
    const ok = await runCli(['-cafile', certs.ca.cert, '-alpn', 'http/1.1', 'localhost', String(port)], 'over tls\n');
    expect(ok.stderr).toBe('');
    expect(ok.stdout.toString()).toBe('over tls\n');
    expect(ok.code).toBe(0);
    // Without the CA: verification fails, with the reason and the host, exit 1.
    const bad = await runCli(['-tls', 'localhost', String(port)], 'x\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('sockchan: couldn\'t open socket: certificate verify failed: unable to verify the first certificate (host "localhost")\n');
    // A wrong -servername.
    const wrong = await runCli(['-cafile', certs.ca.cert, '-servername', 'wrong.test', 'localhost', String(port)], 'x\n');
    expect(wrong.stderr).toBe('sockchan: couldn\'t open socket: certificate verify failed: hostname mismatch (host "wrong.test")\n');
    // A plaintext client is refused by the server, which reports it and goes on.
    const plain = await runCli(['localhost', String(port)], 'GET /\n');
    expect(plain.stdout.toString()).toBe('');
    await srv.waitFor('the refused plaintext client', () => (/TLS handshake failed: http request/.test(srv.stderr) ? true : undefined));
  });

  it('a missing file: Tcl text, exit 1', async () => {
    const r = await runCli(['-cafile', '/nonexistent/ca.pem', 'localhost', '1'], '');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sockchan: couldn\'t open "/nonexistent/ca.pem": no such file or directory\n');
    const u = await runCli(['-alpn'], '');
    expect(u.code).toBe(2);
    expect(u.stderr).toBe('sockchan: no argument given for -alpn option\n');
  });
});
