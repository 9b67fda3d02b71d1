import { SockchanError, errnoText, valueText } from '@sockchan/base';
import { addressKey, mappedIPv4 } from './address.js';
import type { Action, Attempt, AttemptOutcome, Failure, Family, HistoryEntry } from './types.js';

/** Happy-eyeballs tuning, with RFC 8305's defaults. */
export interface HappyEyeballsTuning {
  /** Connection Attempt Delay: ms between starting attempts (default 250; 10 to 2000). */
  connectionAttemptDelay?: number;
  /** Resolution Delay: ms to wait for AAAA once A has answered (default 50; 0 to 2000). */
  resolutionDelay?: number;
  /** First Address Family Count: attempts of the preferred family before the other (default 1; 1 to 16). */
  firstAddressFamilyCount?: number;
  /** Overall limit in ms for resolving and connecting (default: none, the OS decides, as in Tcl). */
  connectTimeout?: number;
}

/** Options of a {@link HappyEyeballs} machine. */
export interface HappyEyeballsOptions extends HappyEyeballsTuning {
  /** The remote port, copied into every attempt. */
  port: number;
  /**
   * Local addresses (`myaddr`, resolved). When given, only remote addresses of their families are
   * tried, each remote address once per local address of its family (as Tcl does).
   */
  localAddresses?: readonly string[];
  /** Local port (`myport`). */
  localPort?: number;
  /** What won last time for this host (from a `ConnectHistory`): tried first. */
  preferred?: HistoryEntry;
  /** Families to resolve (default both). A literal address asks for its own family only. */
  families?: readonly Family[];
}

/** RFC 8305's defaults, as used when an option is absent. */
export const DEFAULT_TUNING: Readonly<Required<Omit<HappyEyeballsTuning, 'connectTimeout'>>> = Object.freeze({
  connectionAttemptDelay: 250,
  resolutionDelay: 50,
  firstAddressFamilyCount: 1,
});

/** An address waiting to be tried. */
interface Candidate {
  readonly address: string;
  readonly family: Family;
  readonly localAddress: string | undefined;
  /** Re-queued once after a bind conflict with a sibling attempt (see `attemptFailed`). */
  readonly requeued: boolean;
}

interface AttemptState {
  id: number;
  address: string;
  family: Family;
  localAddress: string | undefined;
  startedAbs: number;
  endedAbs: number | undefined;
  outcome: AttemptOutcome;
  code: string | undefined;
  requeued: boolean;
}

function badTuning(name: string, value: unknown, range: string): SockchanError {
  return new SockchanError(`bad ${name} "${valueText(value)}": must be an integer from ${range}`, {
    code: 'ERR_SOCKCHAN_BAD_VALUE',
    errorCode: ['NONE'],
  });
}

function checkRange(name: string, value: number | undefined, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw badTuning(name, value, `${min} to ${max}`);
  }
  return value;
}

/** Happy-eyeballs tuning with every default filled in. */
export interface ResolvedTuning {
  /** Connection Attempt Delay, ms. */
  readonly connectionAttemptDelay: number;
  /** Resolution Delay, ms. */
  readonly resolutionDelay: number;
  /** First Address Family Count. */
  readonly firstAddressFamilyCount: number;
  /** Overall limit, ms, or `undefined` for none. */
  readonly connectTimeout: number | undefined;
}

/**
 * Checks happy-eyeballs tuning and fills in the defaults. Out-of-range values fail with a
 * `SockchanError` (`ERR_SOCKCHAN_BAD_VALUE`) naming the option and its range.
 */
export function resolveTuning(tuning: HappyEyeballsTuning): ResolvedTuning {
  const connectTimeout = tuning.connectTimeout;
  if (connectTimeout !== undefined && (typeof connectTimeout !== 'number' || !Number.isFinite(connectTimeout) || connectTimeout <= 0)) {
    throw new SockchanError(`bad connectTimeout "${valueText(connectTimeout)}": must be a positive number of ms`, {
      code: 'ERR_SOCKCHAN_BAD_VALUE',
      errorCode: ['NONE'],
    });
  }
  return {
    connectionAttemptDelay: checkRange('connectionAttemptDelay', tuning.connectionAttemptDelay, 10, 2000, DEFAULT_TUNING.connectionAttemptDelay),
    resolutionDelay: checkRange('resolutionDelay', tuning.resolutionDelay, 0, 2000, DEFAULT_TUNING.resolutionDelay),
    firstAddressFamilyCount: checkRange('firstAddressFamilyCount', tuning.firstAddressFamilyCount, 1, 16, DEFAULT_TUNING.firstAddressFamilyCount),
    connectTimeout,
  };
}

