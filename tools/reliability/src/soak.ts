/**
 * `pnpm soak`: runs the soak and prints its figures (a Markdown table, then the JSON report
 * without the raw samples). Exit code 1 when a byte was lost or a connection failed.
 *
 * Options: `--connections=N` (500), `--min-bytes=N` / `--max-bytes=N` (2-4 MiB per side),
 * `--concurrency=N` (all), `--seed=N` (1), `--timeout-ms=N` (600000), `--quick`
 * (50 connections x 256 KiB), `--json` (JSON only).
 * Needs the private hosts table: run under the repository's `scripts/with-test-names` (`pnpm soak` does).
 */
import { runSoak } from './soak-runner.js';
import type { MemorySample, SoakOptions } from './soak-runner.js';
import { mib, seconds } from './format.js';

const argv = process.argv.slice(2);
const num = (name: string): number | undefined => {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? undefined : Number(a.slice(name.length + 3));
};
const quick = argv.includes('--quick');
const json = argv.includes('--json');
const options: SoakOptions = quick ? { connections: 50, minBytes: 128 * 1024, maxBytes: 256 * 1024 } : {};
for (const [flag, key] of [
  ['connections', 'connections'],
  ['min-bytes', 'minBytes'],
  ['max-bytes', 'maxBytes'],
  ['concurrency', 'concurrency'],
  ['seed', 'seed'],
  ['timeout-ms', 'timeoutMs'],
] as const) {
  const v = num(flag);
  if (v !== undefined) options[key] = v;
}
if (!json) options.onProgress = (t) => process.stderr.write(`soak: ${t}\n`);

/** The memory curve in eleven points: RSS/heapUsed in MiB at each tenth of the samples. */
function curve(samples: readonly MemorySample[]): string {
  if (samples.length === 0) return '';
  const points: string[] = [];
  for (let i = 0; i <= 10; i++) {
    const s = samples[Math.min(samples.length - 1, Math.round((i / 10) * (samples.length - 1)))] as MemorySample;
    points.push(`${Math.round(s.rss / 1048576)}/${Math.round(s.heapUsed / 1048576)}`);
  }
  return points.join(' ');
}

const r = await runSoak(options);
const { samples, ...rest } = r;
if (!json) {
  const rows: [string, string][] = [
    ['connections (IPv4 / IPv6)', `${r.connections} (${r.ipv4} / ${r.ipv6})`],
    ['connections clean (both sides verified)', String(r.clean)],
    ['empty connections (happy-eyeballs losers)', String(r.emptyConnections)],
    ['modes (format/client-server)', Object.entries(r.modes).map(([k, v]) => `${k} ${v}`).join(', ')],
    ['payload bytes sent (both directions)', `${r.bytesSent} (${mib(r.bytesSent)})`],
    ['bytes verified', `${r.bytesVerified} (${mib(r.bytesVerified)})`],
    ['lines verified', String(r.linesVerified)],
    ['writes (puts calls)', String(r.writes)],
    ['bytes lost', String(r.bytesLost)],
    ['duration', seconds(r.durationMs)],
    ['server RSS min / max / end', `${mib(r.rss.min)} / ${mib(r.rss.max)} / ${mib(r.rss.end)}`],
    ['server heapUsed min / max / end', `${mib(r.heapUsed.min)} / ${mib(r.heapUsed.max)} / ${mib(r.heapUsed.end)}`],
    ['server after close + GC: RSS / heapUsed', `${mib(r.finalRss)} / ${mib(r.finalHeapUsed)}`],
    ['server heapUsed max, first / second half of the transfer', `${mib(r.heapMaxFirstHalf)} / ${mib(r.heapMaxSecondHalf)}`],
    ['server event-loop delay p99 / max', `${r.loopDelayP99Ms} ms / ${r.loopDelayMaxMs} ms`],
    ['memory samples', String(samples.length)],
    ['server RSS / heapUsed at 0, 10, ..., 100 % of the run (MiB)', curve(samples)],
  ];
  console.log('| figure | value |\n|---|---|');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  if (r.errors.length > 0) console.log('\nProblems:\n  ' + r.errors.join('\n  '));
}
console.log(JSON.stringify({ ...rest, samples: samples.length }));
process.exitCode = r.bytesLost === 0 && r.clean === r.connections && r.completed ? 0 : 1;
