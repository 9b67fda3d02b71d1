// Runs the comparison tool (scripts/sweep.mjs) against the local tclsh 8.6.13: every encoding,
// decode and encode, must give exactly tclsh's answers. CI installs tclsh; without it this fails.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatReport, runSweep } from '../scripts/sweep.mjs';
import { convertFrom, convertTo, encodingNames } from '../src/index.js';

describe('sweep against tclsh', () => {
  it('tclsh 8.6.13 is installed', () => {
    const run = spawnSync('tclsh', [], { input: 'puts [info patchlevel]', encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    expect(run.stdout.trim()).toBe('8.6.13');
  });

  it('finds no difference in any encoding', async () => {
    const report = await runSweep({ convertFrom, convertTo });
    if (report.differences > 0) console.log(formatReport(report));
    // tclsh has every name but `binary` (a channel-only encoding, covered by the channel vectors).
    expect(report.rows.map((r) => r.encoding).sort()).toEqual(encodingNames().filter((n) => n !== 'binary'));
    for (const row of report.rows) expect(row.decodeProbes + row.encodeProbes).toBeGreaterThan(300);
    expect(report.differences).toBe(0);
  }, 120_000);
});
