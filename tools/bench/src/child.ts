import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ChildSpec } from './types.js';

/** File descriptors each child may open: idle and accept hold thousands of sockets. */
export const CHILD_NOFILE = 20000;

/** Thrown when a row run passes its deadline; the caller kills its children. */
export class RowTimeout extends Error {
  constructor(seconds: number) {
    super(`timed out after ${seconds} s`);
    this.name = 'RowTimeout';
  }
}

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** Describes an exit for error messages: `exit 1` or `SIGABRT`. */
export function describeExit(exit: ChildExit): string {
  return exit.signal ?? `exit ${String(exit.code)}`;
}

interface Waiter {
  readonly prefix: string;
  readonly resolve: (line: string) => void;
  readonly reject: (error: Error) => void;
}

/**
 * A benchmark child process speaking the line protocol of README.md: commands on stdin,
 * replies (`READY`, `RESULT`, `COUNT`, ...) as lines on stdout, diagnostics on stderr.
 */
export class BenchChild {
  readonly #proc: ChildProcess;
  readonly #lines: string[] = [];
  readonly #waiters: Waiter[] = [];
  #stderr = '';
  #exit: ChildExit | undefined;
  /** Settles when the process has exited. */
  readonly exited: Promise<ChildExit>;
  /** Shown in error messages, e.g. `tclsh server`. */
  readonly label: string;

  constructor(
    spec: ChildSpec,
    role: string,
    params: Readonly<Record<string, string | number>>,
    label: string,
    onStderr?: (text: string) => void,
  ) {
    this.label = label;
    const words = [...(spec.args ?? []), role, ...Object.entries(params).map(([k, v]) => `${k}=${String(v)}`)];
    const program = spec.runtime === 'node' ? [process.execPath, '--expose-gc', spec.script] : ['tclsh', spec.script];
    // Raise the descriptor limit for this child only; `exec` keeps the pid, so /proc/<pid>
    // describes the benchmarked process itself. If raising fails the old limit stays and a
    // row that needs more fails with EMFILE, which is reported.
    const shell = `ulimit -n ${CHILD_NOFILE} 2>/dev/null || ulimit -n hard 2>/dev/null; exec "$@"`;
    this.#proc = spawn('bash', ['-c', shell, 'sockchan-bench', ...program, ...words], {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(spec.env === undefined ? {} : { env: { ...process.env, ...spec.env } }),
    });
    this.exited = new Promise((resolve) => {
      this.#proc.on('close', (code, signal) => {
        this.#exit = { code, signal };
        const error = new Error(`${this.label} ended (${describeExit(this.#exit)})${this.stderrNote()}`);
        for (const w of this.#waiters.splice(0)) w.reject(error);
        resolve(this.#exit);
      });
    });
    this.#proc.on('error', (error) => {
      this.#stderr += `spawn failed: ${error.message}\n`;
    });
    // A child that dies leaves a broken pipe behind; the exit is what gets reported.
    this.#proc.stdin?.on('error', () => undefined);
    this.#proc.stderr?.setEncoding('utf8');
    this.#proc.stderr?.on('data', (chunk: string) => {
      onStderr?.(chunk);
      // Only the tail matters for error messages; cap it so a chatty child costs nothing.
      this.#stderr = (this.#stderr + chunk).slice(-2000);
    });
    const rl = createInterface({ input: this.#proc.stdout! });
    rl.on('line', (line) => {
      const index = this.#waiters.findIndex((w) => line.startsWith(w.prefix));
      if (index >= 0) {
        const [waiter] = this.#waiters.splice(index, 1);
        waiter!.resolve(line);
      } else {
        this.#lines.push(line);
      }
    });
  }

  /** Process id (the benchmarked program itself, thanks to `exec`). */
  get pid(): number | undefined {
    return this.#proc.pid;
  }

  /** The last part of stderr, for error messages. */
  stderrNote(): string {
    const text = this.#stderr.trim();
    return text === '' ? '' : `: ${text.split('\n').slice(-3).join(' | ')}`;
  }

  /** Waits for the next stdout line starting with `prefix`, returning the rest of it. */
  async expect(prefix: string): Promise<string> {
    const queued = this.#lines.findIndex((l) => l.startsWith(prefix));
    if (queued >= 0) return this.#lines.splice(queued, 1)[0]!.slice(prefix.length).trim();
    if (this.#exit) throw new Error(`${this.label} ended (${describeExit(this.#exit)})${this.stderrNote()}`);
    const line = await new Promise<string>((resolve, reject) => {
      this.#waiters.push({ prefix, resolve, reject });
    });
    return line.slice(prefix.length).trim();
  }

  /** Sends one command line. */
  send(line: string): void {
    if (!this.#exit) this.#proc.stdin?.write(`${line}\n`);
  }

  /** Sends a command and waits for the reply line that starts with the same word. */
  async ask(command: string): Promise<string> {
    const reply = this.expect(`${command} `);
    this.send(command);
    return reply;
  }

  /** Asks the child to finish (stdin EOF) and kills it if it has not ended after `graceMs`. */
  async stop(graceMs = 2000): Promise<ChildExit> {
    if (this.#exit) return this.#exit;
    this.#proc.stdin?.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the child at once. */
  kill(): void {
    if (!this.#exit) this.#proc.kill('SIGKILL');
  }
}

/**
 * Runs `body` with a deadline: when it passes, every child registered through `track` is killed
 * and the run fails with {@link RowTimeout}. Children are always stopped afterwards.
 */
export async function withDeadline<T>(
  seconds: number,
  body: (track: (child: BenchChild) => BenchChild) => Promise<T>,
): Promise<T> {
  const children: BenchChild[] = [];
  const track = (child: BenchChild): BenchChild => {
    children.push(child);
    return child;
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      for (const c of children) c.kill();
      reject(new RowTimeout(seconds));
    }, seconds * 1000);
  });
  const work = body(track);
  // The losing promise may still reject after a timeout (its children were killed); swallow it.
  work.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
    await Promise.all(children.map((c) => c.stop()));
  }
}
