import { readFileSync } from 'node:fs';
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
