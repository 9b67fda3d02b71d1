import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand, startProcess, startTclServer } from '@sockchan/test-support';
import type { ManagedProcess, TclPeer } from '@sockchan/test-support';
import { socket } from 'sockchan';
import { clockFormat } from '../src/clock.js';
import { runTimeClient } from '../src/time-client.js';
import { startTimeServer } from '../src/time-server.js';

const dist = (name: string): string => fileURLToPath(new URL(`../dist/${name}`, import.meta.url));
const children: (ManagedProcess | TclPeer)[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.stop()));
});

describe('the demo', () => {
  it('runs the time server and client end to end and exits by itself with code 0', async () => {
    const r = await runCommand(process.execPath, [dist('demo.js')], { timeoutMs: 20_000 });
    expect(r.code).toBe(0);
    expect(r.timedOut).toBe(false);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^Time server listening on port \d+$/);
    expect(lines).toContainEqual(expect.stringMatching(/^Connection from (127\.0\.0\.1|::1) registered$/));
    expect(lines).toContainEqual(expect.stringMatching(/^The time on localhost is \w{3} \w{3} \d{2} \d{2}:\d{2}:\d{2} \S+ \d{4}$/));
    // The demo waits a little over a second before asking.
    expect(lines).toContainEqual(expect.stringMatching(/^That is [1-9]\d*s since the server started$/));
  });

  it('still works when port 9900 is taken', async () => {
    const holder = await socket.server((ch) => void ch.close(), 0);
    try {
      const r = await runCommand(process.execPath, [dist('demo.js')], { timeoutMs: 20_000, env: { ...process.env, TIME_SERVER_PORT: String(holder.port) } });
      expect(r.code).toBe(0);
      const port = Number(/listening on port (\d+)/.exec(r.stdout)?.[1]);
      expect(port).not.toBe(holder.port);
      expect(r.stdout).toMatch(/That is \d+s since the server started/);
    } finally {
      await holder.close();
    }
  });
});

describe('the examples one by one', () => {
  it('time-server.js and time-client.js as separate programs', async () => {
    const server = await startProcess(process.execPath, [dist('time-server.js'), '0'], { label: 'time-server' });
    children.push(server);
    const ready = await server.nextLine(/^Time server listening on port \d+$/, { timeoutMs: 10_000 });
    const port = /(\d+)$/.exec(ready)?.[1] ?? '';
    const r = await runCommand(process.execPath, [dist('time-client.js'), 'localhost', port], { timeoutMs: 10_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^The time on localhost is .+\nThat is \d+s since the server started\n$/);
    await server.nextLine(/^Connection from (127\.0\.0\.1|::1) registered$/);
  });

  it('the client talks to the manual\'s server run by tclsh', async () => {
    const tcl = await startTclServer(String.raw`
      proc Server {startTime channel clientaddr clientport} {
        puts "Connection from $clientaddr registered"
        set now [clock seconds]
        puts $channel [clock format $now]
        puts $channel "[expr {$now - $startTime}] since start"
        close $channel
      }
      sockchan_listen [list Server [clock seconds]]
    `);
    children.push(tcl);
    const port = tcl.port;
    const out: string[] = [];
    await runTimeClient('localhost', port, (l) => out.push(l));
    expect(out[0]).toMatch(/^The time on localhost is /);
    expect(out[1]).toMatch(/^That is \d+s since the server started$/);
  });

  it('tclsh runs the manual\'s client against our server', async () => {
    const lines: string[] = [];
    const server = await startTimeServer(0, (l) => lines.push(l));
    try {
      const r = await runCommand('tclsh', [], {
        timeoutMs: 10_000,
        input: String.raw`
          set server localhost
          set sockChan [socket $server ${server.port}]
          gets $sockChan line1
          gets $sockChan line2
          close $sockChan
          puts "The time on $server is $line1"
          puts "That is [lindex $line2 0]s since the server started"
        `,
      });
      expect(r.stdout).toMatch(/^The time on localhost is .+\nThat is \d+s since the server started\n$/);
      expect(lines).toEqual([expect.stringMatching(/^Connection from .+ registered$/)]);
    } finally {
      await server.close();
    }
  });

  it('clockFormat matches tclsh\'s clock format', () => {
    const seconds = [0, 1_700_000_000, 1_800_000_123];
    const tcl = execFileSync('tclsh', [], {
      input: seconds.map((s) => `puts [clock format ${s}]`).join('\n'),
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC' },
    }).trim().split('\n');
    const before = process.env['TZ'];
    process.env['TZ'] = 'UTC';
    try {
      expect(seconds.map((s) => clockFormat(s))).toEqual(tcl);
    } finally {
      if (before === undefined) delete process.env['TZ'];
      else process.env['TZ'] = before;
    }
  });
});
