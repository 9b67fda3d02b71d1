import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BenchChild, RowTimeout, withDeadline } from '../src/child.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

describe('withDeadline', () => {
  it('kills a child that never answers and fails the run with RowTimeout', async () => {
    let child: BenchChild | undefined;
    const run = withDeadline(1, async (track) => {
      child = track(new BenchChild({ runtime: 'node', script: join(fixtures, 'hang.mjs') }, 'server', { count: 5 }, 'hang server'));
      return child.expect('READY ');
    });
    // The child never answers: the rejection can only come from the deadline.
    await expect(run).rejects.toBeInstanceOf(RowTimeout);
    const exit = await child!.exited;
    expect(exit.signal).toBe('SIGKILL');
    // The role and key=value parameters reached the script.
    expect(child!.stderrNote()).toContain('hang started as server count=5');
  });

  it('reports a child that dies, with the tail of its stderr', async () => {
    const run = withDeadline(20, async (track) => {
      const child = track(new BenchChild({ runtime: 'node', script: join(fixtures, 'crash.mjs') }, 'server', {}, 'crash server'));
      return child.expect('READY ');
    });
    await expect(run).rejects.toThrow(/^crash server ended \(exit 3\): crash: out of luck$/);
  });
});
