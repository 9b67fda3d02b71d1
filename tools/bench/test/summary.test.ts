import { describe, expect, it } from 'vitest';
import { median } from '../src/stats.js';
import { formatTable, summarize, type SampleSet } from '../src/summary.js';

const set = (impl: string, samples: number[], errors: string[] = [], better: 'higher' | 'lower' = 'higher', baseline = 'node:net'): SampleSet => ({
  workload: 'w',
  impl,
  pairing: 'same-impl',
  metric: 'm',
  unit: 'u',
  better,
  baseline,
  samples,
  errors,
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('computes median, min, max, ratio and difference against node:net', () => {
    const [base, other] = summarize([set('node:net', [10, 30, 20]), set('tclsh', [5, 15, 10])]);
    expect(base).toMatchObject({ median: 20, min: 10, max: 30, reps: 3, failed: 0, ratio: 1, diff: 0 });
    expect(other).toMatchObject({ median: 10, min: 5, max: 15, ratio: 0.5, diff: -10 });
  });

  it('keeps failed repetitions apart and has no ratio without a baseline median', () => {
    const [base, other] = summarize([set('node:net', [], ['boom', 'boom']), set('tclsh', [7], ['timed out'])]);
    expect(base).toMatchObject({ median: null, reps: 0, failed: 2, error: 'boom', ratio: null });
    expect(other).toMatchObject({ median: 7, reps: 1, failed: 1, error: 'timed out', ratio: null, diff: null });
  });

  it('shows memory rows as a signed difference in the table', () => {
    const rows = summarize([set('node:net', [1000], [], 'lower'), set('tclsh', [400], [], 'lower')]);
    const table = formatTable('w', 'demo', rows).join('\n');
    expect(table).toContain('-600 u (0.40x)');
    expect(table).toMatch(/node:net .* baseline/);
  });

  it('compares with the baseline the workload names and says which in the header', () => {
    const rows = summarize([set('node:tls', [200], [], 'higher', 'node:tls'), set('node:net', [400], [], 'higher', 'node:tls'), set('sockchan', [100], [], 'higher', 'node:tls')]);
    expect(rows.map((r) => [r.baseline, r.ratio])).toEqual([['node:tls', 1], ['node:tls', 2], ['node:tls', 0.5]]);
    const table = formatTable('w', 'demo', rows);
    expect(table[2]).toContain('vs node:tls');
    expect(table.join('\n')).toMatch(/node:tls .* baseline/);
    expect(table.join('\n')).toMatch(/sockchan .* 0\.50x/);
  });
});
