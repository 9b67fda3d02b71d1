import { TestSupportError } from './errors.js';
import { runCommand } from './process.js';

/** The kernel's TCP sockets of local or remote `port`, as `ss -Htn` lists them (state, queues, ends). */
export async function tcpSocketsOf(port: number): Promise<string> {
  const r = await runCommand('ss', ['-Htn', `( sport = :${port} or dport = :${port} )`]);
  return r.stdout.trim();
}

/**
 * Looks at {@link tcpSocketsOf} until `cond` holds: a real synchronisation on kernel state (a FIN
 * seen, CLOSE-WAIT; an RST received, the socket gone; bytes unread, a Recv-Q above 0), bounded to
 * `maxLooks` looks (each one runs `ss`), never a fixed sleep. Rejects when it never holds.
 */
export async function waitForTcpState(port: number, what: string, cond: (sockets: string) => boolean, maxLooks = 1000): Promise<void> {
  for (let i = 0; i < maxLooks; i++) {
    if (cond(await tcpSocketsOf(port))) return;
  }
  throw new TestSupportError(`timed out waiting for ${what} (port ${port})`, 'ERR_TEST_SUPPORT_TIMEOUT');
}
