// Adapter: runs @sockchan/async-connect's namespace benchmark (packages/async-connect/bench)
// and turns its rows (a median per case and contender) into the harness's custom rows.
// A contender that never connected within the bound is reported with the bound as its sample
// and says so in its name, so a "never" is never shown as a fast result.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../paths.js';
import type { CustomRow, CustomRunOptions } from '../types.js';

interface ConnectBenchRow {
  case: string;
  contender: string;
  medianMs: number | null;
  samples: number;
  failures: number;
  note: string;
}

/** Runs the connect benchmark (needs root: it creates a network namespace). */
export async function run(options: CustomRunOptions): Promise<CustomRow[]> {
  const url = pathToFileURL(join(repoRoot, 'packages', 'async-connect', 'bench', 'connect.mjs')).href;
  const mod = (await import(url)) as { runConnectBench(o: { quick: boolean }): Promise<{ rows: ConnectBenchRow[] }> };
  const { rows } = await mod.runConnectBench({ quick: options.quick });
  const baselines: Record<string, string> = {};
  for (const r of rows) {
    if (r.contender.startsWith('node')) baselines[r.case] = label(r);
  }
  return rows.map((r) => ({
    impl: label(r),
    metric: `connect ms: ${r.case}`,
    unit: 'ms',
    better: 'lower' as const,
    samples: [r.medianMs ?? 3000],
    ...(baselines[r.case] === undefined ? {} : { baseline: baselines[r.case] }),
  }));
}

function label(r: ConnectBenchRow): string {
  return r.medianMs === null ? `${r.contender} [never connected]` : r.contender;
}
