// The certificate the TLS rows use, made once per bench run with the openssl command: a
// self-signed EC certificate for `localhost` and 127.0.0.1, its key, in a temporary directory
// named in the environment (SOCKCHAN_BENCH_TLS_DIR) that every row process inherits; removed
// when the bench exits.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The environment variable naming the directory of `cert.pem` and `key.pem`. */
export const TLS_DIR_ENV = 'SOCKCHAN_BENCH_TLS_DIR';

/** Makes the certificate (once per process) and exports its directory to the children. */
export function ensureBenchCertificate(): string {
  const existing = process.env[TLS_DIR_ENV];
  if (existing !== undefined && existing !== '') return existing;
  const dir = mkdtempSync(join(tmpdir(), 'sockchan-bench-tls-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    { cwd: dir, stdio: 'ignore', timeout: 20_000 },
  );
  process.env[TLS_DIR_ENV] = dir;
  return dir;
}
