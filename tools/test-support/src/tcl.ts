/**
 * `tclsh` 8.6 as a real peer: servers that announce their port, clients that run to
 * completion, and ready-made echo, sink and source servers. Scripts are written to files in one
 * private temporary directory per process (removed with its last script and at exit) and run as
 * `tclsh FILE ARGS...`; stdout is line-buffered on the Tcl side so that each `puts` reaches the
 * test at once.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestSupportError } from './errors.js';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_WAIT_MS,
  ManagedProcess,
  runCommand,
  spawnManaged,
  type CommandResult,
  type CommandWrapper,
  type StartProcessOptions,
} from './process.js';

/** The Tcl interpreter the peers run: env `SOCKCHAN_TCLSH`, default `tclsh` (from PATH). */
export function tclshCommand(): string {
  const fromEnv = process.env['SOCKCHAN_TCLSH'];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'tclsh';
}

const tclshChecks = new Map<string, Promise<string>>();

/**
 * Resolves with tclsh's patchlevel (e.g. `8.6.13`) once it is known to be Tcl 8.6; rejects
 * with `ERR_TEST_SUPPORT_MISSING_TOOL` and a clear message when tclsh is missing or another
 * version. Checked once per process (per interpreter path); a failed check is retried next time.
 */
export function assertTclsh(): Promise<string> {
  const command = tclshCommand();
  let check = tclshChecks.get(command);
  if (check === undefined) {
    check = checkTclsh(command);
    tclshChecks.set(command, check);
    // A later install may fix a failed check: forget failures.
    check.catch(() => tclshChecks.delete(command));
  }
  return check;
}

async function checkTclsh(command: string): Promise<string> {
  let result: CommandResult;
  try {
    result = await runCommand(command, [], { input: 'puts [info patchlevel]\n', timeoutMs: DEFAULT_COMMAND_TIMEOUT_MS, allowFailure: true });
  } catch (error) {
    throw new TestSupportError(`tclsh 8.6 is required as the reference peer but \`${command}\` could not be started (apt-get install tcl): ${String(error)}`, 'ERR_TEST_SUPPORT_MISSING_TOOL', error);
  }
  const version = result.stdout.trim();
  if (result.code !== 0 || !/^8\.6\.\d+$/.test(version)) {
    throw new TestSupportError(
      `tclsh 8.6 is required as the reference peer; \`${command}\` gave exit ${String(result.code)}, version "${version}" ${result.stderr.trim()}`,
      'ERR_TEST_SUPPORT_MISSING_TOOL',
    );
  }
  return version;
}

/**
 * Tcl code run before every server script. It sets `sockchan_port` and `sockchan_host` from
 * the first two arguments (and removes them from `argv`), makes stdout line-buffered, and
 * defines `sockchan_listen HANDLER`, which opens `socket -server HANDLER ?-myaddr HOST? PORT`
 * and prints `PORT <n>` (the port actually bound, for port 0).
 */
export const TCL_SERVER_PRELUDE = String.raw`
fconfigure stdout -buffering line
set sockchan_port [lindex $argv 0]
set sockchan_host [lindex $argv 1]
set argv [lrange $argv 2 end]
set argc [llength $argv]
proc sockchan_listen {handler} {
    if {$::sockchan_host eq ""} {
        set srv [socket -server $handler $::sockchan_port]
    } else {
        set srv [socket -server $handler -myaddr $::sockchan_host $::sockchan_port]
    }
    puts "PORT [lindex [fconfigure $srv -sockname] 2]"
    return $srv
}
`;

/** Tcl code appended to every server script: the event loop, until `set ::sockchan_done 1`. */
export const TCL_SERVER_EPILOGUE = String.raw`
vwait ::sockchan_done
`;

/** Tcl code run before every client script: line-buffered stdout. */
export const TCL_CLIENT_PRELUDE = String.raw`
fconfigure stdout -buffering line
`;

/**
 * Ready-made server scripts (bodies for {@link startTclServer}). Each prints
 * `ACCEPT <host> <port>` per connection and `CLOSED` when a connection ends.
 */
