/**
 * Bounded child processes for tests: one-shot commands with a timeout, and long-running peers
 * whose stdout is parsed line by line. Every child runs in its own process group so that a
 * kill reaches whatever it exec'd or forked (`ip netns exec`, the names wrapper's `unshare`,
 * `sh`), and every live child is killed when this process exits, so a failed test never leaves
 * a process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { TestSupportError } from './errors.js';

/**
 * Something that runs commands in another context, e.g. a network namespace: it turns a
 * command line into the one that runs it there (`ip netns exec NAME wrapper cmd ...`).
 */
export interface CommandWrapper {
  /** Returns the command and arguments that run `command args` in this context. */
  wrapCommand(command: string, args: readonly string[]): [string, string[]];
}

/** Default bound of a one-shot command (ms). */
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
/** Default lifetime bound of a long-running peer (ms): it is killed after this even if no one stops it. */
export const DEFAULT_PEER_LIFETIME_MS = 120_000;
/** Default bound for waiting on one expected output line (ms). */
export const DEFAULT_WAIT_MS = 5_000;
/** How long `stop()` waits after SIGTERM before it sends SIGKILL (ms). */
export const DEFAULT_STOP_GRACE_MS = 2_000;

const liveGroups = new Set<number>();
let exitHookInstalled = false;

/**
 * Kills the process group of `pid` (every child is spawned as a group leader); tolerant of a
 * gone group. Never signals the bare pid: once reaped it may belong to an unrelated process,
 * whereas a group id stays reserved while any member lives.
 */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/**
 * True while any live (not zombie) process of the group `pgid` exists. A killed process whose
 * parent died stays a zombie until PID 1 reaps it, which can take seconds; it holds no
 * resources, so it does not count.
 */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true; // No /proc: trust kill(2).
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // Gone meanwhile.
    }
    // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

/**
 * Kills what is left of a process group and waits (polling, bounded by `timeoutMs`) until it
 * is gone: there is no event for the death of processes that are not our children.
 */
async function reapGroup(pgid: number, timeoutMs = 2_000): Promise<void> {
  killGroup(pgid, 'SIGKILL');
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pgid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers run synchronously: a plain kill is all we can and need to do here.
  process.on('exit', () => {
    for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
    liveGroups.clear();
  });
}

/** How a child process ended. */
export interface ExitInfo {
  /** Exit code, or `null` when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or `null`. */
  readonly signal: NodeJS.Signals | null;
}

/** The outcome of {@link runCommand}. */
export interface CommandResult extends ExitInfo {
  /** Everything the command wrote to stdout, decoded as UTF-8. */
  readonly stdout: string;
  /** Everything the command wrote to stderr, decoded as UTF-8. */
  readonly stderr: string;
  /** True when the command was killed because it outlived `timeoutMs`. */
  readonly timedOut: boolean;
}

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  /** Kill the command (its whole process group) after this many ms. Default 10 000. */
  timeoutMs?: number;
  /** Bytes or text written to the command's stdin, which is then closed. Default: stdin closed at once. */
  input?: string | Uint8Array;
  /** Environment; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Working directory. */
  cwd?: string;
  /**
   * When false (the default) a non-zero exit, a signal or a timeout rejects with a
   * {@link TestSupportError} that quotes stderr; when true the result is returned as is.
   */
  allowFailure?: boolean;
}

function spawnGrouped(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv | undefined,
  cwd: string | undefined,
  passFds: readonly number[] = [],
): ChildProcess {
  installExitHook();
  return spawn(command, args, {
    // Own process group: a kill reaches every process the command forks or execs.
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe', ...passFds],
    env: env ?? process.env,
    ...(cwd === undefined ? {} : { cwd }),
  });
}

/** Stops reading a child's pipes, so that its 'close' event fires once it has exited. */
function releaseStdio(child: ChildProcess): void {
  child.stdin?.destroy();
  child.stdout?.destroy();
  child.stderr?.destroy();
}

function missingToolError(command: string, cause: unknown): TestSupportError {
  return new TestSupportError(
    `${command} is not installed or not on PATH (${String(cause)}); install it (scripts/ensure-system-deps.sh installs tcl, nftables, iproute2, util-linux)`,
    'ERR_TEST_SUPPORT_MISSING_TOOL',
    cause,
  );
}