/** The family of a numeric address as the machine sees it (no validation: the resolver's job). */
function familyOf(address: string): Family {
  return address.includes(':') ? 6 : 4;
}

/** Where a bind conflict between sibling attempts could happen: same family, local address and port. */
function bindingKey(family: Family, localAddress: string | undefined): string {
  return `${family}|${localAddress ?? '*'}`;
}

/**
 * The happy-eyeballs state machine of RFC 8305, without sockets, timers or a clock: every input
 * carries `now` (ms, any monotonic origin) and returns the {@link Action}s the driver must perform.
 * A `now` earlier than an earlier input's counts as that one: the attempt log never runs backwards.
 *
 * - Both families are resolved in parallel. Attempts start on the first positive answer of the
 *   preferred family (IPv6, or what `preferred` says), on a negative one once the other family
 *   answered, or `resolutionDelay` after a positive answer of the other family.
 * - Addresses are tried in the resolver's order, families interleaved (`firstAddressFamilyCount`
 *   of the preferred family first); a late answer joins the remaining order; duplicates are dropped
 *   (every spelling of an address is one; an IPv4-mapped `::ffff:a.b.c.d` is IPv4 `a.b.c.d` when
 *   IPv4 may be tried).
 * - A new attempt starts `connectionAttemptDelay` after the previous one, or at once when the most
 *   recent one fails. Earlier attempts keep running: the first to connect wins, the others are
 *   cancelled.
 * - `connectTimeout` bounds the whole; `cancel()` ends it at once.
 */
export class HappyEyeballs {
  readonly #port: number;
  readonly #delay: number;
  readonly #resolutionDelay: number;
  readonly #firstCount: number;
  readonly #connectTimeout: number | undefined;
  readonly #locals: readonly string[] | undefined;
  readonly #localPort: number | undefined;
  readonly #preferredKey: string | undefined;
  readonly #families: readonly Family[];
  /** The preferred family among those we can use. */
  #first: Family = 6;
  #usable: Family[] = [];
  /**
   * With a history entry, the other family is asked for only when needed (see `start`); until
   * then it is held here, with the time it will be asked for at the latest.
   */
  #deferred: Family | undefined;
  #deferredAskAt: number | undefined;

  #t0 = 0;
  /** The latest `now` an input brought: an earlier one counts as this (time never goes backwards). */
  #latest = Number.NEGATIVE_INFINITY;
  #phase: 'new' | 'resolving' | 'connecting' | 'done' = 'new';
  readonly #answered = new Set<Family>();
  readonly #resolveErrors = new Map<Family, string>();
  #anyAddress = false;
  readonly #queues = new Map<Family, Candidate[]>([[6, []], [4, []]]);
  readonly #seen = new Set<string>();
  readonly #attempts: AttemptState[] = [];
  readonly #serialized = new Set<string>();
  #lastFailureCode: string | undefined;

  #resolutionDeadline: number | undefined;
  #nextAttemptAt: number | undefined;
  #deadline: number | undefined;
  #armedTimer: number | null = null;

  /** Validates the options (throws a `SockchanError` for bad tuning); nothing starts before `start`. */
  constructor(options: HappyEyeballsOptions) {
    const tuning = resolveTuning(options);
    this.#port = options.port;
    this.#delay = tuning.connectionAttemptDelay;
    this.#resolutionDelay = tuning.resolutionDelay;
    this.#firstCount = tuning.firstAddressFamilyCount;
    this.#connectTimeout = tuning.connectTimeout;
    this.#locals = options.localAddresses;
    this.#localPort = options.localPort;
    this.#families = options.families ?? [6, 4];
    const wanted: Family[] = options.preferred?.family === 4 ? [4, 6] : [6, 4];
    this.#usable = wanted.filter((f) => this.#families.includes(f) && (this.#locals === undefined || this.#locals.some((l) => familyOf(l) === f)));
    const preferred = options.preferred?.address;
    this.#preferredKey = preferred === undefined ? undefined : addressKey(this.#unmap(preferred));
    this.#first = this.#usable[0] ?? 6;
    const other: Family = this.#first === 6 ? 4 : 6;
    if (options.preferred !== undefined && options.preferred.family === this.#first && this.#families.includes(other)) {
      this.#deferred = other;
    }
  }

  /** Whether the machine has reached `connected` or `failed`. */
  get done(): boolean {
    return this.#phase === 'done';
  }

