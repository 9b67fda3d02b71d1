/** Which program runs a child script. */
export type Runtime = 'node' | 'tclsh';

/**
 * One child process: a script run by `node` or `tclsh`. The harness appends the role
 * (`server` or `client`) and the workload parameters as `key=value` words.
 */
export interface ChildSpec {
  /** The program that runs the script. */
  readonly runtime: Runtime;
  /** Absolute path of the script (use {@link nodeRow} / {@link tclRow} to build it). */
  readonly script: string;
  /** Extra words given before the role; rarely needed. */
  readonly args?: readonly string[];
  /** Environment variables set for the child on top of the harness's own. */
  readonly env?: Readonly<Record<string, string>>;
}

/** The built-in socket workloads (unix-*: over a Unix-domain socket; tls-*: over TLS). */
export type BuiltinWorkload = 'pingpong' | 'lines' | 'bulk' | 'accept' | 'idle' | 'unix-pingpong' | 'unix-bulk' | 'tls-pingpong' | 'tls-bulk' | 'tls-handshakes' | 'tls-idle';

/**
 * How the two ends of a workload are chosen.
 * - `same-impl`: the row's implementation is both the client and the server.
 * - `server-under-test`: the row's implementation is the server; the client is the common raw
 *   `node:net` load generator, the same for every row.
 */
export type Pairing = 'same-impl' | 'server-under-test';

/**
 * A row of the benchmark table: one implementation in one workload.
 * Adding an implementation means adding one of these to the registry.
 */
export interface RowSpec {
  /** The workload this row takes part in. */
  readonly workload: BuiltinWorkload;
  /** The implementation's name in the table, e.g. `node:net`, `tclsh`, `sockchan`. */
  readonly impl: string;
  /** The server child (always the implementation under test). */
  readonly server: ChildSpec;
  /**
   * The client child. Required for `same-impl` workloads; for `server-under-test` workloads it
   * defaults to the common load generator and should normally be left out.
   */
  readonly client?: ChildSpec;
  /**
   * idle only: a node:cluster server (`cluster-idle.js` with this implementation's idle server
   * in every worker) for the cluster rows; rows without one do not report them.
   */
  readonly clusterServer?: ChildSpec;
}

/** Whether a larger or a smaller value is better for a metric. */
export type Better = 'higher' | 'lower';

/** Options a custom workload module receives. */
export interface CustomRunOptions {
  /** Small counts for a smoke test. */
  readonly quick: boolean;
  /** Repetitions wanted. */
  readonly reps: number;
  /** Writes one progress line to stderr. */
  readonly progress: (line: string) => void;
}

/** One row a custom workload returns: all samples of one implementation for one metric. */
export interface CustomRow {
  /** Implementation name, e.g. `node:net`, `sockchan`, `iconv-lite`. */
  readonly impl: string;
  /** Metric name. */
  readonly metric: string;
  /** Unit of the samples. */
  readonly unit: string;
  /** One value per repetition (at least one). */
  readonly samples: readonly number[];
  /** Which direction is better; default `higher`. */
  readonly better?: Better;
  /** The implementation ratios are computed against; default `node:net`. */
  readonly baseline?: string;
}

/**
 * The module shape of a custom workload (e.g. `@sockchan/encodings`' benchmark): the harness
 * imports it in a child process and calls `run`.
 */
export interface CustomWorkloadModule {
  /** Runs the benchmark and returns its rows. */
  run(options: CustomRunOptions): Promise<CustomRow[]>;
}

/** A workload provided by a module instead of client/server scripts. */
export interface CustomWorkload {
  /** Name used on the command line (`pnpm bench <name>`). */
  readonly name: string;
  /** One line for `--list`. */
  readonly description: string;
  /** Module specifier (package export or absolute path) of a {@link CustomWorkloadModule}. */
  readonly module: string;
  /** Per-run timeout in seconds (default 300, quick 60). */
  readonly timeoutSeconds?: number;
  /** Environment variables for the module's process (every implementation in it sees the same). */
  readonly env?: Readonly<Record<string, string>>;
}

/** One summarized row of the output (one JSON line). */
export interface ResultRow {
  /** Workload name. */
  readonly workload: string;
  /** Implementation name. */
  readonly impl: string;
  /** Who plays which end (see {@link Pairing}); `custom` for module workloads. */
  readonly pairing: Pairing | 'custom';
  /** Metric name. */
  readonly metric: string;
  /** Unit. */
  readonly unit: string;
  /** Which direction is better. */
  readonly better: Better;
  /** Median over the successful repetitions, or null when every repetition failed. */
  readonly median: number | null;
  /** Smallest sample, or null. */
  readonly min: number | null;
  /** Largest sample, or null. */
  readonly max: number | null;
  /** Number of successful repetitions. */
  readonly reps: number;
  /** Number of failed repetitions. */
  readonly failed: number;
  /** The implementation {@link ratio} and {@link diff} compare against (e.g. `node:net`, `node:tls`). */
  readonly baseline: string;
  /** median / baseline median, or null. */
  readonly ratio: number | null;
  /** median − baseline median (shown for memory metrics), or null. */
  readonly diff: number | null;
  /**
   * The ratios of each repetition (row / baseline, both from the same repetition): their median,
   * range and count. Machine phases that slow every row for a repetition or two cancel out in
   * them, which they do not in {@link ratio}. Null for custom workloads and without a baseline.
   */
  readonly paired: { readonly median: number; readonly min: number; readonly max: number; readonly reps: number } | null;
  /** Why repetitions failed (first distinct messages), when any did. */
  readonly error?: string;
}
