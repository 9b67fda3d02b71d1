/**
 * Test certificates, made at test time with the `openssl` command (nothing that expires is kept
 * in the repository): a CA, a server certificate for `localhost`, `127.0.0.1` and `::1`, a client
 * certificate, an expired one, one for the wrong host, one for an SNI name, a self-signed one, a
 * second CA that signed none of them, and the server key encrypted with a password. All in one
 * temporary directory that `dispose()` removes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestSupportError } from './errors.js';
import { runCommand } from './process.js';

/** A certificate file and its key file. */
export interface CertificatePair {
  /** PEM certificate file. */
  readonly cert: string;
  /** PEM private key file (unencrypted). */
  readonly key: string;
}

/** The files made by {@link makeTestCertificates}. */
export interface TestCertificates {
  /** The temporary directory holding them. */
  readonly dir: string;
  /** The CA's certificate (trust it with `cafile`) and key. */
  readonly ca: CertificatePair;
  /** A second CA that signed nothing here (a client trusting only it rejects every server). */
  readonly otherCa: CertificatePair;
  /** CN=localhost, SANs DNS:localhost, DNS:dual.test, IP:127.0.0.1, IP:::1, signed by `ca`. */
  readonly server: CertificatePair;
  /** CN=client (clientAuth), signed by `ca`. */
  readonly client: CertificatePair;
  /** Like `server`, but valid only in the past (expired a year ago). */
  readonly expired: CertificatePair;
  /** CN=wrong.test, SAN DNS:wrong.test only, signed by `ca`. */
  readonly wrongHost: CertificatePair;
  /** CN=sni.test, SAN DNS:sni.test, signed by `ca` (a second name for SNI). */
  readonly sni: CertificatePair;
  /** CN=localhost, SANs as `server`, self-signed. */
  readonly selfSigned: CertificatePair;
  /** `server.key` encrypted (AES-256) with {@link TestCertificates.password}. */
  readonly encryptedKey: string;
  /** The password of {@link TestCertificates.encryptedKey}. */
  readonly password: string;
  /** Reads a file of the set as text. */
  read(path: string): string;
  /** Removes the directory (idempotent). */
  dispose(): void;
}

const SERVER_SAN = 'DNS:localhost,DNS:dual.test,IP:127.0.0.1,IP:::1';

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  try {
    await runCommand('openssl', args, { cwd, timeoutMs: 20_000 });
  } catch (error) {
    if (error instanceof TestSupportError && error.code === 'ERR_TEST_SUPPORT_COMMAND_FAILED') throw error;
    throw new TestSupportError(`the openssl command is needed to make test certificates (apt-get install openssl): ${String(error)}`, 'ERR_TEST_SUPPORT_MISSING_TOOL', error);
  }
}

/** An EC P-256 key and a CSR for `subject`. */
async function request(dir: string, name: string, subject: string): Promise<void> {
  await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
}

/** Signs `name.csr` with the CA for `days` days, with the extensions `ext`. */
async function sign(dir: string, name: string, ext: string, days = 30): Promise<void> {
  writeFileSync(join(dir, `${name}.ext`), ext);
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', String(days), '-out', `${name}.pem`, '-extfile', `${name}.ext`], dir);
}

/** A self-signed CA certificate `name.pem` (CA:TRUE). */
async function makeCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl(
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '30', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
}

/** Compact `YYMMDDHHMMSSZ` for `openssl ca -startdate/-enddate`. */
function asn1Time(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
}

/** Signs `name.csr` with dates in the past, through `openssl ca` (OpenSSL 3.0's x509 has no start date option). */
async function signExpired(dir: string, name: string, ext: string): Promise<void> {
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = test',
      '[test]',
      `dir = ${dir}`,
      'database = $dir/index.txt',
      'serial = $dir/serial',
      'new_certs_dir = $dir',
      'certificate = $dir/ca.pem',
      'private_key = $dir/ca.key',
      'default_md = sha256',
      'policy = any',
      'x509_extensions = ext',
      'unique_subject = no',
      '[any]',
      'commonName = supplied',
      '[ext]',
      ext,
      '',
    ].join('\n'),
  );
  const now = Date.now();
  const day = 24 * 3600 * 1000;
  await openssl(['ca', '-batch', '-config', 'ca.cnf', '-in', `${name}.csr`, '-out', `${name}.pem`, '-notext', '-startdate', asn1Time(new Date(now - 400 * day)), '-enddate', asn1Time(new Date(now - 365 * day))], dir);
}

/** Makes the certificate set in a new temporary directory (a second or two of `openssl` runs). */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), 'sockchan-certs-'));
  let disposed = false;
  const dispose = (): void => {
    if (disposed) return;
    disposed = true;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await makeCa(dir, 'ca', 'sockchan test CA');
    await makeCa(dir, 'other-ca', 'sockchan other CA');
    const serverExt = `subjectAltName=${SERVER_SAN}\nextendedKeyUsage=serverAuth\n`;
    await request(dir, 'server', '/CN=localhost');
    await sign(dir, 'server', serverExt);
    await request(dir, 'client', '/CN=client');
    await sign(dir, 'client', 'extendedKeyUsage=clientAuth\n');
    await request(dir, 'wrong', '/CN=wrong.test');
    await sign(dir, 'wrong', 'subjectAltName=DNS:wrong.test\nextendedKeyUsage=serverAuth\n');
    await request(dir, 'sni', '/CN=sni.test');
    await sign(dir, 'sni', 'subjectAltName=DNS:sni.test\nextendedKeyUsage=serverAuth\n');
    await request(dir, 'expired', '/CN=localhost');
    await signExpired(dir, 'expired', `subjectAltName=${SERVER_SAN}\nextendedKeyUsage=serverAuth`);
    await openssl(
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'self.key', '-out', 'self.pem', '-days', '30', '-subj', '/CN=localhost', '-addext', `subjectAltName=${SERVER_SAN}`],
      dir,
    );
    const password = 'sockchan-test-password';
    await openssl(['pkey', '-in', 'server.key', '-aes256', '-passout', `pass:${password}`, '-out', 'server-enc.key'], dir);
    const pair = (name: string): CertificatePair => ({ cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) });
    return {
      dir,
      ca: pair('ca'),
      otherCa: pair('other-ca'),
      server: pair('server'),
      client: pair('client'),
      expired: pair('expired'),
      wrongHost: pair('wrong'),
      sni: pair('sni'),
      selfSigned: pair('self'),
      encryptedKey: join(dir, 'server-enc.key'),
      password,
      read: (path: string) => readFileSync(path, 'utf8'),
      dispose,
    };
  } catch (error) {
    dispose();
    throw error;
  }
}