  /** Every attempt so far, in the order started, with times relative to `start`. */
  get attempts(): Attempt[] {
    return this.#attempts.map((a) => this.#snapshot(a));
  }

  /** One attempt by id, or `undefined`. */
  attempt(id: number): Attempt | undefined {
    const a = this.#attempts[id - 1];
    return a === undefined ? undefined : this.#snapshot(a);
  }

  /**
   * Begins: asks for the answers of each family (AAAA first) and arms the overall timeout.
   *
   * With a `preferred` entry (history), only the remembered family is asked at first: the other
   * is asked when the remembered one answers with nothing usable, when an attempt fails, when
   * nothing is left to try, or `resolutionDelay` after the start, whichever comes first. A
   * connect that history predicts right then costs one lookup instead of two; one it predicts
   * wrong still has the other family's answer long before the Connection Attempt Delay ends.
   */
  start(now: number): Action[] {
    if (this.#phase !== 'new') return [];
    now = this.#clock(now);
    this.#t0 = now;
    this.#phase = 'resolving';
    if (this.#connectTimeout !== undefined) this.#deadline = now + this.#connectTimeout;
    const actions: Action[] = [];
    for (const family of [6, 4] as const) {
      if (this.#families.includes(family) && family !== this.#deferred) actions.push({ type: 'resolve', family });
    }
    if (this.#deferred !== undefined) this.#deferredAskAt = now + this.#resolutionDelay;
    this.#settle(now, actions);
    return actions;
  }

  /** The resolver answered `family` with these addresses, in its order of preference. */
  resolved(family: Family, addresses: readonly string[], now: number): Action[] {
    if (this.#phase !== 'resolving' && this.#phase !== 'connecting') return [];
    if (this.#answered.has(family)) return [];
    now = this.#clock(now);
    this.#answered.add(family);
    const added = this.#addAnswers(family, addresses);
    const actions: Action[] = [];
    if (family === this.#first && added === 0) this.#askDeferred(actions);
    if (this.#phase === 'resolving') this.#maybeOpenGate(family, added > 0, now);
    this.#settle(now, actions);
    return actions;
  }

  /** The resolver failed for `family` (`code` such as `'ENOTFOUND'`): an empty answer. */
  resolveFailed(family: Family, code: string, now: number): Action[] {
    if (!this.#answered.has(family)) this.#resolveErrors.set(family, code);
    return this.resolved(family, [], now);
  }

  /** Attempt `id` connected. */
  attemptSucceeded(id: number, now: number): Action[] {
    const a = this.#attempts[id - 1];
    if (this.#phase === 'done' || a === undefined || a.outcome !== 'pending') return [];
    now = this.#clock(now);
    a.outcome = 'connected';
    a.endedAbs = now;
    // The winner first, then the losers: the driver hands the socket over before closing the rest.
    const actions: Action[] = [{ type: 'connected', id }];
    this.#endOthers('cancelled', undefined, now, actions);
    this.#phase = 'done';
    this.#settle(now, actions);
    return actions;
  }

  /**
   * Attempt `id` failed with errno `code`. When the most recent attempt fails, the next starts at
   * once. A bind conflict (`EADDRINUSE`) with `myport` while a sibling attempt holds the same local
   * family and address is not final: on systems whose SO_REUSEADDR refuses two connecting sockets
   * on one port (the BSDs), the address is tried again once that sibling has ended.
   */
  attemptFailed(id: number, code: string, now: number): Action[] {
    const a = this.#attempts[id - 1];
    if (this.#phase === 'done' || a === undefined || a.outcome !== 'pending') return [];
    now = this.#clock(now);
    a.outcome = 'failed';
    a.code = code;
    a.endedAbs = now;
    this.#lastFailureCode = code;
    const actions: Action[] = [];
    this.#askDeferred(actions);
    if (code === 'EADDRINUSE' && this.#localPort !== undefined && !a.requeued) {
      const key = bindingKey(a.family, a.localAddress);
      if (this.#attempts.some((b) => b.outcome === 'pending' && bindingKey(b.family, b.localAddress) === key)) {
        this.#serialized.add(key);
        this.#queue(a.family).unshift({ address: a.address, family: a.family, localAddress: a.localAddress, requeued: true });
      }
    }
    this.#settle(now, actions);
    return actions;
  }

  /** The timer armed by the last `timer` action fired. Early calls do nothing harmful. */
  timerFired(now: number): Action[] {
    this.#armedTimer = null;
    if (this.#phase === 'done' || this.#phase === 'new') return [];
    now = this.#clock(now);
    const actions: Action[] = [];
    if (this.#deadline !== undefined && now >= this.#deadline) {
      this.#finish({ kind: 'timeout', code: 'ETIMEDOUT' }, 'timeout', 'ETIMEDOUT', now, actions);
      return actions;
    }
    if (this.#deferredAskAt !== undefined && now >= this.#deferredAskAt) this.#askDeferred(actions);
    if (this.#resolutionDeadline !== undefined && now >= this.#resolutionDeadline) {
      this.#resolutionDeadline = undefined;
      if (this.#phase === 'resolving') this.#phase = 'connecting';
    }
    this.#settle(now, actions);
    return actions;
  }

  /** Gives up at once (the caller's AbortSignal): every running attempt is cancelled. */
  cancel(now: number): Action[] {
    if (this.#phase === 'done') return [];
    now = this.#clock(now);
    const actions: Action[] = [];
    this.#finish({ kind: 'aborted', code: 'ABORT_ERR' }, 'aborted', undefined, now, actions);
    return actions;
  }

  /** `now`, or the latest time an input brought when `now` is earlier (a timer that fired early). */
  #clock(now: number): number {
    if (now > this.#latest) this.#latest = now;
    return this.#latest;
  }

  /** The IPv4 address of an IPv4-mapped one when IPv4 may be tried (not for an IPv6 literal or `myaddr`). */
  #unmap(address: string): string {
    return this.#usable.includes(4) ? (mappedIPv4(address) ?? address) : address;
  }

  #snapshot(a: AttemptState): Attempt {
    // Property by property, in the documented order: a conditional spread is a copy through
    // V8's runtime each, and gives each snapshot a map of its own (slow to read and to copy).
    const s: { -readonly [K in keyof Attempt]: Attempt[K] } = { id: a.id, address: a.address, family: a.family, port: this.#port } as Attempt;
    if (a.localAddress !== undefined) s.localAddress = a.localAddress;
    if (this.#localPort !== undefined) s.localPort = this.#localPort;
    s.startedAt = a.startedAbs - this.#t0;
    if (a.endedAbs !== undefined) s.endedAt = a.endedAbs - this.#t0;
    s.outcome = a.outcome;
    const code = a.code;
    if (code !== undefined) {
      s.code = code;
      s.message = errnoText(code);
    }
    return s;
  }

  #queue(family: Family): Candidate[] {
    const q = this.#queues.get(family);
    if (q === undefined) throw new Error('unreachable: no queue for family');
    return q;
  }

  /** Adds an answer's addresses; returns how many usable candidates it gave. */
  #addAnswers(family: Family, addresses: readonly string[]): number {
    let added = 0;
    const queue = this.#queue(family);
    for (const raw of addresses) {
      // `::ffff:192.0.2.1` is 192.0.2.1: one host, one attempt, filed as IPv4.
      const address = this.#unmap(raw.toLowerCase());
      // An answer may carry an address of the other family (a resolver that maps): file it there.
      const fam = familyOf(address);
      this.#anyAddress = true;
      if (!this.#usable.includes(fam)) continue;
      const target = fam === family ? queue : this.#queue(fam);
      const locals = this.#locals === undefined ? [undefined] : this.#locals.filter((l) => familyOf(l) === fam);
      for (const localAddress of locals) {
        const key = `${addressKey(address)}|${localAddress ?? ''}`;
        if (this.#seen.has(key)) continue;
        this.#seen.add(key);
        const candidate: Candidate = { address, family: fam, localAddress, requeued: false };
        // What won last time goes first.
        if (addressKey(address) === this.#preferredKey) target.unshift(candidate);
        else target.push(candidate);
        added += 1;
      }
    }
    return added;
  }

  #maybeOpenGate(family: Family, positive: boolean, now: number): void {
    const first = this.#first;
    const usableOthers = this.#usable.filter((f) => f !== first);
    const allUsableAnswered = this.#usable.every((f) => this.#answered.has(f));
    if (family === first && positive) {
      this.#phase = 'connecting';
    } else if (allUsableAnswered) {
      this.#phase = 'connecting';
    } else if (usableOthers.includes(family) && positive && this.#resolutionDeadline === undefined) {
      this.#resolutionDeadline = now + this.#resolutionDelay;
      if (this.#resolutionDelay === 0) this.#phase = 'connecting';
    }
    if (this.#phase === 'connecting') this.#resolutionDeadline = undefined;
  }

  /** The next candidate to start, by family interleaving, skipping those that must wait. */
  #pickNext(): Candidate | undefined {
    const other: Family = this.#first === 6 ? 4 : 6;
    let order: Family[];
    const last = this.#attempts[this.#attempts.length - 1];
    if (last === undefined || this.#attempts.length < this.#firstCount) order = [this.#first, other];
    else order = last.family === 6 ? [4, 6] : [6, 4];
    for (const family of order) {
      const queue = this.#queue(family);
      const index = queue.findIndex((c) => this.#eligible(c));
      if (index >= 0) return queue.splice(index, 1)[0];
    }
    return undefined;
  }

  #eligible(c: Candidate): boolean {
    const key = bindingKey(c.family, c.localAddress);
    if (!this.#serialized.has(key)) return true;
    return !this.#attempts.some((a) => a.outcome === 'pending' && bindingKey(a.family, a.localAddress) === key);
  }

  #hasCandidates(): boolean {
    return this.#queue(6).length > 0 || this.#queue(4).length > 0;
  }

  /** Starts what may start, decides failure, and arms the timer. */
  #settle(now: number, actions: Action[]): void {
    if (this.#phase === 'connecting') {
      this.#nextAttemptAt = undefined;
      // Bounded: each turn starts one candidate or stops.
      for (let guard = 0; guard < 10_000; guard += 1) {
        const recent = this.#attempts[this.#attempts.length - 1];
        if (recent !== undefined && recent.outcome === 'pending' && now < recent.startedAbs + this.#delay) {
          if (this.#hasCandidates()) this.#nextAttemptAt = recent.startedAbs + this.#delay;
          break;
        }
        const next = this.#pickNext();
        if (next === undefined) break;
        const state: AttemptState = {
          id: this.#attempts.length + 1,
          address: next.address,
          family: next.family,
          localAddress: next.localAddress,
          startedAbs: now,
          endedAbs: undefined,
          outcome: 'pending',
          code: undefined,
          requeued: next.requeued,
        };
        this.#attempts.push(state);
        actions.push({ type: 'start', attempt: this.#snapshot(state) });
      }
      const running = this.#attempts.some((a) => a.outcome === 'pending');
      if (!running && !this.#hasCandidates()) this.#askDeferred(actions);
      const allAnswered = this.#families.every((f) => this.#answered.has(f));
      if (!running && !this.#hasCandidates() && allAnswered) {
        this.#decideFailure(now, actions);
        return;
      }
    }
    this.#armTimer(actions);
  }

  /** Asks for the family held back by history, once. */
  #askDeferred(actions: Action[]): void {
    const family = this.#deferred;
    if (family === undefined) return;
    this.#deferred = undefined;
    this.#deferredAskAt = undefined;
    actions.push({ type: 'resolve', family });
  }

  #decideFailure(now: number, actions: Action[]): void {
    let failure: Failure;
    if (this.#attempts.length > 0) {
      failure = { kind: 'attempts', code: this.#lastFailureCode ?? 'ECONNREFUSED' };
    } else if (this.#anyAddress) {
      failure = { kind: 'unreachable', code: 'EHOSTUNREACH' };
    } else {
      // A real resolver error (EAI_AGAIN, ...) says more than "no such name".
      const codes = [...this.#resolveErrors.values()];
      const code = codes.find((c) => c !== 'ENOTFOUND' && c !== 'ENODATA' && c !== 'EAI_NONAME' && c !== 'EAI_NODATA') ?? 'ENOTFOUND';
      failure = { kind: 'resolve', code };
    }
    this.#finish(failure, 'failed', undefined, now, actions);
  }

  #endOthers(outcome: AttemptOutcome, code: string | undefined, now: number, actions: Action[]): void {
    for (const a of this.#attempts) {
      if (a.outcome !== 'pending') continue;
      a.outcome = outcome;
      a.code = code;
      a.endedAbs = now;
      actions.push({ type: 'cancel', id: a.id });
    }
  }

  #finish(failure: Failure, pendingOutcome: AttemptOutcome, code: string | undefined, now: number, actions: Action[]): void {
    this.#endOthers(pendingOutcome, code, now, actions);
    this.#phase = 'done';
    this.#armTimer(actions);
    actions.push({ type: 'failed', failure });
  }

  #armTimer(actions: Action[]): void {
    let at: number | null = null;
    if (this.#phase !== 'done') {
      for (const t of [this.#deferredAskAt, this.#resolutionDeadline, this.#nextAttemptAt, this.#deadline]) {
        if (t !== undefined && (at === null || t < at)) at = t;
      }
    }
    if (at !== this.#armedTimer) {
      this.#armedTimer = at;
      actions.push({ type: 'timer', at });
    }
  }
}
