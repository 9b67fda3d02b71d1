/**
 * Handle-leak checks with `process.getActiveResourcesInfo()`. Node releases a closed handle a
 * turn or two after `close()` (the uv_close callback), so a check waits a bounded number of
 * event-loop turns for the count to come back down before it calls anything a leak.
 */

/** Resources that belong to the test runner or the process itself, not to the code under test. */
const AMBIENT = new Set(['PipeWrap', 'TTYWrap', 'Timeout', 'Immediate', 'FSReqCallback', 'ProcessWrap', 'SignalWrap', 'FileHandle', 'StatWatcher', 'MessagePort']);

/** Counts of network handles (TCP sockets, servers, pending connects and writes, DNS requests). */
export function networkResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) {
    if (AMBIENT.has(r)) continue;
    counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  return counts;
}

function excess(now: Map<string, number>, baseline: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [name, n] of now) {
    const extra = n - (baseline.get(name) ?? 0);
    if (extra > 0) out.push(`${name} x${extra}`);
  }
  return out;
}

/**
 * Waits (at most `maxTurns` event-loop turns, then a few short timers, bounded by `timeoutMs`)
 * until no more network handles are active than in `baseline`; returns the ones still in
 * excess (empty: nothing leaked).
 */
export async function leakedHandles(baseline: Map<string, number> = new Map(), timeoutMs = 2000): Promise<string[]> {
  const deadline = performance.now() + timeoutMs;
  for (let turn = 0; ; turn++) {
    const left = excess(networkResources(), baseline);
    if (left.length === 0 || performance.now() > deadline) return left;
    // First a few immediate turns (handles close in one or two), then 10 ms steps for sockets
    // whose close waits on the kernel (a FIN/RST exchange).
    await new Promise<void>((resolve) => (turn < 10 ? setImmediate(resolve) : setTimeout(resolve, 10)));
  }
}
