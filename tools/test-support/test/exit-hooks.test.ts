import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listNetns, runCommand } from '../src/index.js';

// The child imports the built package, as sibling packages do.
const entry = fileURLToPath(new URL('../dist/index.js', import.meta.url));

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** A Node process that creates a namespace and a tclsh server, reports them, and ends without cleaning up. */
const LEAKY_CHILD = String.raw`
const t = await import(process.argv[1]);
const ns = await t.createNetns();
const tcl = await t.startTclEchoServer({ host: '127.0.0.1' });
const inside = await ns.spawn('sleep', ['30']);
console.log(JSON.stringify({ netns: ns.name, tclPid: tcl.pid, insidePid: inside.pid }));
if (process.argv[2] === 'crash') throw new Error('crashed on purpose');
process.exit(0);
`;

describe('exit hooks', () => {
  it.each(['exit', 'crash'])('leave no namespace or process behind when the owner ends (%s)', async (how) => {
    const result = await runCommand(process.execPath, ['--input-type=module', '-e', LEAKY_CHILD, '--', entry, how], { allowFailure: true, timeoutMs: 20_000 });
    expect(result.code).toBe(how === 'exit' ? 0 : 1);
    if (how === 'crash') expect(result.stderr).toContain('crashed on purpose');
    const reported = JSON.parse(result.stdout.trim()) as { netns: string; tclPid: number; insidePid: number };
    expect(reported.netns).toMatch(/^sockchan-\d+-/);
    expect(await listNetns()).not.toContain(reported.netns);
    expect(isAlive(reported.tclPid)).toBe(false);
    expect(isAlive(reported.insidePid)).toBe(false);
  });
});

/**
 * A Node process that runs tclsh peers, reports its script directory while they run, and ends
 * without awaiting any clean-up: `stop` stops its one server without awaiting, `running` leaves
 * a server and a client running, `crash` does the same and throws.
 */
const SCRIPT_DIR_CHILD = String.raw`
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
const t = await import(process.argv[1]);
const how = process.argv[2];
const mine = () => readdirSync(tmpdir()).filter((name) => name.startsWith('sockchan-tcl-' + process.pid + '-'));
const server = await t.startTclEchoServer({ host: '127.0.0.1' });
if (how !== 'stop') {
  // Not awaited; its script is written before the second server's (same tclsh check, earlier call).
  void t.runTclClient('after 20000', [], { timeoutMs: 30000 });
  await t.startTclSinkServer({ host: '127.0.0.1' });
}
const dirs = mine();
const files = dirs.map((dir) => readdirSync(join(tmpdir(), dir)).sort());
console.log(JSON.stringify({ pid: process.pid, dirs, files, tclPid: server.pid }));
if (how === 'stop') void server.stop();
if (how === 'crash') throw new Error('crashed on purpose');
process.exit(0);
`;

describe('tclsh script files', () => {
  it.each(['stop', 'running', 'crash'])('leave no directory behind when the owner ends without awaiting clean-up (%s)', async (how) => {
    const result = await runCommand(process.execPath, ['--input-type=module', '-e', SCRIPT_DIR_CHILD, '--', entry, how], { allowFailure: true, timeoutMs: 20_000 });
    expect(result.code, result.stderr).toBe(how === 'crash' ? 1 : 0);
    const reported = JSON.parse(result.stdout.trim()) as { pid: number; dirs: string[]; files: string[][]; tclPid: number };
    // While the peers ran: one directory for the process, one file per live script.
    expect(reported.dirs).toHaveLength(1);
    expect(reported.dirs[0]).toMatch(new RegExp(`^sockchan-tcl-${reported.pid}-`));
    expect(reported.files).toEqual([how === 'stop' ? ['peer-1.tcl'] : ['peer-1.tcl', 'peer-2.tcl', 'peer-3.tcl']]);
    // After it ended: nothing of it is left in the temporary directory, and no tclsh.
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith(`sockchan-tcl-${reported.pid}-`))).toEqual([]);
    expect(isAlive(reported.tclPid)).toBe(false);
  });
});
