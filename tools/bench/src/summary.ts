import { median } from './stats.js';
import type { Better, Pairing, ResultRow } from './types.js';

/** All repetitions of one (workload, impl, metric): the samples and the failures. */
export interface SampleSet {
  readonly workload: string;
  readonly impl: string;
  readonly pairing: Pairing | 'custom';
  readonly metric: string;
  readonly unit: string;
  readonly better: Better;
  /** The implementation ratios refer to. */
  readonly baseline: string;
  readonly samples: number[];
  readonly errors: string[];
  /**
   * The samples by repetition number (built-in workloads): a row's sample is paired with the
   * baseline's of the same repetition, run minutes apart at most, for {@link ResultRow.paired}.
   */
  readonly byRep?: Map<number, number>;
}

/** Row / baseline of each repetition both have a sample for (the baseline's not 0). */
function perRepRatios(set: SampleSet, base: SampleSet | undefined): number[] {
  if (set.byRep === undefined || base?.byRep === undefined) return [];
  const ratios: number[] = [];
  for (const [rep, value] of set.byRep) {
    const b = base.byRep.get(rep);
    if (b !== undefined && b !== 0) ratios.push(value / b);
  }
  return ratios;
}

/** Turns sample sets into result rows, with ratios and differences against each baseline. */
export function summarize(sets: readonly SampleSet[]): ResultRow[] {
  const medianOf = (s: SampleSet): number | null => (s.samples.length > 0 ? median(s.samples) : null);
  return sets.map((set) => {
    const own = medianOf(set);
    const base = sets.find((b) => b.workload === set.workload && b.metric === set.metric && b.impl === set.baseline);
    const baseMedian = base ? medianOf(base) : null;
    const comparable = own !== null && baseMedian !== null;
    const distinctErrors = [...new Set(set.errors)];
    const paired = perRepRatios(set, base);
    return {
      workload: set.workload,
      impl: set.impl,
      pairing: set.pairing,
      metric: set.metric,
      unit: set.unit,
      better: set.better,
      baseline: set.baseline,
      median: own,
      min: set.samples.length > 0 ? Math.min(...set.samples) : null,
      max: set.samples.length > 0 ? Math.max(...set.samples) : null,
      reps: set.samples.length,
      failed: set.errors.length,
      ratio: comparable && baseMedian !== 0 ? own / baseMedian : null,
      diff: comparable ? own - baseMedian : null,
      paired: paired.length > 0 ? { median: median(paired), min: Math.min(...paired), max: Math.max(...paired), reps: paired.length } : null,
      ...(distinctErrors.length > 0 ? { error: distinctErrors.slice(0, 2).join(' / ') } : {}),
    };
  });
}

/** Formats a number for the table: thousands separators, a sensible number of digits. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** The paired column: the median of the per-repetition ratios and their range. */
function pairedCell(row: ResultRow): string {
  if (row.impl === row.baseline || row.paired === null) return '';
  const p = row.paired;
  return `${p.median.toFixed(2)}x (${p.min.toFixed(2)}-${p.max.toFixed(2)})`;
}

function comparison(row: ResultRow): string {
  if (row.impl === row.baseline) return 'baseline';
  if (row.ratio === null || row.diff === null) return '-';
  const ratio = `${row.ratio.toFixed(2)}x`;
  if (row.better === 'lower') return `${row.diff >= 0 ? '+' : ''}${formatNumber(row.diff)} ${row.unit} (${ratio})`;
  return ratio;
}

const PAIRING_NOTE: Record<Pairing | 'custom', string> = {
  'same-impl': "each row's client and server are the same implementation",
  'server-under-test': 'the row is the server; the client is the common raw node:net load generator',
  custom: 'rows as the workload module reports them',
};

/**
 * The table of one workload, as lines of text. The ratio column is headed by the rows'
 * baseline (`vs node:tls`); rows of a custom workload with several baselines get `vs baseline`
 * and a note naming each row's.
 */
export function formatTable(workload: string, description: string, rows: readonly ResultRow[]): string[] {
  const pairing = rows[0]?.pairing ?? 'custom';
  const baselines = [...new Set(rows.map((r) => r.baseline))];
  // Per-repetition ratios exist for built-in workloads run more than once.
  const withPaired = rows.some((r) => r.impl !== r.baseline && r.paired !== null && r.paired.reps > 1);
  const header = ['impl', 'metric', 'median', 'min-max', baselines.length === 1 ? `vs ${baselines[0]!}` : 'vs baseline'];
  if (withPaired) header.push('paired (range)');
  header.push('reps');
  const body = rows.map((r) => {
    const cells = [
      r.impl,
      r.metric,
      r.median === null ? 'FAILED' : `${formatNumber(r.median)} ${r.unit}`,
      r.min === null || r.max === null ? '-' : `${formatNumber(r.min)}-${formatNumber(r.max)}`,
      comparison(r),
    ];
    if (withPaired) cells.push(pairedCell(r));
    cells.push(r.failed > 0 ? `${r.reps} (+${r.failed} failed)` : String(r.reps));
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [`== ${workload}: ${description}`, `   pairing: ${PAIRING_NOTE[pairing]}`, line(header), line(widths.map((w) => '-'.repeat(w)))];
  out.push(...body.map(line));
  if (withPaired) out.push(`   paired: the median (and range) of each repetition's row / ${baselines.length === 1 ? baselines[0]! : 'baseline'} ratio`);
  if (baselines.length > 1) for (const r of rows) if (r.impl !== r.baseline) out.push(`   ${r.impl} ${r.metric}: vs ${r.baseline}`);
  for (const r of rows) if (r.error !== undefined) out.push(`   ${r.impl} ${r.metric}: ${r.error}`);
  return out;
}

/** The JSON line of one row. */
export function jsonLine(row: ResultRow): string {
  return JSON.stringify(row);
}
