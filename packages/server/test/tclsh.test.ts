// tclsh 8.6 as a real peer: its clients connect to our listener, and its own server's
// -sockname is the reference for addresses().
import type net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../src/index.js';
import type { Listener } from '../src/index.js';
import { CleanupList, assertTestNames, runTclClient } from '@sockchan/test-support';

beforeAll(() => assertTestNames());
const cleanup = new CleanupList();
afterEach(async () => {
  await cleanup.closeAll();
});

const CLIENT = String.raw`
lassign $argv port
foreach host {localhost 127.0.0.1 ::1} {
  set s [socket $host $port]
  fconfigure $s -translation lf
  puts $s "from tcl"
  flush $s
  gets $s line
  puts "$host|$line|[lindex [fconfigure $s -sockname] 2]"
  close $s
}
`;

/** Prints a Tcl server's -sockname with the port replaced by PORT. */
const SOCKNAME = String.raw`
set s [socket -server {apply {args {}}} {*}$argv 0]
set port [lindex [fconfigure $s -sockname] 2]
puts [string map [list $port PORT] [fconfigure $s -sockname]]
close $s
`;

function tclList(l: Listener): string {
  return l
    .addresses()
    .map(([address, host]) => `${address} ${host} PORT`)
    .join(' ');
}

describe('with tclsh', () => {
  it('serves tclsh clients over IPv6 and IPv4 on one port, telling each its address and port', async () => {
    const l = await listen(0, {
      onConnection: (s: net.Socket, address, port) => {
        cleanup.add(s);
        s.setEncoding('utf8');
        let got = '';
        s.on('data', (d: string) => {
          got += d;
          if (got.includes('\n')) s.end(`hello ${address} ${port} ${got.trim()}\n`);
        });
      },
    });
    cleanup.add(l);
    const r = await runTclClient(CLIENT, [String(l.port)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    // localhost resolves ::1 first; Tcl connects in resolver order.
    const expectedAddress = { localhost: '::1', '127.0.0.1': '127.0.0.1', '::1': '::1' } as const;
    for (const line of lines) {
      const [host, answer, tclPort] = line.split('|') as [keyof typeof expectedAddress, string, string];
      expect(answer).toBe(`hello ${expectedAddress[host]} ${tclPort} from tcl`);
    }
  });

  it('lists its addresses as tclsh lists a server\'s -sockname', async () => {
    for (const args of [[], ['-myaddr', 'dual.test'], ['-myaddr', 'v4only.test'], ['-myaddr', '::']]) {
      const tcl = await runTclClient(SOCKNAME, args);
      expect(tcl.stderr).toBe('');
      const myaddr = args[1];
      const l = await listen(0, { ...(myaddr === undefined ? {} : { myaddr }), onConnection: () => undefined });
      try {
        await l.resolveNames();
        expect(tclList(l)).toBe(tcl.stdout.trim());
      } finally {
        await l.close();
      }
    }
  });
});
