/**
 * Resolves the first time `ch`'s writable event fires (an async connect succeeded or failed),
 * then removes the handler; rejects after `ms` (a test bound).
 */
export function writableOnce(ch: { onWritable(handler: (() => void) | null): unknown }, what: string, ms = 5000): Promise<void> {
  const writable = deferred();
  ch.onWritable(() => {
    ch.onWritable(null);
    writable.resolve();
  });
  return within(writable.promise, ms, what);
}

/** Resolves after `turns` turns of the event loop (to show that something did NOT happen meanwhile). */
export async function eventLoopTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A promise with its resolve function, for events turned into awaits. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Rejects when `promise` has not settled after `ms` (a test bound, never a synchronisation). */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}
