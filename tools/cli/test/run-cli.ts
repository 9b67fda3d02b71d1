import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built bin, as the shell runs it (tests drive the real binary). */
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Bound for a whole CLI run or one expected output. */
export const WAIT_MS = 10_000;

/** How a CLI process ended. */
export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A running `sockchan` process: its output as it arrives (bytes and text), waits for output
 * patterns, and a bounded wait for its exit. `kill()` is safe to call in `finally`.
 */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<CliExit>;
  private out: Buffer[] = [];
  private err = '';
  private waiters: (() => void)[] = [];

  constructor(args: readonly string[]) {
    // The bin itself (its shebang): what a user runs.
    // A UTF-8 locale, so that stdin and stdout are UTF-8 (Tcl's system encoding comes from it).
    this.child = spawn(CLI, args, { stdio: 'pipe', env: { ...process.env, LC_ALL: '', LC_CTYPE: '', LANG: 'C.UTF-8' } });
    this.child.stdout.on('data', (chunk: Buffer) => {
      this.out.push(chunk);
      this.notify();
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text: string) => {
      this.err += text;
      this.notify();
    });
    this.child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.notify();
        resolve({ code, signal });
      });
      // A bin that cannot be started (say, not executable) must fail the test at once, not hang it.
      this.child.once('error', (error) => {
        this.err += `spawn failed: ${error.message}\n`;
        this.notify();
        resolve({ code: null, signal: null });
      });
    });
  }

  /** Everything written to stdout so far. */
  get stdoutBytes(): Buffer {
    return Buffer.concat(this.out);
  }

  /** stdout so far, as UTF-8 text. */
  get stdout(): string {
    return this.stdoutBytes.toString('utf8');
  }

  /** stderr so far. */
  get stderr(): string {
    return this.err;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Waits until `test()` holds (checked on every output and at exit); rejects after `WAIT_MS`. */
  waitFor<T>(what: string, test: () => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sockchan did not ${what} within ${WAIT_MS} ms\nstdout: ${this.stdout}\nstderr: ${this.err}`)), WAIT_MS);
      let done = false;
      const check = (): void => {
        if (done) return;
        const value = test();
        if (value !== undefined) {
          done = true;
          clearTimeout(timer);
          resolve(value);
          return;
        }
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done = true;
          clearTimeout(timer);
          reject(new Error(`sockchan exited before it did ${what}\nstdout: ${this.stdout}\nstderr: ${this.err}`));
          return;
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  /** Waits for the server's `listening on ... port N` line on stderr and returns N. */
  listeningPort(): Promise<number> {
    return this.waitFor('print its listening port', () => {
      const m = /listening on .* port (\d+)/.exec(this.err);
      return m === null ? undefined : Number(m[1]);
    });
  }

  /** Waits until stdout contains `text`. */
  stdoutContains(text: string): Promise<void> {
    return this.waitFor(`print ${JSON.stringify(text)}`, () => (this.stdout.includes(text) ? true : undefined)).then(() => undefined);
  }

  /** Waits (bounded) for the exit. */
  async exit(): Promise<CliExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`sockchan did not exit within ${WAIT_MS} ms\nstdout: ${this.stdout}\nstderr: ${this.err}`)), WAIT_MS);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Kills the process if it still runs, and waits for it. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Runs `sockchan args` to completion with `input` on stdin. */
export async function runCli(args: readonly string[], input?: string | Uint8Array): Promise<CliExit & { stdout: Buffer; stderr: string }> {
  const p = new CliProcess(args);
  try {
    if (input === undefined) p.child.stdin.end();
    else p.child.stdin.end(input);
    const exit = await p.exit();
    return { ...exit, stdout: p.stdoutBytes, stderr: p.stderr };
  } finally {
    await p.kill();
  }
}
