#!/usr/bin/env node
// `pnpm bench connect`: time to connect, sockchan next to Node's net.connect and tclsh, same run.
//   blackhole: dual.test (::1, 127.0.0.1) with SYNs to ::1 dropped: sockchan's first and second
//              connect, net.connect with autoSelectFamily, tclsh (bounded);
//   slow:      ::1 loses its first SYN (connects after the 1 s retransmit), 127.0.0.1 black-holed;
//   healthy:   localhost with a server on both loopbacks, sockchan next to raw net.connect.
// Each case runs in a fresh network namespace (@sockchan/test-support: root, ip, nft needed)
// under the names wrapper.
// Usage: node bench/connect.mjs [--json] [--quick]; or import { runConnectBench }.
// Needs the package built (dist/).
import process from 'node:process';
import console from 'node:console';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns } from '@sockchan/test-support';

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = resolve(here, 'connect-child.mjs');
const PORT = 8080; // each namespace is new and empty: any port is free

/** Runs one case in a namespace of its own; returns the child's samples (ms, null = failed/bounded). */
async function runCase(name, samples, bound) {
  const ns = await createNetns({ prefix: 'sockchan-bench-' });
  try {
    if (name === 'blackhole') {
      await ns.dropSyn({ address: '::1', port: PORT });
    } else if (name === 'slow') {
      await ns.dropFirstSyn({ address: '::1', port: PORT });
      await ns.dropSyn({ address: '127.0.0.1', port: PORT });
    }
    const spec = JSON.stringify({ case: name, port: PORT, samples, bound });
    return await ns.runNodeJson(CHILD, [spec], { timeoutMs: 180_000 });
  } finally {
    await ns.dispose();
  }
}

function median(values) {
  const ok = values.filter((v) => v !== null).sort((a, b) => a - b);
  if (ok.length === 0) return null;
  const mid = Math.floor(ok.length / 2);
  return ok.length % 2 === 1 ? ok[mid] : (ok[mid - 1] + ok[mid]) / 2;
}

function row(caseName, contender, samples, bound) {
  const failures = samples.filter((v) => v === null).length;
  return {
    case: caseName,
    contender,
    medianMs: median(samples),
    samples: samples.length,
    failures,
    note: failures === samples.length ? `never connected within ${bound} ms` : failures > 0 ? `${failures} of ${samples.length} did not connect within ${bound} ms` : '',
  };
}

/**
 * Runs the three cases and returns rows `{ case, contender, medianMs, samples, failures, note }`
 * plus the ratios the targets name.
 */
export async function runConnectBench({ quick = false } = {}) {
  const bound = 3000;
  const blackhole = await runCase('blackhole', quick ? 3 : 9, bound);
  const slow = await runCase('slow', quick ? 2 : 5, bound);
  const healthy = await runCase('healthy', quick ? 100 : 1000, bound);
  const rows = [
    row('::1 black-holed', 'sockchan (first connect)', blackhole.sockchanFirst, bound),
    row('::1 black-holed', 'sockchan (second connect)', blackhole.sockchanSecond, bound),
    row('::1 black-holed', 'node net.connect autoSelectFamily', blackhole.nodeAutoSelect, bound),
    row('::1 black-holed', 'tclsh 8.6 socket', blackhole.tclsh, bound),
    row('slow ::1, 127.0.0.1 black-holed', 'sockchan (first connect)', slow.sockchanFirst, bound),
    row('slow ::1, 127.0.0.1 black-holed', 'node net.connect autoSelectFamily', slow.nodeAutoSelect, bound),
    row('slow ::1, 127.0.0.1 black-holed', 'tclsh 8.6 socket', slow.tclsh, bound),
    row('healthy localhost', 'sockchan', healthy.sockchan, bound),
    row('healthy localhost', 'node net.connect', healthy.nodeNetConnect, bound),
    row('healthy localhost', 'sockchan (useHistory: false)', healthy.sockchanNoHistory, bound),
  ];
  const ratio = (a, b) => (a === null || b === null ? null : a / b);
  const targets = {
    blackholeFirstVsNode: { value: ratio(rows[0].medianMs, rows[2].medianMs), target: '<= 1.05' },
    blackholeSecondMs: { value: rows[1].medianMs, target: '< 20' },
    slowMs: { value: rows[4].medianMs, target: '< 1500 (node: never)' },
    healthyVsNode: { value: ratio(rows[7].medianMs, rows[8].medianMs), target: '<= 1.1' },
    healthyNoHistoryVsNode: { value: ratio(rows[9].medianMs, rows[8].medianMs), target: '(information)' },
  };
  return { rows, targets };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = await runConnectBench({ quick: process.argv.includes('--quick') });
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } else {
    for (const r of result.rows) {
      const ms = r.medianMs === null ? '-' : r.medianMs.toFixed(3);
      console.log(`${r.case.padEnd(34)} ${r.contender.padEnd(36)} ${ms.padStart(10)} ms  (n=${r.samples}) ${r.note}`);
    }
    for (const [name, t] of Object.entries(result.targets)) {
      console.log(`${name.padEnd(22)} ${t.value === null ? '-' : t.value.toFixed(3)}  target ${t.target}`);
    }
  }
}
