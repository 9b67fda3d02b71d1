#!/usr/bin/env node
// `pnpm bench [workload...] [options]`: runs the benchmark rows in child processes, interleaved
// across repetitions, and prints a table per workload plus one JSON line per row.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchChild, withDeadline } from './child.js';
import { machineInfo, type MachineInfo } from './machine.js';
import { packageRoot, repoRoot } from './paths.js';
import { customWorkloads, rows } from './registry.js';
import { formatNumber, formatTable, jsonLine, summarize, type SampleSet } from './summary.js';
import type { CustomRow, CustomWorkload, ResultRow } from './types.js';
import { workloads, type MetricDecl, type Outcome, type WorkloadDef } from './workloads.js';

/** The baseline of a workload that names none (TCP and Unix-domain ones). */
const BASELINE = 'node:net';

const USAGE = `usage: pnpm bench [workload...] [options]

Runs each row in its own child processes (a server and a client), rows interleaved in every
repetition (each repetition starting one row later), and prints per workload a table (median,
min-max, ratio vs the workload's baseline: ${BASELINE} for TCP and Unix-domain sockets, node:tls
for TLS; with several repetitions also the median and range of the per-repetition ratios) and
then one JSON line per row. Without a workload it runs all built-in ones: ${workloads.map((w) => w.name).join(', ')}.

options:
  --reps N          repetitions per row (default 5; --quick: 1)
  --quick           small counts: a smoke test that takes seconds
  --json            print only the JSON lines (progress still goes to stderr)
  --impl a,b        only these implementations (the workload's baseline is always kept)
  --timeout S       seconds one run of one row may take before its children are killed
                    (default 120; --quick: 30)
  --param K=V       set a built-in workload's size parameter (repeatable), e.g.
                    --param cluster=5000 --param workers=2 for the idle cluster rows
  --module SPEC     also run a custom workload module (package export or absolute path)
                    exporting run(options): Promise<CustomRow[]>
  --no-save         do not write bench-results/<time>.json
  --list            list workloads and rows
  --help            this text`;

interface Options {
  readonly names: string[];
  readonly reps: number;
  readonly quick: boolean;
  readonly json: boolean;
  readonly impls: readonly string[] | null;
  readonly timeout: number;
  readonly modules: readonly string[];
  readonly params: Readonly<Record<string, number>>;
  readonly save: boolean;
  readonly list: boolean;
  readonly help: boolean;
}

function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function positiveInt(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) usageError(`${name} wants a positive integer, got "${text}"`);
  return value;
}

