import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand, runTclClient, startProcess } from '@sockchan/test-support';
import type { ManagedProcess } from '@sockchan/test-support';

// Each example is a program: run the compiled file as a user would (`node dist/x.js`), and check
// that it exits by itself with code 0 and prints what it should.

const dist = (name: string): string => fileURLToPath(new URL(`../dist/${name}`, import.meta.url));
const run = (name: string, args: readonly string[] = []) => runCommand(process.execPath, [dist(name), ...args], { timeoutMs: 15_000 });

const children: ManagedProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.stop()));
});

describe('examples run and exit by themselves', () => {
  it('echo-server.js: the conversation, then EOF after the half-close', async () => {
    const r = await run('echo-server.js');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^echo server listening on 127\.0\.0\.1 port \d+$/);
    expect(lines.slice(1)).toEqual([
      'sent "hello", got back "hello"',
      'sent "Tcl channels in Node", got back "Tcl channels in Node"',
      'sent "bye", got back "bye"',
      'after close write: gets -> null, eof true',
    ]);
  });

  it('echo-server.js PORT serves a tclsh client until SIGINT', async () => {
    const server = await startProcess(process.execPath, [dist('echo-server.js'), '0'], { label: 'echo-server.js 0' });
    children.push(server);
    const ready = await server.nextLine(/^echo server listening on port \d+/, { timeoutMs: 10_000 });
    const port = /port (\d+)/.exec(ready)?.[1] ?? '';
    const r = await runTclClient(
      String.raw`
set s [socket localhost [lindex $argv 0]]
fconfigure $s -buffering line
puts $s "from tclsh"
puts [gets $s]
close $s
`,
      [port],
    );
    expect(r.stdout).toBe('from tclsh\n');
    server.signal('SIGINT');
    expect((await server.exited).code).toBe(0);
  });

  it('http-client.js: CRLF headers, then a binary body whose SHA-256 matches', async () => {
    const r = await run('http-client.js');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('status: HTTP/1.0 200 OK\n');
    expect(r.stdout).toContain('header: content-length: 65536\n');
    const announced = /header: x-sha256: ([0-9a-f]{64})/.exec(r.stdout)?.[1];
    expect(announced).toBeDefined();
    expect(r.stdout).toContain(`body: 65536 bytes, sha256 ${announced ?? ''} matches\n`);
  });

  it('async-connect.js: returns at once, writable fires on success and on refusal', async () => {
    const r = await run('async-connect.js');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^socket -async returned sock\d+ at once; connecting: true$/);
    expect(lines[1]).toMatch(/^writable fired: connected to 127\.0\.0\.1 port \d+ \(1 attempt\(s\)\)$/);
    expect(lines.slice(2, 4)).toEqual(['server says: hello, async world', 'server closed the connection']);
    expect(lines[4]).toMatch(/^socket -async returned sock\d+ at once; connecting: true$/);
    expect(lines[5]).toBe('writable fired: connect failed: connection refused');
  });

  it('nonblocking-reader.js: partial lines report blocked, whole lines are read, then eof', async () => {
    const r = await run('nonblocking-reader.js');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('line: '))).toEqual(['line: first line', 'line: second line', 'line: third line']);
    expect(lines.at(-1)).toBe('eof');
    // Every piece but the last ends mid-line: the reader saw it blocked at least that often.
    const blocked = lines.filter((l) => /^blocked: \d+ bytes of a partial line$/.test(l));
    expect(blocked.length).toBeGreaterThanOrEqual(3);
  });
});
