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

  it('pairs each repetition with the baseline of the same repetition: median and range of those ratios', () => {
    const byRep = (values: Array<[number, number]>): Map<number, number> => new Map(values);
    // Repetition 2 ran in a slow phase for both rows; repetition 4 failed for the baseline.
    const base = { ...set('node:tls', [100, 50, 110], ['boom'], 'higher', 'node:tls'), byRep: byRep([[1, 100], [2, 50], [3, 110]]) };
    const row = { ...set('sockchan', [96, 47, 100, 99], [], 'higher', 'node:tls'), byRep: byRep([[1, 96], [2, 47], [3, 100], [4, 99]]) };
    const [b, r] = summarize([base, row]);
    expect(b!.paired).toEqual({ median: 1, min: 1, max: 1, reps: 3 });
    expect(r!.ratio).toBeCloseTo(97.5 / 100, 9); // medians of all samples: 97.5 against 100
    expect(r!.paired!.reps).toBe(3);
    expect(r!.paired!.median).toBeCloseTo(0.94, 9); // 0.96, 0.94, 0.909
    expect(r!.paired!.min).toBeCloseTo(100 / 110, 9);
    expect(r!.paired!.max).toBeCloseTo(0.96, 9);
    const table = formatTable('w', 'demo', [b!, r!]).join('\n');
    expect(table).toMatch(/paired \(range\)/);
    expect(table).toMatch(/sockchan .* 0\.97x\s+0\.94x \(0\.91-0\.96\)\s+4$/m);
    expect(table).toContain("paired: the median (and range) of each repetition's row / node:tls ratio");
  });

  it('has no paired ratios without repetitions (custom workloads) and no paired column for one repetition', () => {
    const [b, r] = summarize([set('plain', [10]), set('json', [5])].map((x) => ({ ...x, baseline: 'plain' })));
    expect(r!.paired).toBeNull();
    expect(formatTable('w', 'demo', [b!, r!]).join('\n')).not.toMatch(/paired/);
    const one = summarize([
      { ...set('node:net', [10]), byRep: new Map([[1, 10]]) },
      { ...set('tclsh', [5]), byRep: new Map([[1, 5]]) },
    ]);
    expect(one[1]!.paired).toEqual({ median: 0.5, min: 0.5, max: 0.5, reps: 1 });
    expect(formatTable('w', 'demo', one).join('\n')).not.toMatch(/paired/);
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