function describeCommand(command: string, args: readonly string[]): string {
  return [command, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

/**
 * Runs a command to completion (no shell; arguments are passed as an array) and collects its
 * output. Always bounded: after `timeoutMs` the command's process group is killed.
 * Rejects with `ERR_TEST_SUPPORT_MISSING_TOOL` when the command does not exist.
 */
export function runCommand(command: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  return new Promise<CommandResult>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawnGrouped(command, args, options.env, options.cwd);
    } catch (error) {
      reject(missingToolError(command, error));
      return;
    }
    const pid = child.pid;
    if (pid !== undefined) liveGroups.add(pid);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    let settled = false;
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    // EPIPE when the command exits without reading its input: its exit status tells the story.
    child.stdin?.on('error', () => undefined);
    let forceTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
      // A process that left the group (setsid) may still hold our pipes open, and 'close'
      // waits for them: stop listening to them after a grace period so that we do finish.
      forceTimer = setTimeout(() => releaseStdio(child), DEFAULT_STOP_GRACE_MS);
    }, timeoutMs);
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (pid !== undefined) liveGroups.delete(pid);
      reject(error.code === 'ENOENT' ? missingToolError(command, error) : error);
    });
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(forceTimer);
      if (pid !== undefined) liveGroups.delete(pid);
      const result: CommandResult = {
        code,
        signal,
        timedOut,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      };
      // Anything the command left running in its group goes with it before we report.
      const reaped = pid === undefined ? Promise.resolve() : reapGroup(pid);
      void reaped.then(() => finish(result));
    });
    const finish = (result: CommandResult): void => {
      const { code, signal } = result;
      if (options.allowFailure !== true && (timedOut || code !== 0)) {
        const why = timedOut ? `timed out after ${timeoutMs} ms` : code === null ? `was killed by ${signal ?? 'a signal'}` : `exited ${code}`;
        reject(
          new TestSupportError(
            `${describeCommand(command, args)} ${why}: ${result.stderr.trim() || result.stdout.trim() || '(no output)'}`,
            timedOut ? 'ERR_TEST_SUPPORT_TIMEOUT' : 'ERR_TEST_SUPPORT_COMMAND_FAILED',
          ),
        );
        return;
      }
      resolve(result);
    };
    if (options.input === undefined) child.stdin?.end();
    else child.stdin?.end(options.input);
  });
}

/** Options of {@link startProcess}. */
export interface StartProcessOptions {
  /** Environment; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Working directory. */
  cwd?: string;
  /** Kill the process after this many ms even if no one stops it. Default 120 000. */
  lifetimeMs?: number;
  /** Text for error messages, e.g. `'tclsh echo server'`. Default: the command line. */
  label?: string;
  /**
   * Descriptors of this process the child gets as its fd 3, 4, ... (duplicated: close them here
   * when only the child should hold them). How systemd passes sockets for socket activation.
   */
  passFds?: readonly number[];
}

/** Options of {@link ManagedProcess.nextLine}. */
export interface WaitOptions {
  /** Reject after this many ms. Default 5 000. */
  timeoutMs?: number;
}

interface LineWaiter {
  readonly match: (line: string) => boolean;
  readonly resolve: (line: string) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * A long-running child process in its own process group, with line-buffered stdout. Lines are
 * kept in order in {@link ManagedProcess.lines}; {@link ManagedProcess.nextLine} consumes them
 * through a cursor, so two waits for the same pattern see two different lines. Stop it with
 * {@link ManagedProcess.stop} (SIGTERM, then SIGKILL after a grace period); it is killed
 * anyway after its lifetime bound and when this process exits.
 */
export class ManagedProcess {
  /** The child's pid (also its process group id). */
  readonly pid: number;
  /** What the process is, for messages. */
  readonly label: string;
  /** Complete stdout lines received so far (without the line ending). */
  readonly lines: string[] = [];
  /** Resolves once the process has exited and its output is complete; never rejects. */
  readonly exited: Promise<ExitInfo>;

  private readonly child: ChildProcess;
  private stdoutText = '';
  private partialLine = '';
  private stderrText = '';
  private cursor = 0;
  private exitInfo: ExitInfo | undefined;
  private readonly waiters = new Set<LineWaiter>();
  private readonly lifetimeTimer: NodeJS.Timeout;