function parseOptions(argv: readonly string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        reps: { type: 'string' },
        quick: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        impl: { type: 'string' },
        timeout: { type: 'string' },
        module: { type: 'string', multiple: true },
        param: { type: 'string', multiple: true },
        'no-save': { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    usageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const quick = values.quick;
  return {
    names: positionals,
    reps: positiveInt(values.reps, '--reps', quick ? 1 : 5),
    quick,
    json: values.json,
    impls: values.impl === undefined ? null : values.impl.split(',').map((s) => s.trim()).filter(Boolean),
    timeout: positiveInt(values.timeout, '--timeout', quick ? 30 : 120),
    modules: values.module ?? [],
    params: parseParams(values.param ?? []),
    save: !values['no-save'],
    list: values.list,
    help: values.help,
  };
}

/** `--param key=value` words: non-negative integers (`_` allowed as a digit separator). */
function parseParams(words: readonly string[]): Record<string, number> {
  const params: Record<string, number> = {};
  for (const word of words) {
    const m = /^([A-Za-z][A-Za-z0-9]*)=([0-9_]+)$/.exec(word);
    if (m === null) usageError(`--param wants key=<non-negative integer>, got "${word}"`);
    params[m[1]!] = Number(m[2]!.replaceAll('_', ''));
  }
  return params;
}

/** A selected workload: built-in or provided by a module. */
type Selected = { readonly kind: 'builtin'; readonly def: WorkloadDef } | { readonly kind: 'custom'; readonly def: CustomWorkload };

function select(options: Options): Selected[] {
  const selected: Selected[] = [];
  const names = options.names.length > 0 || options.modules.length > 0 ? options.names : workloads.map((w) => w.name);
  for (const name of names) {
    const builtin = workloads.find((w) => w.name === name);
    const custom = customWorkloads.find((w) => w.name === name);
    if (builtin) selected.push({ kind: 'builtin', def: builtin });
    else if (custom) selected.push({ kind: 'custom', def: custom });
    else usageError(`unknown workload "${name}" (see --list)`);
  }
  for (const module of options.modules) {
    selected.push({ kind: 'custom', def: { name: `module:${module}`, description: `custom workload from ${module}`, module } });
  }
  const known = new Set(selected.flatMap((w) => (w.kind === 'builtin' ? Object.keys(w.def.params(options.quick)) : [])));
  for (const key of Object.keys(options.params)) {
    if (!known.has(key)) usageError(`--param ${key}: no selected workload has this parameter (they have ${[...known].join(', ')})`);
  }
  return selected;
}

function list(): void {
  const lines = ['workloads (built-in):'];
  for (const w of workloads) {
    lines.push(`  ${w.name.padEnd(9)} ${w.description}`);
    lines.push(`  ${''.padEnd(9)} pairing: ${w.pairing}; rows: ${rows.filter((r) => r.workload === w.name).map((r) => r.impl).join(', ')}`);
  }
  lines.push('workloads (custom modules):');
  if (customWorkloads.length === 0) lines.push('  (none registered; run one with --module SPEC)');
  for (const w of customWorkloads) lines.push(`  ${w.name.padEnd(9)} ${w.description} [${w.module}]`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** Sample sets of one workload, kept in table order: metric (declared order), then implementation. */
class SampleBook {
  readonly #sets = new Map<string, SampleSet>();
  constructor(
    readonly workload: string,
    readonly pairing: SampleSet['pairing'],
  ) {}

  #set(impl: string, decl: MetricDecl, baseline: string): SampleSet {
    const key = `${impl}\0${decl.metric}`;
    let set = this.#sets.get(key);
    if (!set) {
      set = { workload: this.workload, impl, pairing: this.pairing, ...decl, baseline, samples: [], errors: [], byRep: new Map() };
      this.#sets.set(key, set);
    }
    return set;
  }

  /** Records an outcome; `rep` (built-in workloads) pairs it with the baseline's of that repetition. */
  add(impl: string, outcome: Outcome, baseline = BASELINE, rep?: number): void {
    const set = this.#set(impl, outcome, baseline);
    if ('value' in outcome) {
      set.samples.push(outcome.value);
      if (rep !== undefined) set.byRep?.set(rep, outcome.value);
    } else set.errors.push(outcome.error);
  }

  /** A whole run failed: every declared metric of the row gets the error (optional ones only if seen). */
  failAll(impl: string, decls: readonly MetricDecl[], error: string, baseline: string): void {
    for (const decl of decls) {
      if (decl.optional === true && !this.#sets.has(`${impl}\0${decl.metric}`)) continue;
      this.add(impl, { ...decl, error }, baseline);
    }
  }

  ordered(metricOrder: readonly string[], implOrder: readonly string[]): SampleSet[] {
    const rank = (list: readonly string[], item: string): number => {
      const i = list.indexOf(item);
      return i < 0 ? list.length : i;
    };
    return [...this.#sets.values()].sort(
      (a, b) => rank(metricOrder, a.metric) - rank(metricOrder, b.metric) || rank(implOrder, a.impl) - rank(implOrder, b.impl),
    );
  }
}

function describe(outcomes: readonly Outcome[]): string {
  return outcomes.map((o) => ('value' in o ? `${o.metric} ${formatNumber(o.value)} ${o.unit}` : `${o.metric} FAILED`)).join(', ');
}

async function runBuiltin(def: WorkloadDef, options: Options): Promise<ResultRow[]> {
  const baseline = def.baseline ?? BASELINE;
  const selected = rows.filter((r) => r.workload === def.name && (options.impls === null || r.impl === baseline || options.impls.includes(r.impl)));
  const params = { ...def.params(options.quick) };
  // Only this workload's own parameters (select() checked that each one belongs to some workload).
  for (const [key, value] of Object.entries(options.params)) if (key in params) params[key] = value;
  const decls = def.metrics(params);
  const book = new SampleBook(def.name, def.pairing);
  for (let rep = 1; rep <= options.reps; rep += 1) {
    // Each repetition starts one row later: no row always runs first (or right after another).
    const order = selected.map((_, i) => selected[(i + rep - 1) % selected.length]!);
    for (const row of order) {
      const started = Date.now();
      let outcomes: Outcome[];
      try {
        outcomes = await def.run(row, params, options.timeout);
        for (const o of outcomes) book.add(row.impl, o, baseline, rep);
      } catch (error) {
        const message = (error as Error).message;
        book.failAll(row.impl, decls, message, baseline);
        outcomes = decls.filter((d) => d.optional !== true).map((d) => ({ ...d, error: message }));
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      progress(`[${def.name} ${rep}/${options.reps}] ${row.impl}: ${describe(outcomes)} (${seconds} s)`);
    }
  }
  return summarize(book.ordered(decls.map((d) => d.metric), selected.map((r) => r.impl)));
}

function isCustomRow(value: unknown): value is CustomRow {
  const row = value as Partial<CustomRow> | null;
  return (
    typeof row === 'object' && row !== null && typeof row.impl === 'string' && typeof row.metric === 'string' &&
    typeof row.unit === 'string' && Array.isArray(row.samples) && row.samples.every((s) => typeof s === 'number' && Number.isFinite(s))
  );
}

async function runCustom(def: CustomWorkload, options: Options): Promise<ResultRow[]> {
  const book = new SampleBook(def.name, 'custom');
  const timeout = options.quick ? Math.min(options.timeout, def.timeoutSeconds ?? 60) : (def.timeoutSeconds ?? Math.max(options.timeout, 300));
  progress(`[${def.name}] running ${def.module}`);
  try {
    const reported = await withDeadline(timeout, async (track) => {
      const child = track(
        new BenchChild(
          { runtime: 'node', script: join(packageRoot, 'dist', 'custom-child.js'), ...(def.env === undefined ? {} : { env: def.env }) },
          'run',
          { module: def.module, quick: options.quick ? 1 : 0, reps: options.reps },
          `${def.name} module`,
          (text) => process.stderr.write(text),
        ),
      );
      return JSON.parse(await child.expect('RESULT ')) as unknown;
    });
    if (!Array.isArray(reported) || !reported.every(isCustomRow)) throw new Error('the module returned something other than CustomRow[]');
    for (const row of reported) {
      const decl = { metric: row.metric, unit: row.unit, better: row.better ?? 'higher' } as const;
      if (row.samples.length === 0) book.add(row.impl, { ...decl, error: 'no samples' }, row.baseline);
      for (const value of row.samples) book.add(row.impl, { ...decl, value }, row.baseline);
    }
    return summarize(book.ordered(reported.map((r) => r.metric), reported.map((r) => r.impl)));
  } catch (error) {
    book.add('(module)', { metric: 'run', unit: '-', better: 'higher', error: (error as Error).message });
    return summarize(book.ordered([], []));
  }
}

function header(machine: MachineInfo, options: Options): string[] {
  return [
    `sockchan bench: node ${machine.node}, tclsh ${machine.tclsh ?? 'not found'}, ${machine.cpus} x ${machine.cpuModel}`,
    `  ${machine.platform}, ${machine.memoryGiB} GiB, load average ${machine.loadAverage.toFixed(2)} at start` +
      ` (other processes on the machine add noise)`,
    `  reps ${options.reps}${options.quick ? ', quick sizes' : ''}, per-run timeout ${options.timeout} s; ratio = row / the workload's baseline (${BASELINE}; node:tls for tls-*)` +
      ' (throughput: higher is better; memory: the difference is shown, lower is better)',
    '',
  ];
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (options.list) {
    list();
    return;
  }
  const selected = select(options);
  const machine = machineInfo();
  const started = new Date();
  const print = (lines: readonly string[]): void => {
    if (!options.json) process.stdout.write(`${lines.join('\n')}\n`);
  };
  print(header(machine, options));
  const results: ResultRow[] = [];
  for (const item of selected) {
    const rowsOut = item.kind === 'builtin' ? await runBuiltin(item.def, options) : await runCustom(item.def, options);
    results.push(...rowsOut);
    print([...formatTable(item.def.name, item.def.description, rowsOut), '']);
  }
  const seconds = (Date.now() - started.getTime()) / 1000;
  print([`${results.length} rows in ${seconds.toFixed(0)} s; JSON lines:`]);
  process.stdout.write(`${results.map(jsonLine).join('\n')}\n`);
  if (options.save) {
    const dir = join(repoRoot, 'bench-results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `bench-${started.toISOString().replace(/[:.]/g, '-')}.json`);
    const loadAtEnd = (await import('node:os')).loadavg()[0] ?? 0;
    writeFileSync(file, `${JSON.stringify({ machine: { ...machine, loadAverageAtEnd: loadAtEnd }, options, seconds, results }, null, 2)}\n`);
    progress(`results saved to ${file}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
