// `node bench/dist/bench/cli.js [accept] [idle] [--quick] [--json] [--kinds=net,listener,tclsh]`
// Prints a Markdown table (or JSON rows) of the accept and idle benchmarks.
import { SERVER_KINDS, formatTable, runAcceptBench, runIdleBench } from './index.js';
import type { BenchRow, ServerKind } from './index.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const kindsArg = args.find((a) => a.startsWith('--kinds='));
const kinds = kindsArg === undefined ? SERVER_KINDS : (kindsArg.slice('--kinds='.length).split(',') as ServerKind[]);
const wanted = args.filter((a) => !a.startsWith('--'));
const run = (name: string): boolean => wanted.length === 0 || wanted.includes(name);

const rows: BenchRow[] = [];
if (run('accept')) {
  rows.push(...(await runAcceptBench(quick ? { kinds, rounds: 3, serialCount: 500, parallelCount: 1000 } : { kinds })));
}
if (run('idle')) {
  // tclsh 8.6 cannot go past ~1,020 descriptors (select's FD_SETSIZE), so every server is also
  // measured at 1,000 for a like-for-like row.
  for (const count of quick ? [1000] : [1000, 10_000]) rows.push(...(await runIdleBench({ kinds, count })));
}
process.stdout.write(json ? `${JSON.stringify(rows, null, 2)}\n` : `${formatTable(rows)}\n`);
