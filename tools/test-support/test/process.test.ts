import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CleanupList, TestSupportError, runCommand, startProcess } from '../src/index.js';

const cleanup = new CleanupList();
afterEach(() => cleanup.closeAll());

/** True while `pid` runs (a zombie, killed but not yet reaped by its new parent, counts as dead). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

describe('runCommand', () => {
  it('collects stdout, stderr and the exit code; feeds stdin', async () => {
    const result = await runCommand('sh', ['-c', 'cat; echo err >&2; exit 3'], { input: 'in-data', allowFailure: true });
    expect(result).toEqual({ code: 3, signal: null, timedOut: false, stdout: 'in-data', stderr: 'err\n' });
  });

  it('rejects on a non-zero exit, quoting stderr', async () => {
    const error = await runCommand('sh', ['-c', 'echo why-it-failed >&2; exit 1']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TestSupportError);
    expect((error as TestSupportError).code).toBe('ERR_TEST_SUPPORT_COMMAND_FAILED');
    expect((error as Error).message).toContain('why-it-failed');
  });

  it('kills the whole process group after the timeout', async () => {
    // The shell forks a background sleep and reports its pid before it waits.
    const result = await runCommand('sh', ['-c', 'sleep 30 & echo $!; wait'], { timeoutMs: 300, allowFailure: true });
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe('SIGKILL');
    const grandchild = Number(result.stdout.trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(isAlive(grandchild)).toBe(false);
  });

  it('finishes after a timeout even when an escaped process keeps its output pipe open', async () => {
    let escaped = 0;
    try {
      const result = await runCommand('sh', ['-c', `setsid sh -c 'echo escaped $$; exec sleep 20' & exec sleep 20`], { timeoutMs: 300, allowFailure: true });
      escaped = Number(/^escaped (\d+)$/m.exec(result.stdout)?.[1]);
      expect(result.timedOut).toBe(true);
      expect(escaped).toBeGreaterThan(0);
      // It left the group, so only the test can end it (below); what matters is that we returned.
      expect(isAlive(escaped)).toBe(true);
    } finally {
      if (escaped > 0) process.kill(escaped, 'SIGKILL');
    }
  });

  it('rejects with ERR_TEST_SUPPORT_MISSING_TOOL for a missing command', async () => {
    await expect(runCommand('/nonexistent/sockchan-no-such-tool', [])).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_MISSING_TOOL' });
  });
});

describe('ManagedProcess', () => {
  it('delivers stdout lines in order through a cursor, across chunk boundaries', async () => {
    const child = cleanup.add(await startProcess('sh', ['-c', 'printf "a\\nPART"; sleep 0.05; printf "IAL\\nb\\r\\nb\\n"; cat']));
    expect(await child.nextLine()).toBe('a');
    expect(await child.nextLine(/^b$/)).toBe('b');
    // The second wait for the same pattern gets the second line, not the first again.
    expect(await child.nextLine('b')).toBe('b');
    expect(child.lines).toEqual(['a', 'PARTIAL', 'b', 'b']);
    child.writeLine('echoed');
    expect(await child.nextLine('echoed')).toBe('echoed');
  });

  it('nextJson parses the next JSON line, skipping other output', async () => {
    const child = cleanup.add(await startProcess('sh', ['-c', `echo starting; echo '{"a":1}'; echo '[2]'; echo '{broken'; exec cat`]));
    expect(await child.nextJson()).toEqual({ a: 1 });
    expect(await child.nextJson<number[]>()).toEqual([2]);
    await expect(child.nextJson()).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_COMMAND_FAILED' });
  });

  it('rejects a wait that times out, quoting output, and keeps running', async () => {
    const child = cleanup.add(await startProcess('sh', ['-c', 'echo hello; echo problem >&2; exec cat']));
    await expect(child.nextLine('hello')).resolves.toBe('hello');
    const error = await child.nextLine('never', { timeoutMs: 100 }).catch((e: unknown) => e);
    expect((error as TestSupportError).code).toBe('ERR_TEST_SUPPORT_TIMEOUT');
    expect((error as Error).message).toContain('problem');
    expect(child.exitStatus).toBeUndefined();
  });

  it('rejects pending and later waits when the process exits', async () => {
    const child = cleanup.add(await startProcess('sh', ['-c', 'read x; echo bye; exit 4']));
    const waiting = child.nextLine('never');
    child.writeLine('go');
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_EXITED' });
    expect(await child.exited).toEqual({ code: 4, signal: null });
    await expect(child.nextLine('x')).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_EXITED' });
    expect(() => child.writeLine('late')).toThrow(TestSupportError);
    // A line that was printed before the exit is still found.
    await expect(child.nextLine('bye')).resolves.toBe('bye');
  });

  it('stop() ends it with SIGTERM, kills its group, and is idempotent', async () => {
    const child = await startProcess('sh', ['-c', 'sleep 30 & echo $!; wait']);
    const grandchild = Number(await child.nextLine(/^\d+$/));
    const first = await child.stop();
    expect(first.signal).toBe('SIGTERM');
    expect(await child.stop()).toEqual(first);
    expect(isAlive(child.pid)).toBe(false);
    expect(isAlive(grandchild)).toBe(false);
  });

  it('stop() escalates to SIGKILL when SIGTERM is ignored', async () => {
    const child = await startProcess('sh', ['-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done']);
    await child.nextLine('ready');
    const exit = await child.stop(200);
    expect(exit.signal).toBe('SIGKILL');
  });

  it('stop() finishes even when an escaped process keeps its output pipe open', async () => {
    // The escaped shell reports its pid only once it runs in a session of its own.
    const child = await startProcess('sh', ['-c', `setsid sh -c 'echo escaped $$; exec sleep 20' & exec sleep 20`]);
    const escaped = Number((await child.nextLine(/^escaped \d+$/)).split(' ')[1]);
    try {
      const exit = await child.stop(200);
      expect(exit.signal).toBe('SIGTERM');
      expect(isAlive(child.pid)).toBe(false);
      // Still running (outside the group), yet stop() returned.
      expect(isAlive(escaped)).toBe(true);
    } finally {
      process.kill(escaped, 'SIGKILL');
    }
  });

  it('is killed after its lifetime bound', async () => {
    const child = cleanup.add(await startProcess('sleep', ['30'], { lifetimeMs: 200 }));
    expect(await child.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('rejects with ERR_TEST_SUPPORT_MISSING_TOOL for a missing command', async () => {
    await expect(startProcess('/nonexistent/sockchan-no-such-tool', [])).rejects.toMatchObject({ code: 'ERR_TEST_SUPPORT_MISSING_TOOL' });
  });
});