export const tclServerScripts = {
  /** Echoes each line back (line-buffered; Tcl's socket default translation: reads auto, writes CRLF). */
  lineEcho: String.raw`
proc accept {chan host port} {
    puts "ACCEPT $host $port"
    fconfigure $chan -buffering line -blocking 0
    fileevent $chan readable [list echo_line $chan]
}
proc echo_line {chan} {
    if {[catch {gets $chan line} n]} { catch {close $chan}; puts CLOSED; return }
    if {$n >= 0} { if {[catch {puts $chan $line}]} { catch {close $chan}; puts CLOSED }; return }
    if {[eof $chan]} { catch {close $chan}; puts CLOSED }
}
sockchan_listen accept
`,
  /** Echoes bytes back unchanged (`-translation binary`). */
  binaryEcho: String.raw`
proc accept {chan host port} {
    puts "ACCEPT $host $port"
    fconfigure $chan -translation binary -buffering none -blocking 0
    fileevent $chan readable [list echo_bytes $chan]
}
proc echo_bytes {chan} {
    if {[catch {read $chan} data]} { catch {close $chan}; puts CLOSED; return }
    if {[string length $data] > 0} { if {[catch {puts -nonewline $chan $data}]} { catch {close $chan}; puts CLOSED; return } }
    if {[eof $chan]} { catch {close $chan}; puts CLOSED }
}
sockchan_listen accept
`,
  /** Reads and discards bytes; prints `SINK <bytes>` when the client closes. */
  sink: String.raw`
proc accept {chan host port} {
    puts "ACCEPT $host $port"
    fconfigure $chan -translation binary -blocking 0
    set ::count($chan) 0
    fileevent $chan readable [list sink $chan]
}
proc sink {chan} {
    if {[catch {read $chan} data]} { puts "SINK $::count($chan)"; catch {close $chan}; puts CLOSED; return }
    incr ::count($chan) [string length $data]
    if {[eof $chan]} { puts "SINK $::count($chan)"; catch {close $chan}; puts CLOSED }
}
sockchan_listen accept
`,
  /**
   * Sends `[lindex $argv 0]` bytes (see {@link sourcePattern}) to each client, then closes;
   * prints `SENT <bytes>`.
   */
  source: String.raw`
set block ""
for {set i 0} {$i < 256} {incr i} { append block [format %c $i] }
proc accept {chan host port} {
    puts "ACCEPT $host $port"
    fconfigure $chan -translation binary
    set n [lindex $::argv 0]
    set data [string range [string repeat $::block [expr {$n / 256 + 1}]] 0 [expr {$n - 1}]]
    if {[catch {puts -nonewline $chan $data; close $chan}]} { catch {close $chan} }
    puts "SENT $n"
    puts CLOSED
}
sockchan_listen accept
`,
} as const;

/** The bytes the `source` server sends: byte `i` is `i % 256`. */
export function sourcePattern(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) bytes[i] = i % 256;
  return bytes;
}

/** A running tclsh process (see {@link ManagedProcess}); `port` is set for servers. */
export class TclPeer extends ManagedProcess {
  /** The port a server printed with `PORT <n>`; `undefined` for scripts that are not servers. */
  port: number | undefined;

  /** @internal Use {@link startTclServer} or {@link startTclScript}. */
  constructor(child: ChildProcess, label: string, lifetimeMs: number) {
    super(child, label, lifetimeMs);
  }
}