  /** @internal Use {@link startProcess}. */
  constructor(child: ChildProcess, label: string, lifetimeMs: number) {
    if (child.pid === undefined) throw new TestSupportError(`${label}: no pid`, 'ERR_TEST_SUPPORT_EXITED');
    this.child = child;
    this.pid = child.pid;
    this.label = label;
    liveGroups.add(this.pid);
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => this.onStdout(text));
    child.stderr?.on('data', (text: string) => {
      this.stderrText += text;
    });
    child.stdin?.on('error', () => undefined);
    // After a successful spawn the exit status reports every failure that matters.
    child.on('error', () => undefined);
    this.lifetimeTimer = setTimeout(() => {
      killGroup(this.pid, 'SIGKILL');
      setTimeout(() => releaseStdio(child), DEFAULT_STOP_GRACE_MS).unref();
    }, lifetimeMs);
    // The lifetime bound must not keep a finished test run alive.
    this.lifetimeTimer.unref();
    this.exited = new Promise<ExitInfo>((resolve) => {
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        clearTimeout(this.lifetimeTimer);
        liveGroups.delete(this.pid);
        void reapGroup(this.pid).then(() => this.onExit(code, signal, resolve));
      });
    });
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, resolve: (info: ExitInfo) => void): void {
    if (this.partialLine !== '') {
      this.pushLine(this.partialLine);
      this.partialLine = '';
    }
    this.exitInfo = { code, signal };
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(this.failure(`exited (${code === null ? String(signal) : `code ${code}`}) before printing the expected line`, 'ERR_TEST_SUPPORT_EXITED'));
    }
    this.waiters.clear();
    resolve(this.exitInfo);
  }


  /** Everything written to stdout so far. */
  get stdout(): string {
    return this.stdoutText;
  }

  /** Everything written to stderr so far. */
  get stderr(): string {
    return this.stderrText;
  }

  /** The exit status once the process has exited, else `undefined`. */
  get exitStatus(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /**
   * Waits for the next stdout line (after the ones earlier calls consumed) that equals `match`
   * (a string) or matches it (a RegExp), and returns it. Lines before it are skipped. Rejects
   * with `ERR_TEST_SUPPORT_TIMEOUT` after `timeoutMs`, or `ERR_TEST_SUPPORT_EXITED` if the
   * process exits first; both messages quote stdout and stderr.
   */
  nextLine(match?: string | RegExp, options: WaitOptions = {}): Promise<string> {
    const test = toMatcher(match);
    const found = this.consumeFromCursor(test);
    if (found !== undefined) return Promise.resolve(found);
    if (this.exitInfo !== undefined) {
      return Promise.reject(this.failure(`has exited; no line matching ${String(match ?? '(any)')}`, 'ERR_TEST_SUPPORT_EXITED'));
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    return new Promise<string>((resolve, reject) => {
      const waiter: LineWaiter = {
        match: test,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(this.failure(`printed no line matching ${String(match ?? '(any)')} within ${timeoutMs} ms`, 'ERR_TEST_SUPPORT_TIMEOUT'));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /**
   * Waits for the next stdout line that looks like JSON (starts with `{` or `[`) and returns it
   * parsed. For children that report results as JSON lines (e.g. `Netns.spawnNode`). Rejects
   * like {@link ManagedProcess.nextLine}, or with `ERR_TEST_SUPPORT_COMMAND_FAILED` when the line
   * does not parse.
   */
  async nextJson<T = unknown>(options: WaitOptions = {}): Promise<T> {
    const line = await this.nextLine(/^\s*[[{]/, options);
    try {
      return JSON.parse(line) as T;
    } catch (error) {
      throw new TestSupportError(`${this.label} printed a line that is not JSON: ${line}`, 'ERR_TEST_SUPPORT_COMMAND_FAILED', error);
    }
  }

  /** Writes text or bytes to the process's stdin. */
  write(data: string | Uint8Array): void {
    if (this.exitInfo !== undefined || this.child.stdin === null || this.child.stdin.destroyed) {
      throw this.failure('has exited or closed its stdin; cannot write', 'ERR_TEST_SUPPORT_EXITED');
    }
    this.child.stdin.write(data);
  }

  /** Writes one line (a `\n` is appended) to the process's stdin. */
  writeLine(line: string): void {
    this.write(`${line}\n`);
  }

  /** Closes the process's stdin (EOF). */
  endInput(): void {
    this.child.stdin?.end();
  }

  /** Sends a signal to the process group. */
  signal(signal: NodeJS.Signals): void {
    if (this.exitInfo === undefined) killGroup(this.pid, signal);
  }

  /**
   * Stops the process: closes stdin, sends SIGTERM to its group, and SIGKILL after `graceMs`.
   * Resolves with the exit status once it is gone (at once if it had exited already). Safe to
   * call more than once and from `afterEach`.
   */
  async stop(graceMs: number = DEFAULT_STOP_GRACE_MS): Promise<ExitInfo> {
    if (this.exitInfo !== undefined) return this.exitInfo;
    this.child.stdin?.end();
    killGroup(this.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const afterGrace = (): Promise<void> =>
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
    const stillRunning = Symbol('still running');
    if ((await Promise.race([this.exited, afterGrace().then(() => stillRunning)])) === stillRunning) {
      killGroup(this.pid, 'SIGKILL');
      if ((await Promise.race([this.exited, afterGrace().then(() => stillRunning)])) === stillRunning) {
        // Dead, but a process that left the group (setsid) holds our pipes: stop waiting for them.
        releaseStdio(this.child);
      }
    }
    clearTimeout(timer);
    return this.exited;
  }

  /** Same as {@link ManagedProcess.stop}; named for `afterEach(() => peer.dispose())`. */
  async dispose(): Promise<void> {
    await this.stop();
  }

  private onStdout(text: string): void {
    this.stdoutText += text;
    const parts = (this.partialLine + text).split('\n');
    this.partialLine = parts.pop() ?? '';
    for (const part of parts) this.pushLine(part.endsWith('\r') ? part.slice(0, -1) : part);
  }

  private pushLine(line: string): void {
    this.lines.push(line);
    for (const waiter of this.waiters) {
      // Waiters are served in the order they were registered; each takes the first line it wants.
      const found = this.consumeFromCursor(waiter.match);
      if (found !== undefined) {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.resolve(found);
      }
    }
  }

  private consumeFromCursor(test: (line: string) => boolean): string | undefined {
    for (let i = this.cursor; i < this.lines.length; i += 1) {
      const line = this.lines[i];
      if (line !== undefined && test(line)) {
        this.cursor = i + 1;
        return line;
      }
    }
    return undefined;
  }

  private failure(what: string, code: 'ERR_TEST_SUPPORT_TIMEOUT' | 'ERR_TEST_SUPPORT_EXITED'): TestSupportError {
    const tail = (s: string): string => (s.length > 2000 ? `...${s.slice(-2000)}` : s);
    return new TestSupportError(`${this.label} ${what}\n--- stdout:\n${tail(this.stdoutText + this.partialLine)}\n--- stderr:\n${tail(this.stderrText)}`, code);
  }
}

function toMatcher(match: string | RegExp | undefined): (line: string) => boolean {
  if (match === undefined) return () => true;
  if (typeof match === 'string') return (line) => line === match;
  return (line) => {
    match.lastIndex = 0;
    return match.test(line);
  };
}

/**
 * Starts a long-running command (no shell) as a {@link ManagedProcess}. Resolves once the
 * process has been spawned; rejects with `ERR_TEST_SUPPORT_MISSING_TOOL` when the command does
 * not exist.
 */
export function startProcess(command: string, args: readonly string[], options: StartProcessOptions = {}): Promise<ManagedProcess> {
  return spawnManaged(command, args, options, (child, label, lifetimeMs) => new ManagedProcess(child, label, lifetimeMs));
}

/** @internal Spawns and wraps a child in a {@link ManagedProcess} subclass. */
export function spawnManaged<P extends ManagedProcess>(
  command: string,
  args: readonly string[],
  options: StartProcessOptions,
  create: (child: ChildProcess, label: string, lifetimeMs: number) => P,
): Promise<P> {
  const label = options.label ?? describeCommand(command, args);
  return new Promise<P>((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawnGrouped(command, args, options.env, options.cwd, options.passFds);
    } catch (error) {
      reject(missingToolError(command, error));
      return;
    }
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? missingToolError(command, error) : error);
    });
    child.once('spawn', () => {
      resolve(create(child, label, options.lifetimeMs ?? DEFAULT_PEER_LIFETIME_MS));
    });
  });
}
