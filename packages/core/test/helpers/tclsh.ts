import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

/**
 * A small `tclsh` launcher for the interop tests: runs a script from stdin, reads its first output
 * line (the port it listens on), and collects the rest of its output. Bounded: the process is
 * killed after `timeoutMs`.
 */
export interface TclPeer {
  /** The port the script printed first. */
  port: number;
  /** Everything the script printed after the port line, once it exits. */
  output: Promise<string>;
  /** Kills the process (idempotent). */
  kill(): void;
}

const running = new Set<ChildProcess>();

export function startTcl(script: string, timeoutMs = 15_000): Promise<TclPeer> {
  return new Promise((resolve, reject) => {
    const child = spawn('tclsh', [], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LANG: 'C.UTF-8' } });
    running.add(child);
    let out = '';
    let err = '';
    let portSeen = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let finish!: (s: string) => void;
    let fail!: (e: Error) => void;
    const output = new Promise<string>((res, rej) => {
      finish = res;
      fail = rej;
    });
    output.catch(() => undefined);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      if (!portSeen) {
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          portSeen = true;
          const port = Number(out.slice(0, nl));
          out = out.slice(nl + 1);
          resolve({ port, output, kill: () => child.kill('SIGKILL') });
        }
      }
    });
    child.stderr.on('data', (d: string) => (err += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
      fail(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      if (!portSeen) reject(new Error(`tclsh exited (${String(code)}) before printing a port: ${err}`));
      if (code === 0) finish(out);
      else fail(new Error(`tclsh exited with ${String(code)}: ${err}`));
    });
    child.stdin.end(script);
  });
}

/** Kills every tclsh still running (afterEach). */
export function killAllTcl(): void {
  for (const c of running) c.kill('SIGKILL');
}

/** A Tcl server script: accepts one connection, runs `body` with `$c` the channel, then exits. */
export function tclServer(body: string): string {
  return `
set srv [socket -server accept -myaddr 127.0.0.1 0]
proc accept {c a p} {
  global done
  if {[catch {
${body}
  } msg]} { puts "TCLERROR: $msg" }
  set done 1
}
puts [lindex [fconfigure $srv -sockname] 2]
flush stdout
vwait done
close $srv
`;
}
