import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CleanupList, runTclClient, startProcess } from '@sockchan/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel } from '../src/index.js';

/**
 * Issue 15, the input side, on real sockets with `tclsh` 8.6 doing the same steps: a CR LF's LF
 * after a mode switch (item 1), eof before the eofchar (item 4), and the HTTP/1.x pattern (headers
 * by gets in auto mode, then the body in binary) against `python3 -m http.server`.
 *
 * A scripted Node server sends the parts of a scenario: the first at once, each next one when the
 * client asks (`more`), so "the CR and the LF arrive in separate reads" is a step, not a timing.
 * The same steps run in tclsh and on a Channel; each step prints its result as hex, `eof` and (where
 * the scenario says) `chan pending input`, and the two transcripts must be equal.
 */

const peers = new CleanupList();
const tempDirs: string[] = [];
afterEach(async () => {
  await peers.closeAll();
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A step: `gets`, `read`, `readn N`, `bytes` (readBytes; in Tcl `-translation binary` then read), `more`, `cfg OPTION VALUE`. */
type Step = ['gets'] | ['read'] | ['readn', number] | ['bytes'] | ['more'] | ['cfg', string, string];

interface Scenario {
  name: string;
  /** What the server sends: the first part at once, each next one on `more`. */
  parts: string[];
  /** The server closes after the last part (else when the client closes). */
  close: boolean;
  steps: Step[];
  /** Compare `chan pending input` too. */
  pending: boolean;
  /** The last line of the transcript, as tclsh 8.6.13 printed it when this test was written. */
  last: string;
}

/** Serves every connection the same parts (latin-1 bytes), the next one on each line it receives. */
async function scriptedServer(parts: string[], close: boolean): Promise<number> {
  const server = net.createServer((s) => {
    let next = 0;
    const sendNext = (): void => {
      if (next < parts.length) s.write(Buffer.from(parts[next++] as string, 'latin1'));
      if (next === parts.length && close) s.end();
    };
    let pendingText = '';
    s.on('data', (d: Buffer) => {
      pendingText += d.toString('latin1');
      for (let i = pendingText.indexOf('\n'); i >= 0; i = pendingText.indexOf('\n')) {
        pendingText = pendingText.slice(i + 1);
        sendNext();
      }
    });
    s.on('error', () => undefined);
    sendNext();
  });
  peers.add(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

const hexOf = (s: string): string => Buffer.from(s, 'utf8').toString('hex');
const tclBytes = (s: string): string => (s === '' ? '{}' : `[binary format H* ${Buffer.from(s, 'latin1').toString('hex')}]`);

const TCL_STEPS = String.raw`
set c [socket 127.0.0.1 [lindex $argv 0]]
set withPending [lindex $argv 1]
proc state {c} {
  set s "eof=[eof $c]"
  if {$::withPending} { append s " pend=[chan pending input $c]" }
  return $s
}
foreach step $steps {
  set op [lindex $step 0]
  switch -- $op {
    more { puts -nonewline $c "more\n"; flush $c; continue }
    cfg { fconfigure $c [lindex $step 1] [lindex $step 2]; puts "cfg [state $c]"; continue }
    gets { set n [gets $c r] }
    read { set r [read $c]; set n [string length $r] }
    readn { set r [read $c [lindex $step 1]]; set n [string length $r] }
    bytes { fconfigure $c -translation binary; set r [read $c]; set n [string length $r] }
  }
  binary scan [encoding convertto utf-8 $r] H* h
  puts "$op $n $h [state $c]"
}
close $c
`;

async function tclTranscript(port: number, sc: Scenario): Promise<string[]> {
  const steps = sc.steps.map((st) => (st[0] === 'cfg' ? `[list cfg ${st[1]} ${tclBytes(st[2])}]` : `[list ${st.join(' ')}]`));
  const script = `set steps [list ${steps.join(' ')}]\n${TCL_STEPS}`;
  const r = await runTclClient(script, [String(port), sc.pending ? '1' : '0'], { env: { ...process.env, LANG: 'C.UTF-8' } });
  if (r.code !== 0) throw new Error(`tclsh failed: ${r.stderr}`);
  return r.stdout.trimEnd().split('\n');
}

async function connect(port: number): Promise<net.Socket> {
  const s = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', resolve);
    s.once('error', reject);
  });
  return s;
}

async function sockchanTranscript(port: number, sc: Scenario): Promise<string[]> {
  const sock = await connect(port);
  const ch = new Channel(sock);
  const out: string[] = [];
  const state = (): string => `eof=${ch.eof() ? 1 : 0}` + (sc.pending ? ` pend=${ch.pending('input')}` : '');
  try {
    for (const step of sc.steps) {
      let r: string;
      let n: number;
      switch (step[0]) {
        case 'more':
          await ch.puts('more');
          await ch.flush();
          continue;
        case 'cfg':
          ch.configure({ [step[1].slice(1)]: step[2] });
          out.push(`cfg ${state()}`);
          continue;
        case 'gets': {
          const line = await ch.gets();
          r = line ?? '';
          n = line === null ? -1 : line.length;
          break;
        }
        case 'read':
          r = await ch.read();
          n = r.length;
          break;
        case 'readn':
          r = await ch.read(step[1]);
          n = r.length;
          break;
        case 'bytes':
          r = Buffer.from(await ch.readBytes()).toString('latin1');
          n = r.length;
          break;
      }
      out.push(`${step[0]} ${n} ${hexOf(r)} ${state()}`);
    }
  } finally {
    await ch.close();
  }
  return out;
}

const EOF = '\x1a';
const scenarios: Scenario[] = [
  // Item 1: the LF of a CR LF, buffered when gets took the line, is consumed with it.
  { name: 'A CR LF CR LF BODY in one write: gets, gets, -translation binary, read', parts: ['A\r\n\r\nBODY'], close: true,
    steps: [['gets'], ['gets'], ['cfg', '-translation', 'binary'], ['read']], pending: false, last: 'read 4 424f4459 eof=1' },
  { name: 'the same, the body by readBytes', parts: ['A\r\n\r\nBODY'], close: true,
    steps: [['gets'], ['gets'], ['bytes']], pending: false, last: 'bytes 4 424f4459 eof=1' },
  { name: 'gets on A CR LF B: pending 1, then the binary read gives B', parts: ['A\r\nB'], close: true,
    steps: [['gets'], ['cfg', '-translation', 'binary'], ['read']], pending: true, last: 'read 1 42 eof=1 pend=0' },
  { name: 'CR and LF in separate reads: the LF comes back in binary', parts: ['A\r', '\nBODY'], close: true,
    steps: [['gets'], ['more'], ['cfg', '-translation', 'binary'], ['read']], pending: false, last: 'read 5 0a424f4459 eof=1' },
  { name: 'CR and LF in separate reads: auto drops the LF', parts: ['A\r', '\nBODY'], close: true,
    steps: [['gets'], ['more'], ['read']], pending: false, last: 'read 4 424f4459 eof=1' },
  { name: 'read 2 stops after the CR: the LF stays for binary', parts: ['A\r\nB\r\nC'], close: true,
    steps: [['readn', 2], ['cfg', '-translation', 'binary'], ['read']], pending: false, last: 'read 5 0a420d0a43 eof=1' },
  { name: 'read 2 stops after the CR: auto drops the LF', parts: ['A\r\nB\r\nC'], close: true,
    steps: [['readn', 2], ['read']], pending: false, last: 'read 3 420a43 eof=1' },
  { name: 'read 1 twice: the LF stays', parts: ['A\r\nB'], close: true,
    steps: [['readn', 1], ['readn', 1], ['cfg', '-translation', 'binary'], ['read']], pending: false, last: 'read 2 0a42 eof=1' },
  { name: 'read 3 past the CR LF: binary gets the rest', parts: ['A\r\nB\r\nC'], close: true,
    steps: [['readn', 3], ['cfg', '-translation', 'binary'], ['read']], pending: false, last: 'read 3 0d0a43 eof=1' },
  { name: 'gets, then -translation lf', parts: ['A\r\nB\r\nC'], close: true,
    steps: [['gets'], ['cfg', '-translation', 'lf'], ['read']], pending: false, last: 'read 4 420d0a43 eof=1' },
  { name: 'gets twice, then -encoding iso8859-1 (auto stays)', parts: ['A\r\n\r\nBODY\r\nX'], close: true,
    steps: [['gets'], ['gets'], ['cfg', '-encoding', 'iso8859-1'], ['read']], pending: false, last: 'read 6 424f44590a58 eof=1' },
  { name: 'gets twice, then -encoding binary', parts: ['A\r\n\r\nBODY'], close: true,
    steps: [['gets'], ['gets'], ['cfg', '-encoding', 'binary'], ['read']], pending: false, last: 'read 4 424f4459 eof=1' },
  { name: 'gets in auto, then crlf lines', parts: ['A\r\nB\r\nC\n\r\nD'], close: true,
    steps: [['gets'], ['cfg', '-translation', 'crlf'], ['gets'], ['gets'], ['gets']], pending: false, last: 'gets 1 44 eof=1' },
  { name: 'CR at the end, then -translation crlf: the LF is data', parts: ['A\r', '\nB\r\n'], close: true,
    steps: [['gets'], ['cfg', '-translation', 'crlf'], ['more'], ['gets'], ['gets']], pending: true, last: 'gets -1  eof=1 pend=0' },
  { name: 'CR at the end, then -translation lf: the LF ends an empty line', parts: ['A\r', '\nB\n'], close: true,
    steps: [['gets'], ['cfg', '-translation', 'lf'], ['more'], ['gets'], ['gets']], pending: true, last: 'gets 1 42 eof=0 pend=0' },
  { name: 'CR at the end, then -encoding iso8859-1: the LF is still dropped', parts: ['A\r', '\nB\n'], close: true,
    steps: [['gets'], ['cfg', '-encoding', 'iso8859-1'], ['more'], ['gets'], ['gets']], pending: true, last: 'gets -1  eof=1 pend=0' },
  // Item 4: eof is set by the operation that reaches the eofchar.
  { name: 'eofchar: gets ab (eof 0), gets cd (eof 1), gets -1', parts: [`ab\ncd${EOF}ef\n`], close: false,
    steps: [['cfg', '-eofchar', EOF], ['gets'], ['gets'], ['gets']], pending: true, last: 'gets -1  eof=1 pend=4' },
  { name: 'eofchar right after a line end', parts: [`ab\n${EOF}ef\n`], close: false,
    steps: [['cfg', '-eofchar', EOF], ['gets'], ['gets']], pending: true, last: 'gets -1  eof=1 pend=4' },
  { name: 'eofchar: read 2 stops before it (eof 0), the next read reaches it', parts: [`ab${EOF}cd`], close: false,
    steps: [['cfg', '-eofchar', EOF], ['readn', 2], ['readn', 2]], pending: true, last: 'readn 0  eof=1 pend=3' },
  { name: 'eofchar: read 2 exactly up to it', parts: [`ab${EOF}`], close: false,
    steps: [['cfg', '-eofchar', EOF], ['readn', 2]], pending: true, last: 'readn 2 6162 eof=0 pend=1' },
  { name: 'eofchar: read 1 three times', parts: [`ab${EOF}cd`], close: false,
    steps: [['cfg', '-eofchar', EOF], ['readn', 1], ['readn', 1], ['readn', 1]], pending: true, last: 'readn 0  eof=1 pend=3' },
  { name: 'eofchar: read all', parts: [`ab\ncd${EOF}ef`], close: false,
    steps: [['cfg', '-eofchar', EOF], ['read'], ['read']], pending: true, last: 'read 0  eof=1 pend=3' },
  { name: 'eofchar met, then cleared: eof 0 and the rest is read', parts: [`ab\ncd${EOF}ef\n`], close: true,
    steps: [['cfg', '-eofchar', EOF], ['gets'], ['gets'], ['cfg', '-eofchar', ''], ['gets'], ['gets']], pending: true, last: 'gets -1  eof=1 pend=0' },
  { name: 'eofchar cleared before it is met', parts: [`ab\ncd${EOF}ef\n`], close: true,
    steps: [['cfg', '-eofchar', EOF], ['gets'], ['cfg', '-eofchar', ''], ['gets'], ['gets']], pending: true, last: 'gets -1  eof=1 pend=0' },
  { name: 'eofchar met, set again: eof 0 until an operation reaches it again', parts: [`ab${EOF}cd\n`], close: false,
    steps: [['cfg', '-eofchar', EOF], ['read'], ['cfg', '-eofchar', EOF], ['read']], pending: true, last: 'read 0  eof=1 pend=4' },
  { name: 'eofchar set, gets, then -translation binary (no eofchar): the rest', parts: [`ab\ncd${EOF}ef`], close: true,
    steps: [['cfg', '-eofchar', EOF], ['gets'], ['cfg', '-translation', 'binary'], ['read']], pending: true, last: 'read 5 63641a6566 eof=1 pend=0' },
  { name: 'eofchar met, then -translation binary: eof stays and reads stay empty (sticky)', parts: [`ab${EOF}cd`], close: true,
    steps: [['cfg', '-eofchar', EOF], ['read'], ['cfg', '-translation', 'binary'], ['read'], ['cfg', '-eofchar', ''], ['read']], pending: true, last: 'read 3 1a6364 eof=1 pend=0' },
  { name: 'eofchar met, then -translation lf and -encoding: eof stays until -eofchar is set', parts: [`ab${EOF}cd\n`], close: false,
    steps: [['cfg', '-eofchar', EOF], ['read'], ['cfg', '-translation', 'lf'], ['cfg', '-encoding', 'iso8859-1'], ['read'], ['cfg', '-eofchar', EOF], ['readn', 1]], pending: true, last: 'readn 0  eof=1 pend=4' },
  { name: 'stream end: a partial last line sets eof', parts: ['ab\ncd'], close: true,
    steps: [['gets'], ['gets'], ['gets']], pending: true, last: 'gets -1  eof=1 pend=0' },
  { name: 'stream end: read of exactly what is left leaves eof 0', parts: ['abc'], close: true,
    steps: [['readn', 3], ['readn', 3]], pending: true, last: 'readn 0  eof=1 pend=0' },
];

describe('issue 15, input side: the same steps in tclsh and on a Channel', () => {
  for (const sc of scenarios) {
    it(sc.name, async () => {
      const port = await scriptedServer(sc.parts, sc.close);
      const tcl = await tclTranscript(port, sc);
      const ours = await sockchanTranscript(port, sc);
      expect(tcl.at(-1)).toBe(sc.last);
      expect(ours).toEqual(tcl);
    });
  }
});

describe('issue 15: HTTP/1.0 from python3 -m http.server, headers by gets (auto), body in binary', () => {
  it('the body equals the file byte for byte, as tclsh reads it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockchan-http-'));
    tempDirs.push(dir);
    // 1,030 bytes: CR LF at the start of the body (right after the blank line's CR LF), CR LF
    // and lone CRs and LFs inside, every byte value.
    const body = Buffer.alloc(1030);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + 3) & 0xff;
    body.set([0x0d, 0x0a, 0x0d, 0x0a], 0);
    body.set([0x0d, 0x0a], 500);
    body.set([0x0d], 700);
    body.set([0x0a], 900);
    writeFileSync(join(dir, 'f'), body);
    const http = peers.add(await startProcess('python3', ['-u', '-m', 'http.server', '--bind', '127.0.0.1', '0', '--directory', dir], { label: 'python3 http.server' }));
    const announced = await http.nextLine(/^Serving HTTP on .* port \d+/);
    const port = Number(/port (\d+)/.exec(announced)?.[1]);

    const tcl = await runTclClient(
      String.raw`
set s [socket 127.0.0.1 [lindex $argv 0]]
puts $s "GET /f HTTP/1.0\n"
flush $s
set headers 0
while {[gets $s line] > 0} { incr headers }
fconfigure $s -translation binary
set b [read $s]
close $s
binary scan $b H* h
puts "$headers $h"
`,
      [String(port)],
    );
    if (tcl.code !== 0) throw new Error(`tclsh failed: ${tcl.stderr}`);
    const [tclHeaders, tclHex] = tcl.stdout.trim().split(' ');

    const ch = new Channel(await connect(port));
    try {
      await ch.puts('GET /f HTTP/1.0\n');
      await ch.flush();
      expect(await ch.gets()).toMatch(/^HTTP\/1\.0 200 /);
      let headers = 1;
      for (let line = await ch.gets(); line !== null && line !== ''; line = await ch.gets()) headers++;
      ch.configure({ translation: 'binary' });
      const got = Buffer.from(await ch.read(), 'latin1');
      expect(got.toString('hex')).toBe(body.toString('hex'));
      expect(got.toString('hex')).toBe(tclHex);
      expect(String(headers)).toBe(tclHeaders);
    } finally {
      await ch.close();
    }
  });
});
