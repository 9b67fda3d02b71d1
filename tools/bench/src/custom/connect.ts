// `pnpm bench connect`: time to connect, @sockchan/async-connect next to Node's net.connect
// (autoSelectFamily) and tclsh, same run, each case in a fresh network namespace
// (@sockchan/test-support: root, ip and nft needed) under the names wrapper:
//   blackhole: dual.test (::1, 127.0.0.1) with SYNs to ::1 dropped: sockchan's first and second
//              connect, net.connect with autoSelectFamily, tclsh (bounded);
//   slow:      ::1 loses its first SYN (connects after the 1 s retransmit), 127.0.0.1 black-holed;
//   healthy:   localhost with a server on both loopbacks, sockchan next to net.connect.
// The timing runs in ./connect-child.ts inside the namespace. A contender that never connected
// within the bound is reported with the bound as its sample and says so in its name, so a
// "never" is never shown as a fast result.
import { join } from 'node:path';
import { createNetns } from '@sockchan/test-support';
import { packageRoot } from '../paths.js';
import type { CustomRow, CustomRunOptions } from '../types.js';

const CHILD = join(packageRoot, 'dist', 'custom', 'connect-child.js');
const PORT = 8080; // each namespace is new and empty: any port is free
const BOUND = 3000; // ms: a connect slower than this counts as never

type CaseName = 'blackhole' | 'slow' | 'healthy';
type Samples = Record<string, (number | null)[] | undefined>;

/** Runs one case in a namespace of its own; returns the child's samples (ms, null = failed or bounded). */
async function runCase(name: CaseName, samples: number): Promise<Samples> {
  const ns = await createNetns({ prefix: 'sockchan-bench-' });
  try {
    if (name === 'blackhole') {
      await ns.dropSyn({ address: '::1', port: PORT });
    } else if (name === 'slow') {
      await ns.dropFirstSyn({ address: '::1', port: PORT });
      await ns.dropSyn({ address: '127.0.0.1', port: PORT });
    }
    const spec = JSON.stringify({ case: name, port: PORT, samples, bound: BOUND });
    return await ns.runNodeJson<Samples>(CHILD, [spec], { timeoutMs: 180_000 });
  } finally {
    await ns.dispose();
  }
}

function median(values: readonly (number | null)[]): number | null {
  const ok = values.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (ok.length === 0) return null;
  const mid = Math.floor(ok.length / 2);
  return ok.length % 2 === 1 ? ok[mid]! : (ok[mid - 1]! + ok[mid]!) / 2;
}

/** Runs the three cases: one row per case and contender, its median as the sample. */
export async function run(options: CustomRunOptions): Promise<CustomRow[]> {
  const { quick } = options;
  const blackhole = await runCase('blackhole', quick ? 3 : 9);
  options.progress('connect: blackhole done');
  const slow = await runCase('slow', quick ? 2 : 5);
  options.progress('connect: slow done');
  const healthy = await runCase('healthy', quick ? 100 : 1000);
  options.progress('connect: healthy done');
  const cases: [string, Samples, [string, string][]][] = [
    [
      '::1 black-holed',
      blackhole,
      [
        ['sockchan (first connect)', 'sockchanFirst'],
        ['sockchan (second connect)', 'sockchanSecond'],
        ['node net.connect autoSelectFamily', 'nodeAutoSelect'],
        ['tclsh 8.6 socket', 'tclsh'],
      ],
    ],
    [
      'slow ::1, 127.0.0.1 black-holed',
      slow,
      [
        ['sockchan (first connect)', 'sockchanFirst'],
        ['node net.connect autoSelectFamily', 'nodeAutoSelect'],
        ['tclsh 8.6 socket', 'tclsh'],
      ],
    ],
    [
      'healthy localhost',
      healthy,
      [
        ['sockchan', 'sockchan'],
        ['node net.connect', 'nodeNetConnect'],
        ['sockchan (useHistory: false)', 'sockchanNoHistory'],
      ],
    ],
  ];
  const rows: CustomRow[] = [];
  for (const [caseName, samples, contenders] of cases) {
    const measured = contenders.map(([contender, key]) => {
      const ms = median(samples[key] ?? []);
      return { impl: ms === null ? `${contender} [never connected]` : contender, ms };
    });
    const baseline = measured.find((m) => m.impl.startsWith('node'))?.impl;
    for (const m of measured) {
      rows.push({
        impl: m.impl,
        metric: `connect ms: ${caseName}`,
        unit: 'ms',
        better: 'lower',
        samples: [m.ms ?? BOUND],
        ...(baseline === undefined ? {} : { baseline }),
      });
    }
  }
  return rows;
}