/** Options shared by the tclsh launchers. */
export interface TclRunOptions {
  /** Run inside this context, e.g. a {@link Netns} (`ip netns exec N wrapper tclsh ...`). */
  within?: CommandWrapper;
  /** Environment; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** Options of {@link startTclScript}. */
export interface StartTclScriptOptions extends TclRunOptions {
  /** Kill tclsh after this many ms even if no one stops it. Default 120 000. */
  lifetimeMs?: number;
  /** Label for error messages. */
  label?: string;
}

/** Options of {@link startTclServer}. */
export interface StartTclServerOptions extends StartTclScriptOptions {
  /** Port to listen on; default 0 (ephemeral, announced with `PORT <n>`). */
  port?: number;
  /** Address to listen on (`-myaddr`); default: none, i.e. Tcl's all-addresses server. */
  host?: string;
  /** Further arguments, seen by the script as `$argv`. */
  args?: readonly string[];
  /** How long to wait for the `PORT <n>` line. Default 5 000 ms. */
  readyTimeoutMs?: number;
}

/** Options of {@link runTclClient}. */
export interface RunTclClientOptions extends TclRunOptions {
  /** Kill tclsh after this many ms. Default 10 000. */
  timeoutMs?: number;
  /** Text or bytes written to the script's stdin (then closed). */
  input?: string | Uint8Array;
  /** Reject on a non-zero exit (default false: the result carries the exit code). */
  rejectOnFailure?: boolean;
}

/**
 * This process's script directory, `<tmpdir>/sockchan-tcl-<pid>-XXXXXX` (the pid tells whose it
 * is): created on first use, removed when its last script is removed and by the exit hook.
 * One directory per process rather than one per script, so that a single synchronous 'exit'
 * handler can remove everything: a test worker may exit before a peer's `exited` settles.
 */
let scriptDir: string | undefined;
/** Script files in {@link scriptDir} that are still in use. */
const liveScripts = new Set<string>();
let scriptCounter = 0;
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous: 'exit' handlers cannot await. process.ts's own hook kills the peers.
  process.on('exit', removeScriptDir);
}

function removeScriptDir(): void {
  if (scriptDir === undefined) return;
  try {
    rmSync(scriptDir, { recursive: true, force: true });
  } catch {
    // Best effort: an exit handler or a promise callback must not throw.
  }
  scriptDir = undefined;
  liveScripts.clear();
}

/**
 * Writes `source` to a new file in this process's script directory. `remove()` (idempotent)
 * deletes the file, and the directory with its last file, so an idle process holds nothing in
 * the temporary directory even if it is later killed without running exit handlers.
 */
function writeScript(source: string): { file: string; remove: () => void } {
  installExitHook();
  // Recreated if someone removed it under us (e.g. a manual clean-up of /tmp).
  if (scriptDir === undefined || !existsSync(scriptDir)) {
    liveScripts.clear();
    scriptDir = mkdtempSync(join(tmpdir(), `sockchan-tcl-${process.pid}-`));
  }
  scriptCounter += 1;
  const file = join(scriptDir, `peer-${scriptCounter}.tcl`);
  writeFileSync(file, source);
  liveScripts.add(file);
  const remove = (): void => {
    // Not in the set: removed already, or its directory went with the exit hook.
    if (!liveScripts.delete(file)) return;
    try {
      rmSync(file, { force: true });
    } catch {
      // Best effort; the directory is removed below or at exit anyway.
    }
    if (liveScripts.size === 0) removeScriptDir();
  };
  return { file, remove };
}

function commandLine(within: CommandWrapper | undefined, file: string, args: readonly string[]): [string, string[]] {
  const command = tclshCommand();
  return within === undefined ? [command, [file, ...args]] : within.wrapCommand(command, [file, ...args]);
}

/**
 * Starts `tclsh` on a complete script (no prelude added) with `args` as `$argv`, as a
 * {@link TclPeer}. Use `nextLine()` to follow its output, `writeLine()` to talk to its stdin,
 * `stop()` to end it.
 */
export async function startTclScript(script: string, args: readonly string[] = [], options: StartTclScriptOptions = {}): Promise<TclPeer> {
  await assertTclsh();
  const { file, remove } = writeScript(script);
  const [command, argv] = commandLine(options.within, file, args);
  const spawnOptions: StartProcessOptions = {
    label: options.label ?? 'tclsh peer',
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.lifetimeMs === undefined ? {} : { lifetimeMs: options.lifetimeMs }),
  };
  let peer: TclPeer;
  try {
    peer = await spawnManaged(command, argv, spawnOptions, (child, label, lifetimeMs) => new TclPeer(child, label, lifetimeMs));
  } catch (error) {
    remove();
    throw error;
  }
  void peer.exited.then(remove);
  return peer;
}

