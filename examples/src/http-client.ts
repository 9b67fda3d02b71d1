/**
 * A line-protocol client that switches translation mid-stream, HTTP/1.0 style: the request and
 * the response headers are CRLF-terminated text lines, the body is bytes. In Tcl:
 *
 * ```tcl
 * set s [socket $host $port]
 * chan configure $s -translation crlf -encoding iso8859-1
 * puts $s "GET /data.bin HTTP/1.0"; puts $s "Host: $host"; puts $s ""; flush $s
 * gets $s status
 * while {[gets $s line] > 0} { lappend headers $line }
 * chan configure $s -translation binary
 * set body [read $s $length]
 * ```
 *
 * Bytes that arrived together with the headers stay in the channel's buffer undecoded, so the
 * switch to `binary` loses nothing: that is Tcl's channel model, and sockchan's.
 *
 * Run: `node examples/dist/http-client.js`. It starts a small HTTP/1.0 server (plain `node:net`,
 * on loopback, port 0) that serves 64 KiB of every byte value, fetches it, checks the SHA-256
 * the server announced, prints what it did and exits.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { pathToFileURL } from 'node:url';
import { socket } from 'sockchan';

/** The body the server sends: 64 KiB in which every byte value (CR, LF, 0xFF...) appears. */
export function sampleBody(): Buffer {
  const body = Buffer.alloc(64 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 8)) & 0xff;
  return body;
}

/** A minimal HTTP/1.0 server in plain Node: headers and body in one write, then close. */
export async function startHttpServer(body: Buffer): Promise<Server> {
  const server = createServer((conn) => {
    let request = '';
    conn.setEncoding('latin1');
    conn.on('data', (text: string) => {
      request += text;
      if (!request.includes('\r\n\r\n')) return;
      const path = request.split(' ')[1] ?? '/';
      if (path !== '/data.bin') {
        conn.end('HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const head =
        'HTTP/1.0 200 OK\r\n' +
        'Content-Type: application/octet-stream\r\n' +
        `Content-Length: ${body.length}\r\n` +
        `X-SHA256: ${createHash('sha256').update(body).digest('hex')}\r\n` +
        '\r\n';
      // One write: the body's first bytes arrive in the same segment as the headers.
      conn.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    });
    conn.on('error', () => conn.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** What {@link fetchHttp10} got. */
export interface HttpResponse {
  /** The status line, e.g. `HTTP/1.0 200 OK`. */
  status: string;
  /** Header names (lower case) to values. */
  headers: Map<string, string>;
  /** The body, exactly `Content-Length` bytes. */
  body: Uint8Array;
}

/** GET `path` over HTTP/1.0: headers read as CRLF lines, then the body as bytes. */
export async function fetchHttp10(host: string, port: number, path: string): Promise<HttpResponse> {
  const s = await socket(host, port);
  try {
    // HTTP's header section: Latin-1 text, CRLF line ends both ways.
    s.configure({ translation: 'crlf', encoding: 'iso8859-1' });
    await s.puts(`GET ${path} HTTP/1.0`);
    await s.puts(`Host: ${host}`);
    await s.puts('');
    await s.flush();
    const status = (await s.gets()) ?? '';
    const headers = new Map<string, string>();
    for (let line = await s.gets(); line !== null && line !== ''; line = await s.gets()) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    // The body: bytes as they are.
    s.configure({ translation: 'binary' });
    const length = Number(headers.get('content-length') ?? NaN);
    const body = Number.isInteger(length) ? await s.readBytes(length) : await s.readBytes();
    return { status, headers, body };
  } finally {
    await s.close();
  }
}

/** Starts the server, fetches `/data.bin`, verifies it, prints a report. */
export async function httpDemo(out: (line: string) => void = console.log): Promise<boolean> {
  const body = sampleBody();
  const server = await startHttpServer(body);
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetchHttp10('127.0.0.1', port, '/data.bin');
    out(`status: ${response.status}`);
    for (const [name, value] of response.headers) out(`header: ${name}: ${value}`);
    const digest = createHash('sha256').update(response.body).digest('hex');
    const ok = digest === response.headers.get('x-sha256') && Buffer.from(response.body).equals(body);
    out(`body: ${response.body.length} bytes, sha256 ${digest} ${ok ? 'matches' : 'DOES NOT MATCH'}`);
    return ok;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    if (!(await httpDemo())) process.exitCode = 1;
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  }
}
