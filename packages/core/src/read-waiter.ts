/** The input side's waiting operations: what a read waits for, and how its promise is made without a closure. */
import { SockchanError, valueText } from '@sockchan/base';

/** What an input operation reads. */
export const enum ReadKind {
  Line = 0,
  Chars = 1,
  Bytes = 2,
}

export type ReadResult = string | Uint8Array | null;

/**
 * An input operation waiting for data: plain fields, no closures, so a `gets` that has to wait
 * costs this object and its promise.
 */
export class ReadWaiter {
  resolve: (value: ReadResult) => void = noop;
  reject: (err: unknown) => void = noop;
  constructor(
    readonly kind: ReadKind,
    /** `read`/`readBytes` count, `undefined` for all. */
    readonly count: number | undefined,
    /** Blocking when the operation was started (a nonblocking one may queue behind a blocking one). */
    readonly wait: boolean,
  ) {}
}

function noop(): void {}

/** The waiter whose promise is being created: the executor runs synchronously inside `new Promise`. */
let waiterBeingCreated: ReadWaiter | undefined;
/** One shared executor for every waiting read (no closure per call). */
function captureWaiterSettlers(resolve: (value: ReadResult) => void, reject: (err: unknown) => void): void {
  const w = waiterBeingCreated as ReadWaiter;
  w.resolve = resolve;
  w.reject = reject;
}

/** The promise a waiting read settles: its resolve and reject are stored on the waiter itself. */
export function waiterPromise(waiter: ReadWaiter): Promise<ReadResult> {
  waiterBeingCreated = waiter;
  const promise = new Promise<ReadResult>(captureWaiterSettlers);
  waiterBeingCreated = undefined;
  return promise;
}

/** Checks a `read`/`readBytes` count: a non-negative integer, or `undefined` for all. */
export function checkCount(n: number | undefined, what: string): SockchanError | undefined {
  if (n === undefined) return undefined;
  if (!Number.isSafeInteger(n) || n < 0) {
    return new SockchanError(`expected non-negative integer but got "${valueText(n)}"`, {
      code: 'ERR_SOCKCHAN_BAD_VALUE',
      errorCode: ['TCL', 'VALUE', 'NUMBER'],
      cause: what,
    });
  }
  return undefined;
}