/**
 * Starts a tclsh server. The script runs after {@link TCL_SERVER_PRELUDE} (so it can call
 * `sockchan_listen HANDLER`, or use `$sockchan_port`/`$sockchan_host` and print `PORT <n>`
 * itself) and before {@link TCL_SERVER_EPILOGUE} (the event loop). Resolves once the server has
 * printed `PORT <n>`, with `peer.port` set; rejects (and kills tclsh) if it does not within
 * `readyTimeoutMs` or exits first.
 */
export async function startTclServer(script: string, options: StartTclServerOptions = {}): Promise<TclPeer> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TestSupportError(`startTclServer: bad port ${port}`, 'ERR_TEST_SUPPORT_BAD_ARGUMENT');
  }
  const peer = await startTclScript(TCL_SERVER_PRELUDE + script + TCL_SERVER_EPILOGUE, [String(port), options.host ?? '', ...(options.args ?? [])], {
    label: options.label ?? 'tclsh server',
    ...(options.within === undefined ? {} : { within: options.within }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.lifetimeMs === undefined ? {} : { lifetimeMs: options.lifetimeMs }),
  });
  try {
    const line = await peer.nextLine(/^PORT \d+$/, { timeoutMs: options.readyTimeoutMs ?? DEFAULT_WAIT_MS });
    peer.port = Number(line.slice('PORT '.length));
  } catch (error) {
    await peer.stop();
    throw error;
  }
  return peer;
}

/** Options of the ready-made servers. */
export interface TclReadyServerOptions extends StartTclScriptOptions {
  /** Address to listen on; default: all addresses (Tcl's default). */
  host?: string;
  /** Port; default 0. */
  port?: number;
}

/** Starts a tclsh server that echoes lines (`mode: 'line'`) or bytes (`mode: 'binary'`). */
export function startTclEchoServer(options: TclReadyServerOptions & { mode?: 'line' | 'binary' } = {}): Promise<TclPeer> {
  const { mode, ...rest } = options;
  return startTclServer(mode === 'binary' ? tclServerScripts.binaryEcho : tclServerScripts.lineEcho, { label: `tclsh ${mode ?? 'line'} echo server`, ...rest });
}

/** Starts a tclsh server that reads and discards, printing `SINK <bytes>` per closed connection. */
export function startTclSinkServer(options: TclReadyServerOptions = {}): Promise<TclPeer> {
  return startTclServer(tclServerScripts.sink, { label: 'tclsh sink server', ...options });
}

/** Starts a tclsh server that sends `bytes` bytes of {@link sourcePattern} to each client and closes. */
export function startTclSourceServer(options: TclReadyServerOptions & { bytes: number }): Promise<TclPeer> {
  const { bytes, ...rest } = options;
  if (!Number.isInteger(bytes) || bytes < 0) throw new TestSupportError(`startTclSourceServer: bad byte count ${bytes}`, 'ERR_TEST_SUPPORT_BAD_ARGUMENT');
  return startTclServer(tclServerScripts.source, { label: 'tclsh source server', ...rest, args: [String(bytes)] });
}

/**
 * Runs a tclsh client script to completion (after {@link TCL_CLIENT_PRELUDE}) with `args` as
 * `$argv`, and resolves with its stdout, stderr and exit status. Killed after `timeoutMs`
 * (then `timedOut` is true). A non-zero exit resolves unless `rejectOnFailure` is set.
 */
export async function runTclClient(script: string, args: readonly string[] = [], options: RunTclClientOptions = {}): Promise<CommandResult> {
  await assertTclsh();
  const { file, remove } = writeScript(TCL_CLIENT_PRELUDE + script);
  try {
    const [command, argv] = commandLine(options.within, file, args);
    return await runCommand(command, argv, {
      timeoutMs: options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      allowFailure: options.rejectOnFailure !== true,
      ...(options.input === undefined ? {} : { input: options.input }),
      ...(options.env === undefined ? {} : { env: options.env }),
    });
  } finally {
    remove();
  }
}
