// End-to-end: the built CLI runs real rows (raw node:net and tclsh children on loopback) with
// --quick sizes and prints JSON lines that parse. Speed itself is never asserted here.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ResultRow } from '../src/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli.js');

interface Run {
  readonly code: number | null;
  readonly rows: ResultRow[];
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI, killing it if it outlives `seconds` (the test then fails on the exit code). */
function bench(args: readonly string[], seconds = 60): Promise<Run> {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: build first (npx tsc -p tsconfig.build.json)`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => child.kill('SIGKILL'), seconds * 1000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const lines = stdout.split('\n').filter((l) => l.startsWith('{'));
      resolve({ code, rows: lines.map((l) => JSON.parse(l) as ResultRow), stdout, stderr });
    });
  });
}

function row(rows: readonly ResultRow[], workload: string, impl: string, metric: string): ResultRow {
  const found = rows.find((r) => r.workload === workload && r.impl === impl && r.metric === metric);
  if (!found) throw new Error(`no row ${workload}/${impl}/${metric}`);
  return found;
}

describe('pnpm bench --quick', () => {
  // `--impl tclsh`: only the node:net baseline and tclsh rows, whatever other rows the registry has.
  it('runs pingpong and accept with node:net and tclsh rows and prints parseable JSON lines', async () => {
    const run = await bench(['pingpong', 'accept', '--quick', '--json', '--no-save', '--impl', 'tclsh']);
    expect(run.code, run.stderr).toBe(0);
    // --json: nothing but JSON lines on stdout.
    expect(run.stdout.trim().split('\n').every((l) => l.startsWith('{'))).toBe(true);
    const metrics: [string, string][] = [
      ['pingpong', 'round trips/s'],
      ['accept', 'conn/s serial'],
      ['accept', 'conn/s 50 at once'],
    ];
    for (const [workload, metric] of metrics) {
      for (const impl of ['node:net', 'tclsh']) {
        const r = row(run.rows, workload, impl, metric);
        expect(r.failed, r.error).toBe(0);
        expect(r.reps).toBe(1);
        expect(r.median).toBeGreaterThan(0);
        expect(r.min).toBe(r.median);
        expect(r.max).toBe(r.median);
        expect(r.ratio).toBeCloseTo(r.median! / row(run.rows, workload, 'node:net', metric).median!, 9);
      }
    }
    // Rows other packages register (sockchan, ...) may follow; each metric has exactly one node:net row.
    for (const [workload, metric] of metrics) {
      expect(run.rows.filter((r) => r.workload === workload && r.metric === metric && r.impl === 'node:net')).toHaveLength(1);
    }
    // Progress goes to stderr, one line per run of a row.
    expect(run.stderr).toMatch(/\[pingpong 1\/1\] tclsh: round trips\/s [\d,]+ rt\/s/);
  }, 90_000);

  it('prints a table with min-max and ratios, and interleaves rows across repetitions', async () => {
    const run = await bench(['pingpong', '--quick', '--reps', '2', '--no-save', '--impl', 'tclsh']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^sockchan bench: node v\d+\.\d+\.\d+, tclsh 8\.6\.\d+, \d+ x /m);
    expect(run.stdout).toMatch(/^node:net\s+round trips\/s\s+[\d,]+ rt\/s\s+[\d,]+-[\d,]+\s+baseline\s+2$/m);
    expect(run.stdout).toMatch(/^tclsh\s+round trips\/s\s+[\d,]+ rt\/s\s+[\d,]+-[\d,]+\s+\d+\.\d\dx\s+\d+\.\d\dx \(\d+\.\d\d-\d+\.\d\d\)\s+2$/m);
    expect(run.stdout).toContain("paired: the median (and range) of each repetition's row / node:net ratio");
    // Interleaved, and the second repetition starts with the second row.
    const order = run.stderr.split('\n').filter((l) => l.startsWith('[pingpong')).map((l) => l.replace(/: .*/, ''));
    expect(order).toEqual(['[pingpong 1/2] node:net', '[pingpong 1/2] tclsh', '[pingpong 2/2] tclsh', '[pingpong 2/2] node:net']);
  }, 90_000);

  it('idle ends in bounded time and reports a tclsh row that cannot hold the connections instead of hanging', async () => {
    const run = await bench(['idle', '--quick', '--json', '--no-save']);
    expect(run.code, run.stderr).toBe(0);
    for (const metric of ['rss/conn @200', 'heap/conn @200', 'rss/conn @1100', 'heap/conn @1100']) {
      expect(row(run.rows, 'idle', 'node:net', metric).median).toBeGreaterThan(0);
    }
    expect(row(run.rows, 'idle', 'tclsh', 'rss/conn @200').median).toBeGreaterThan(0);
    // tclsh 8.6 waits with select(): past FD_SETSIZE it aborts. Either way the row says what happened.
    const beyond = row(run.rows, 'idle', 'tclsh', 'rss/conn @1100');
    if (beyond.median === null) {
      expect(beyond.failed).toBe(1);
      expect(beyond.error).toMatch(/tclsh server ended \(\w+\) after accepting \d+\+ connections/);
    } else {
      expect(beyond.median).toBeGreaterThan(0);
    }
  }, 90_000);

  it('runs the Unix-socket rows: pingpong and bulk against node:net over the same kind of socket, and idle', async () => {
    const run = await bench(['unix-pingpong', 'unix-bulk', '--quick', '--json', '--no-save'], 120);
    expect(run.code, run.stderr).toBe(0);
    for (const [workload, metric] of [['unix-pingpong', 'round trips/s'], ['unix-bulk', 'MB/s']] as const) {
      expect(row(run.rows, workload, 'node:net', metric).ratio).toBe(1);
      for (const impl of ['@sockchan/core', 'sockchan']) {
        const r = row(run.rows, workload, impl, metric);
        expect(r.failed, r.error).toBe(0);
        expect(r.median).toBeGreaterThan(0);
      }
    }
    const idle = await bench(['idle', '--quick', '--json', '--no-save', '--impl', 'node:net unix,sockchan unix'], 120);
    expect(idle.code, idle.stderr).toBe(0);
    for (const impl of ['node:net unix', 'sockchan unix']) expect(row(idle.rows, 'idle', impl, 'rss/conn @200').median).toBeGreaterThan(0);
  }, 240_000);

  it('runs a custom workload module and computes ratios against the baseline it names', async () => {
    const run = await bench(['--module', join(root, 'test', 'fixtures', 'custom-workload.mjs'), '--quick', '--reps', '3', '--json', '--no-save']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('fixture: measuring');
    expect(run.rows.map((r) => r.impl)).toEqual(['plain', 'json']);
    const [plain, json] = run.rows;
    expect(plain!.reps).toBe(3);
    expect(plain!.pairing).toBe('custom');
    expect(plain!.min!).toBeLessThanOrEqual(plain!.median!);
    expect(plain!.median!).toBeLessThanOrEqual(plain!.max!);
    expect(json!.ratio).toBeCloseTo(json!.median! / plain!.median!, 9);
  }, 90_000);

  it('rejects an unknown workload with usage and exit status 2', async () => {
    const run = await bench(['nosuchworkload']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown workload "nosuchworkload"');
    expect(run.rows).toEqual([]);
  });
});
