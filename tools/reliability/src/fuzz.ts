/**
 * `pnpm fuzz`: runs every fuzz property with a larger budget and prints a table (runs, time,
 * result) and a JSON summary. Exit code 1 when a property failed (its counterexample is printed).
 *
 * Options: `--runs=N` (base runs per property, default 100000; expensive properties get fewer),
 * `--seed=N` (fast-check seed; default random, printed), `--only=substring`.
 * Needs the private hosts table (the socket() property resolves test names): run under the
 * repository's `scripts/with-test-names` (`pnpm fuzz` does).
 */
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { offlineProperties, serverCallProperty, socketCallProperty, unixCallProperty } from './fuzz-properties.js';
import type { FuzzOutcome } from './fuzz-properties.js';
import { leakedHandles, networkResources } from './leaks.js';

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const baseRuns = Number(opt('runs') ?? 100000);
const seed = Number(opt('seed') ?? Math.floor(Math.random() * 2 ** 31));
const only = opt('only');

// A port nothing listens on: the socket() property connects there (refused at once).
const probe = net.createServer();
await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
const refusedPort = (probe.address() as net.AddressInfo).port;
await new Promise<void>((resolve) => probe.close(() => resolve()));

const baseline = networkResources();
// The Unix-socket property's paths stay inside this directory.
const unixDir = mkdtempSync(join(tmpdir(), 'sockchan-fuzz-unix-'));
const props = [...offlineProperties, socketCallProperty(refusedPort), serverCallProperty, unixCallProperty(unixDir)].filter(
  (p) => only === undefined || p.name.includes(only),
);
const results: FuzzOutcome[] = [];
for (const p of props) {
  const runs = Math.max(10, Math.round(baseRuns / p.weight));
  process.stderr.write(`fuzz: ${p.name} (${runs} runs)...\n`);
  const r = await p.check(runs, seed);
  results.push(r);
  if (r.failed) console.log(`\nFAILED ${p.name}\n${r.report ?? ''}\n`);
}
rmSync(unixDir, { recursive: true, force: true });
const leaked = await leakedHandles(baseline);
console.log('| property | inputs tried | time | result |\n|---|---:|---:|---|');
for (const r of results) console.log(`| ${r.name} | ${r.runs} | ${(r.ms / 1000).toFixed(1)} s | ${r.failed ? 'FAILED' : 'ok'} |`);
const total = results.reduce((n, r) => n + r.runs, 0);
console.log(`\nseed ${seed}; ${total} inputs in all; handles left: ${leaked.length === 0 ? 'none' : leaked.join(' ')}`);
console.log(JSON.stringify({ seed, total, failed: results.filter((r) => r.failed).map((r) => r.name), leaked, results: results.map(({ report: _r, ...rest }) => rest) }));
process.exitCode = results.some((r) => r.failed) || leaked.length > 0 ? 1 : 0;
