// A virtual clock for the state machine: scripted resolver answers and attempt outcomes, every
// action recorded with its (virtual) time. No real timers, no sockets.
import { HappyEyeballs } from '../src/index.js';
import type { Action, Attempt, Family, Failure, HappyEyeballsOptions } from '../src/index.js';

/** A resolver answer for one family, arriving at `at` ms. */
export type Answer = { at: number; addresses: string[] } | { at: number; error: string };

/** How attempts to one address end, `after` ms after they start: `connect`, an errno, or never. */
export type Outcome = { after: number; /** `'connect'` or an errno name. */ result: string } | 'blackhole';

export interface Scenario {
  options?: Partial<HappyEyeballsOptions>;
  answers: { 6?: Answer; 4?: Answer };
  /** By address; an array gives the outcomes of the 1st, 2nd, ... attempt to that address. Default: black hole. */
  outcomes?: Record<string, Outcome | Outcome[]>;
  cancelAt?: number;
  /** Stop the clock here (default 60 s). */
  until?: number;
  /**
   * A driver's clock that lags: the n-th input is fed `now - skew[n]` (0 past the end), so the
   * machine sees time go backwards, as from a timer that fired early and stamped its due time.
   */
  skew?: readonly number[];
}

export interface SimResult {
  /** `"<ms> <action>"` lines, timer actions left out. */
  timeline: string[];
  /** Timer actions as `"<ms> timer <at|null>"`. */
  timers: string[];
  attempts: Attempt[];
  failure: Failure | undefined;
  connected: number | undefined;
  machine: HappyEyeballs;
}

interface Event {
  at: number;
  seq: number;
  run: () => Action[];
  tag?: string;
}

export function simulate(scenario: Scenario): SimResult {
  const machine = new HappyEyeballs({ port: 80, ...scenario.options });
  const timeline: string[] = [];
  const timers: string[] = [];
  let events: Event[] = [];
  let seq = 0;
  let now = 0;
  let inputs = 0;
  /** The time the next input carries. */
  const fed = (): number => now - (scenario.skew?.[inputs++] ?? 0);
  let failure: Failure | undefined;
  let connected: number | undefined;
  const tries = new Map<string, number>();
  const schedule = (at: number, run: () => Action[], tag?: string): void => {
    events.push({ at, seq: seq++, run, ...(tag === undefined ? {} : { tag }) });
  };
  const perform = (actions: Action[]): void => {
    for (const action of actions) {
      switch (action.type) {
        case 'resolve': {
          timeline.push(`${now} resolve ${action.family}`);
          const answer = scenario.answers[action.family];
          if (answer === undefined) break;
          const family: Family = action.family;
          // `at` is absolute, but an answer never comes before its question (history asks late).
          const at = Math.max(answer.at, now);
          if ('error' in answer) schedule(at, () => machine.resolveFailed(family, answer.error, fed()));
          else schedule(at, () => machine.resolved(family, answer.addresses, fed()));
          break;
        }
        case 'start': {
          const a = action.attempt;
          const local = a.localAddress === undefined ? '' : ` from ${a.localAddress}`;
          timeline.push(`${now} start #${a.id} ${a.address}${local}`);
          const n = tries.get(a.address) ?? 0;
          tries.set(a.address, n + 1);
          const spec = scenario.outcomes?.[a.address];
          const outcome = Array.isArray(spec) ? spec[n] : spec;
          if (outcome === undefined || outcome === 'blackhole') break;
          const id = a.id;
          schedule(
            now + outcome.after,
            () => (outcome.result === 'connect' ? machine.attemptSucceeded(id, fed()) : machine.attemptFailed(id, outcome.result, fed())),
          );
          break;
        }
        case 'cancel':
          timeline.push(`${now} cancel #${action.id}`);
          break;
        case 'timer':
          timers.push(`${now} timer ${action.at}`);
          events = events.filter((e) => e.tag !== 'timer');
          if (action.at !== null) schedule(action.at, () => machine.timerFired(fed()), 'timer');
          break;
        case 'connected':
          timeline.push(`${now} connected #${action.id}`);
          connected = action.id;
          break;
        case 'failed':
          timeline.push(`${now} failed ${action.failure.kind} ${action.failure.code}`);
          failure = action.failure;
          break;
      }
    }
  };
  if (scenario.cancelAt !== undefined) schedule(scenario.cancelAt, () => machine.cancel(fed()));
  perform(machine.start(fed()));
  const until = scenario.until ?? 60_000;
  // Bounded: a scenario has few events; 10 000 steps means a machine that loops.
  for (let step = 0; step < 10_000; step += 1) {
    if (machine.done || events.length === 0) break;
    events.sort((x, y) => x.at - y.at || x.seq - y.seq);
    const next = events.shift()!;
    if (next.at > until) break;
    now = next.at;
    perform(next.run());
  }
  return { timeline, timers, attempts: machine.attempts, failure, connected, machine };
}

/** Attempts as compact `"#id address outcome start-end code"` strings. */
export function brief(attempts: readonly Attempt[]): string[] {
  return attempts.map((a) => `#${a.id} ${a.address} ${a.outcome} ${a.startedAt}-${a.endedAt ?? ''}${a.code === undefined ? '' : ` ${a.code}`}`);
}
