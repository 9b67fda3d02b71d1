// One 'abort' listener per AbortSignal, however many connects share it (one deadline for a
// batch): Node warns (MaxListenersExceededWarning) past ten listeners on one signal.

interface Waiting {
  readonly callbacks: Set<() => void>;
  readonly listener: () => void;
}

const waiting = new WeakMap<AbortSignal, Waiting>();

function listen(signal: AbortSignal): Waiting {
  const callbacks = new Set<() => void>();
  const listener = (): void => {
    waiting.delete(signal);
    // A copy: each callback settles its connect, which stops waiting (deletes itself).
    for (const callback of [...callbacks]) callback();
    callbacks.clear();
  };
  const entry = { callbacks, listener };
  waiting.set(signal, entry);
  signal.addEventListener('abort', listener, { once: true });
  return entry;
}

/**
 * Calls `onAbort` once when `signal` aborts. Returns the function that stops waiting (call it
 * when the connect settles): the signal's one listener goes when its last waiter does.
 */
export function whenAborted(signal: AbortSignal, onAbort: () => void): () => void {
  const entry = waiting.get(signal) ?? listen(signal);
  const { callbacks, listener } = entry;
  // A function of its own: one connect stopping never removes another's callback.
  const callback = (): void => onAbort();
  callbacks.add(callback);
  return () => {
    if (!callbacks.delete(callback) || callbacks.size > 0) return;
    signal.removeEventListener('abort', listener);
    if (waiting.get(signal) === entry) waiting.delete(signal);
  };
}
