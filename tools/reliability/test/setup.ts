import { afterEach } from 'vitest';

/**
 * Every test fails when a promise was rejected without a handler while it ran (on top of
 * vitest's own report): "no unhandled rejections" is part of each case.
 */
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => {
  unhandled.push(reason);
});

afterEach(async () => {
  // Rejections are reported at the end of a microtask drain: give them one turn.
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (unhandled.length > 0) {
    const found = unhandled.splice(0);
    throw new Error(`unhandled rejection(s): ${found.map((r) => (r instanceof Error ? (r.stack ?? r.message) : String(r))).join('\n')}`);
  }
});
