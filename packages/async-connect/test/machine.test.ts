import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SockchanError } from '@sockchan/base';
import { HappyEyeballs, resolveTuning } from '../src/index.js';
import { brief, simulate } from './sim.js';

const refused = (after: number) => ({ after, result: 'ECONNREFUSED' });
const ok = (after: number) => ({ after, result: 'connect' });
const none = (at: number) => ({ at, error: 'ENOTFOUND' });

describe('resolution and the start of attempts', () => {
  it('IPv6 only: starts on the AAAA answer', () => {
    const r = simulate({ answers: { 6: { at: 5, addresses: ['::1'] }, 4: none(9) }, outcomes: { '::1': ok(1) } });
    expect(r.timeline).toEqual(['0 resolve 6', '0 resolve 4', '5 start #1 ::1', '6 connected #1']);
  });

  it('IPv4 only with a negative AAAA first: starts on the A answer', () => {
    const r = simulate({ answers: { 6: none(3), 4: { at: 5, addresses: ['127.0.0.1'] } }, outcomes: { '127.0.0.1': ok(1) } });
    expect(r.timeline).toEqual(['0 resolve 6', '0 resolve 4', '5 start #1 127.0.0.1', '6 connected #1']);
  });

  it('A first, negative AAAA within the Resolution Delay: starts when AAAA says no', () => {
    const r = simulate({ answers: { 6: none(20), 4: { at: 5, addresses: ['127.0.0.1'] } }, outcomes: { '127.0.0.1': ok(1) } });
    expect(r.timeline.slice(2)).toEqual(['20 start #1 127.0.0.1', '21 connected #1']);
  });

  it('A first, AAAA never answers: starts after the Resolution Delay (50 ms)', () => {
    const r = simulate({ answers: { 4: { at: 5, addresses: ['127.0.0.1'] } }, outcomes: { '127.0.0.1': ok(1) } });
    expect(r.timeline.slice(2)).toEqual(['55 start #1 127.0.0.1', '56 connected #1']);
    // A fired timer is spent: nothing to disarm.
    expect(r.timers).toEqual(['5 timer 55']);
  });

  it('A before AAAA within the Resolution Delay: IPv6 still goes first', () => {
    const r = simulate({
      answers: { 6: { at: 30, addresses: ['::1'] }, 4: { at: 0, addresses: ['127.0.0.1'] } },
      outcomes: { '::1': ok(1) },
    });
    expect(r.timeline.slice(2)).toEqual(['30 start #1 ::1', '31 connected #1']);
  });

  it('A before AAAA beyond the Resolution Delay: IPv4 starts at 50, IPv6 joins as the next attempt', () => {
    const r = simulate({
      answers: { 6: { at: 80, addresses: ['::1'] }, 4: { at: 0, addresses: ['127.0.0.1'] } },
      outcomes: { '::1': ok(2) },
    });
    expect(r.timeline.slice(2)).toEqual(['50 start #1 127.0.0.1', '300 start #2 ::1', '302 connected #2', '302 cancel #1']);
  });

  it('a custom Resolution Delay of 0 starts on the A answer at once', () => {
    const r = simulate({
      options: { resolutionDelay: 0 },
      answers: { 6: { at: 80, addresses: ['::1'] }, 4: { at: 10, addresses: ['127.0.0.1'] } },
      outcomes: { '127.0.0.1': ok(1) },
    });
    expect(r.timeline.slice(2)).toEqual(['10 start #1 127.0.0.1', '11 connected #1']);
  });

  it('empty answers from both families fail with the resolver text code', () => {
    const r = simulate({ answers: { 6: { at: 2, addresses: [] }, 4: { at: 4, addresses: [] } } });
    expect(r.timeline.slice(2)).toEqual(['4 failed resolve ENOTFOUND']);
    expect(r.attempts).toEqual([]);
  });

  it('a real resolver error wins over "no such name"', () => {
    const r = simulate({ answers: { 6: none(1), 4: { at: 3, error: 'EAI_AGAIN' } } });
    expect(r.timeline.slice(2)).toEqual(['3 failed resolve EAI_AGAIN']);
  });

  it('waits for the slower family before failing', () => {
    const r = simulate({ answers: { 6: { at: 5, addresses: ['::1'] }, 4: { at: 500, addresses: [] } }, outcomes: { '::1': refused(1) } });
    expect(r.timeline.slice(2)).toEqual(['5 start #1 ::1', '500 failed attempts ECONNREFUSED']);
  });

  it('a late answer starts at once when nothing is running', () => {
    const r = simulate({
      answers: { 6: { at: 5, addresses: ['::1'] }, 4: { at: 100, addresses: ['127.0.0.1'] } },
      outcomes: { '::1': refused(5), '127.0.0.1': ok(1) },
    });
    expect(r.timeline.slice(2)).toEqual(['5 start #1 ::1', '100 start #2 127.0.0.1', '101 connected #2']);
  });

  it('asks only for the families it is given (a literal address)', () => {
    const r = simulate({ options: { families: [4] }, answers: { 4: { at: 0, addresses: ['127.0.0.1'] } }, outcomes: { '127.0.0.1': ok(1) } });
    expect(r.timeline).toEqual(['0 resolve 4', '0 start #1 127.0.0.1', '1 connected #1']);
  });
});

describe('attempt pacing and order', () => {
  const both = { 6: { at: 0, addresses: ['::1'] }, 4: { at: 0, addresses: ['127.0.0.1'] } };

  it('black-holed ::1: 127.0.0.1 starts 250 ms later and wins; ::1 is cancelled', () => {
    const r = simulate({ answers: both, outcomes: { '127.0.0.1': ok(1) } });
    expect(r.timeline.slice(2)).toEqual(['0 start #1 ::1', '250 start #2 127.0.0.1', '251 connected #2', '251 cancel #1']);
    expect(r.timers).toEqual(['0 timer 250']);
    expect(brief(r.attempts)).toEqual(['#1 ::1 cancelled 0-251', '#2 127.0.0.1 connected 250-251']);
  });

  it('an early failure starts the next attempt at once', () => {
    const r = simulate({ answers: both, outcomes: { '::1': refused(100), '127.0.0.1': ok(1) } });
    expect(r.timeline.slice(2)).toEqual(['0 start #1 ::1', '100 start #2 127.0.0.1', '101 connected #2']);
    expect(r.timers).toEqual(['0 timer 250', '100 timer null']);
  });

  it('everything refused: fails with the last failure and every attempt', () => {
    const r = simulate({
      answers: { 6: { at: 0, addresses: ['::1', '::2'] }, 4: { at: 0, addresses: ['127.0.0.1'] } },
      outcomes: { '::1': refused(1), '::2': refused(1), '127.0.0.1': refused(1) },
    });
    expect(r.timeline.slice(2)).toEqual([
      '0 start #1 ::1',
      '1 start #2 127.0.0.1',
      '2 start #3 ::2',
      '3 failed attempts ECONNREFUSED',
    ]);
    expect(brief(r.attempts)).toEqual([
      '#1 ::1 failed 0-1 ECONNREFUSED',
      '#2 127.0.0.1 failed 1-2 ECONNREFUSED',
      '#3 ::2 failed 2-3 ECONNREFUSED',
    ]);
    expect(r.attempts[0]!.message).toBe('connection refused');
  });

  it('the error code is that of the last failure in time', () => {
    const r = simulate({
      answers: both,
      outcomes: { '::1': { after: 400, result: 'ETIMEDOUT' }, '127.0.0.1': { after: 10, result: 'EHOSTUNREACH' } },
    });
    expect(r.timeline.slice(2)).toEqual(['0 start #1 ::1', '250 start #2 127.0.0.1', '400 failed attempts ETIMEDOUT']);
  });

  it('interleaves families, one attempt every 250 ms', () => {
    const r = simulate({
      options: { connectTimeout: 1000 },
      answers: { 6: { at: 0, addresses: ['::1', '::2'] }, 4: { at: 0, addresses: ['127.0.0.1', '127.0.0.2'] } },
    });
    expect(r.timeline.slice(2)).toEqual([
      '0 start #1 ::1',
      '250 start #2 127.0.0.1',
      '500 start #3 ::2',
      '750 start #4 127.0.0.2',
      '1000 cancel #1',
      '1000 cancel #2',
      '1000 cancel #3',
      '1000 cancel #4',
      '1000 failed timeout ETIMEDOUT',
    ]);
  });

  it('First Address Family Count 2: two IPv6 addresses before the first IPv4', () => {
    const r = simulate({
      options: { firstAddressFamilyCount: 2, connectTimeout: 800 },
      answers: { 6: { at: 0, addresses: ['::1', '::2', '::3'] }, 4: { at: 0, addresses: ['127.0.0.1', '127.0.0.2'] } },
    });
    expect(r.timeline.filter((l) => l.includes('start'))).toEqual([
      '0 start #1 ::1',
      '250 start #2 ::2',
      '500 start #3 127.0.0.1',
      '750 start #4 ::3',
    ]);
  });

  it('a Connection Attempt Delay of 100 ms', () => {
    const r = simulate({
      options: { connectionAttemptDelay: 100 },
      answers: { 6: { at: 0, addresses: ['::1', '::2'] }, 4: { at: 0, addresses: ['127.0.0.1'] } },
      outcomes: { '::2': ok(5) },
    });
    expect(r.timeline.slice(2)).toEqual([
      '0 start #1 ::1',
      '100 start #2 127.0.0.1',
      '200 start #3 ::2',
      '205 connected #3',
      '205 cancel #1',
      '205 cancel #2',
    ]);
  });

  it('a slow first attempt keeps running and wins after later ones started', () => {
    const r = simulate({ answers: both, outcomes: { '::1': ok(1000) } });
    expect(r.timeline.slice(2)).toEqual(['0 start #1 ::1', '250 start #2 127.0.0.1', '1000 connected #1', '1000 cancel #2']);
  });

  it('only the most recent attempt failing hurries the next one', () => {
    const r = simulate({
      answers: { 6: { at: 0, addresses: ['::1', '::2'] }, 4: { at: 0, addresses: ['127.0.0.1'] } },
      outcomes: { '::1': refused(300), '::2': ok(1) },
    });
    // #1 fails at 300 while #2 (started at 250) still has its head start: #3 waits until 500.
    expect(r.timeline.slice(2)).toEqual(['0 start #1 ::1', '250 start #2 127.0.0.1', '500 start #3 ::2', '501 connected #3', '501 cancel #2']);
  });

  it('AAAA arriving after IPv4 attempts began joins the remaining order', () => {
    const r = simulate({
      answers: { 6: { at: 120, addresses: ['::1'] }, 4: { at: 0, addresses: ['127.0.0.1', '127.0.0.2'] } },
      outcomes: { '127.0.0.1': refused(10), '::1': ok(1) },
    });
    expect(r.timeline.slice(2)).toEqual([
      '50 start #1 127.0.0.1',
      '60 start #2 127.0.0.2',
      '310 start #3 ::1',
      '311 connected #3',
      '311 cancel #2',
    ]);
  });

  it('removes duplicates, within and across answers', () => {
    const r = simulate({
      options: { connectTimeout: 2000 },
      answers: { 6: { at: 0, addresses: ['::1', '::1', '::A', '::a', '127.0.0.1'] }, 4: { at: 10, addresses: ['127.0.0.1', '127.0.0.1'] } },
      outcomes: { '::1': refused(1), '::a': refused(1), '127.0.0.1': refused(1) },
    });
    expect(r.attempts.map((a) => a.address)).toEqual(['::1', '127.0.0.1', '::a']);
    // The A answer (at 10) adds nothing new; only then is everything known to have failed.
    expect(r.timeline.at(-1)).toBe('10 failed attempts ECONNREFUSED');
  });

  it('an IPv4-mapped answer is its IPv4 address: one attempt to that host, as IPv4', () => {
    const r = simulate({
      answers: { 6: { at: 0, addresses: ['::ffff:192.0.2.1', '::1'] }, 4: { at: 0, addresses: ['192.0.2.1'] } },
      outcomes: { '::1': refused(1), '192.0.2.1': refused(1) },
    });
    expect(r.attempts.map((a) => [a.address, a.family])).toEqual([
      ['::1', 6],
      ['192.0.2.1', 4],
    ]);
    expect(r.failure).toEqual({ kind: 'attempts', code: 'ECONNREFUSED' });
  });

  it('every spelling of one address is one attempt (mapped in hex or in full, IPv6 long or short, any case)', () => {
    const r = simulate({
      answers: {
        6: { at: 0, addresses: ['::ffff:c000:201', '0:0:0:0:0:ffff:192.0.2.1', '::1', '0:0::1', '0:0:0:0:0:0:0:1', '::FFFF:192.0.2.1'] },
        4: { at: 0, addresses: ['192.0.2.1'] },
      },
      outcomes: { '::1': refused(1), '192.0.2.1': refused(1) },
    });
    expect(r.attempts.map((a) => a.address)).toEqual(['::1', '192.0.2.1']);
  });

  it('a mapped answer stays IPv6 where IPv4 may not be tried (an IPv6 literal, an IPv6 myaddr)', () => {
    const literal = simulate({ options: { families: [6] }, answers: { 6: { at: 0, addresses: ['::ffff:127.0.0.1'] } }, outcomes: { '::ffff:127.0.0.1': ok(1) } });
    expect(literal.attempts.map((a) => [a.address, a.family, a.outcome])).toEqual([['::ffff:127.0.0.1', 6, 'connected']]);
    const bound = simulate({
      options: { localAddresses: ['::1'] },
      answers: { 6: { at: 0, addresses: ['::ffff:127.0.0.1'] }, 4: { at: 0, addresses: ['127.0.0.1'] } },
      outcomes: { '::ffff:127.0.0.1': refused(1) },
    });
    expect(bound.attempts.map((a) => [a.address, a.family, a.localAddress])).toEqual([['::ffff:127.0.0.1', 6, '::1']]);
  });

  it('a remembered winner matches its answer in another spelling', () => {
    const r = simulate({
      options: { preferred: { family: 6, address: '2001:DB8::2' } },
      answers: { 6: { at: 0, addresses: ['2001:db8::1', '2001:db8:0:0:0:0:0:2'] } },
      outcomes: { '2001:db8:0:0:0:0:0:2': ok(1) },
    });
    expect(r.attempts.map((a) => [a.address, a.outcome])).toEqual([['2001:db8:0:0:0:0:0:2', 'connected']]);
  });
});

describe('timeout and abort', () => {
  const both = { 6: { at: 0, addresses: ['::1'] }, 4: { at: 0, addresses: ['127.0.0.1'] } };

  it('both black-holed: fails at the overall timeout with both attempts', () => {
    const r = simulate({ options: { connectTimeout: 1500 }, answers: both });
    expect(r.timeline.slice(2)).toEqual(['0 start #1 ::1', '250 start #2 127.0.0.1', '1500 cancel #1', '1500 cancel #2', '1500 failed timeout ETIMEDOUT']);
    expect(brief(r.attempts)).toEqual(['#1 ::1 timeout 0-1500 ETIMEDOUT', '#2 127.0.0.1 timeout 250-1500 ETIMEDOUT']);
  });

  it('the overall timeout covers name resolution', () => {
    const r = simulate({ options: { connectTimeout: 300 }, answers: {} });
    expect(r.timeline).toEqual(['0 resolve 6', '0 resolve 4', '300 failed timeout ETIMEDOUT']);
    expect(r.timers).toEqual(['0 timer 300']);
  });

  it('abort midway cancels every running attempt', () => {
    const r = simulate({ answers: both, cancelAt: 300 });
    expect(r.timeline.slice(2)).toEqual(['0 start #1 ::1', '250 start #2 127.0.0.1', '300 cancel #1', '300 cancel #2', '300 failed aborted ABORT_ERR']);
    expect(r.attempts.map((a) => a.outcome)).toEqual(['aborted', 'aborted']);
    expect(r.timers).toEqual(['0 timer 250']);
  });

  it('abort before any answer', () => {
    const r = simulate({ answers: { 6: { at: 50, addresses: ['::1'] } }, cancelAt: 10 });
    expect(r.timeline).toEqual(['0 resolve 6', '0 resolve 4', '10 failed aborted ABORT_ERR']);
  });

  it('inputs after the end change nothing', () => {
    const r = simulate({ answers: both, outcomes: { '::1': ok(1) } });
    expect(r.connected).toBe(1);
    expect(r.machine.attemptFailed(1, 'ECONNRESET', 5)).toEqual([]);
    expect(r.machine.timerFired(250)).toEqual([]);
    expect(r.machine.cancel(300)).toEqual([]);
    expect(r.machine.resolved(4, ['127.0.0.2'], 300)).toEqual([]);
    expect(r.attempts).toEqual(r.machine.attempts);
  });

  it('an input earlier than the one before counts as that one: no attempt ends before it starts', () => {
    const m = new HappyEyeballs({ port: 80 });
    m.start(0);
    m.resolved(6, ['::1'], 0);
    m.resolved(4, ['127.0.0.1'], 0);
    // The timer due at 250 came at 250.4; then a failure read 250.2 from a clock that lags.
    expect(m.timerFired(250.4).map((a) => a.type)).toEqual(['start']);
    m.attemptFailed(2, 'ECONNREFUSED', 250.2);
    m.cancel(249);
    expect(brief(m.attempts)).toEqual(['#1 ::1 aborted 0-250.4', '#2 127.0.0.1 failed 250.4-250.4 ECONNREFUSED']);
  });

  it('a timer that fires early only re-arms', () => {
    const m = new HappyEyeballs({ port: 80 });
    m.start(0);
    m.resolved(6, ['::1'], 0);
    m.resolved(4, ['127.0.0.1'], 0);
    expect(m.timerFired(249.5)).toEqual([{ type: 'timer', at: 250 }]);
    expect(m.timerFired(250).map((a) => a.type)).toEqual(['start']);
  });
});

describe('myaddr and myport', () => {
  const both = { 6: { at: 0, addresses: ['::1'] }, 4: { at: 2, addresses: ['127.0.0.1'] } };

  it('myaddr of IPv6: only IPv6 addresses are tried, bound to it', () => {
    const r = simulate({ options: { localAddresses: ['::1'] }, answers: both, outcomes: { '::1': refused(1) } });
    expect(r.timeline.slice(2)).toEqual(['0 start #1 ::1 from ::1', '2 failed attempts ECONNREFUSED']);
  });

  it('myaddr of IPv4 starts on the A answer without a Resolution Delay', () => {
    const r = simulate({ options: { localAddresses: ['127.0.0.1'] }, answers: { 4: { at: 3, addresses: ['127.0.0.1'] } }, outcomes: { '127.0.0.1': ok(1) } });
    expect(r.timeline.slice(2)).toEqual(['3 start #1 127.0.0.1 from 127.0.0.1', '4 connected #1']);
  });

  it('no address of myaddr family: host is unreachable, nothing started', () => {
    const r = simulate({ options: { localAddresses: ['::1'] }, answers: { 6: none(1), 4: { at: 2, addresses: ['127.0.0.1'] } } });
    expect(r.timeline.slice(2)).toEqual(['2 failed unreachable EHOSTUNREACH']);
  });

  it('myaddr with both families: each remote address once per local address of its family', () => {
    const r = simulate({
      options: { localAddresses: ['::1', '127.0.0.1', '127.0.0.2'] },
      answers: both,
      outcomes: { '::1': refused(1), '127.0.0.1': [refused(1), refused(1)] },
    });
    expect(r.timeline.slice(2)).toEqual([
      '0 start #1 ::1 from ::1',
      '2 start #2 127.0.0.1 from 127.0.0.1',
      '3 start #3 127.0.0.1 from 127.0.0.2',
      '4 failed attempts ECONNREFUSED',
    ]);
  });

  it('myport: a bind conflict with a running sibling waits for it instead of failing', () => {
    const r = simulate({
      options: { localPort: 4000, localAddresses: ['::1'] },
      answers: { 6: { at: 0, addresses: ['::1', '::2'] }, 4: none(0) },
      outcomes: { '::1': refused(400), '::2': [{ after: 1, result: 'EADDRINUSE' }, ok(1)] },
    });
    expect(r.timeline.slice(2)).toEqual(['0 start #1 ::1 from ::1', '250 start #2 ::2 from ::1', '400 start #3 ::2 from ::1', '401 connected #3']);
    expect(r.attempts[1]).toMatchObject({ outcome: 'failed', code: 'EADDRINUSE', localPort: 4000 });
  });

  it('myport: a bind conflict with nothing else running is the real error', () => {
    const r = simulate({
      options: { localPort: 4000 },
      answers: { 6: { at: 0, addresses: ['::1'] }, 4: none(0) },
      outcomes: { '::1': { after: 0, result: 'EADDRINUSE' } },
    });
    expect(r.timeline.slice(2)).toEqual(['0 start #1 ::1', '0 failed attempts EADDRINUSE']);
    expect(r.attempts[0]?.message).toBe('address already in use');
  });
});

describe('history (preferred family and address)', () => {
  const v4won = { family: 4 as const, address: '127.0.0.1' };

  it('a remembered IPv4 winner goes first, and only A is asked for while it is on time', () => {
    const r = simulate({
      options: { preferred: v4won },
      answers: { 6: { at: 1, addresses: ['::1'] }, 4: { at: 2, addresses: ['127.0.0.1'] } },
      outcomes: { '127.0.0.1': ok(1) },
    });
    expect(r.timeline).toEqual(['0 resolve 4', '2 start #1 127.0.0.1', '3 connected #1']);
    expect(r.timers).toEqual(['0 timer 50', '3 timer null']);
  });

  it('black-holed remembered address: AAAA is asked at the Resolution Delay and tried at 250 ms', () => {
    const r = simulate({
      options: { preferred: v4won },
      answers: { 6: { at: 0, addresses: ['::1'] }, 4: { at: 0, addresses: ['127.0.0.1'] } },
      outcomes: { '::1': ok(1) },
    });
    expect(r.timeline).toEqual(['0 resolve 4', '0 start #1 127.0.0.1', '50 resolve 6', '250 start #2 ::1', '251 connected #2', '251 cancel #1']);
  });

  it('the remembered family answering with nothing asks for the other at once', () => {
    const r = simulate({
      options: { preferred: v4won },
      answers: { 4: { at: 2, addresses: [] }, 6: { at: 5, addresses: ['::1'] } },
      outcomes: { '::1': ok(1) },
    });
    expect(r.timeline).toEqual(['0 resolve 4', '2 resolve 6', '5 start #1 ::1', '6 connected #1']);
  });

  it('the remembered address goes first within its family; a failure asks for the other family', () => {
    const r = simulate({
      options: { preferred: { family: 4, address: '127.0.0.3' } },
      answers: { 6: { at: 0, addresses: ['::1'] }, 4: { at: 0, addresses: ['127.0.0.2', '127.0.0.3'] } },
      outcomes: { '127.0.0.3': refused(1), '127.0.0.2': refused(3), '::1': ok(1) },
    });
    // AAAA is asked when 127.0.0.3 fails; 127.0.0.2 is already known and goes second.
    expect(r.timeline).toEqual([
      '0 resolve 4',
      '0 start #1 127.0.0.3',
      '1 resolve 6',
      '1 start #2 127.0.0.2',
      '4 start #3 ::1',
      '5 connected #3',
    ]);
  });

  it('a remembered address that is gone: its family still goes first', () => {
    const r = simulate({
      options: { preferred: { family: 4, address: '127.0.0.9' } },
      answers: { 6: { at: 0, addresses: ['::1'] }, 4: { at: 0, addresses: ['127.0.0.2'] } },
      outcomes: { '127.0.0.2': ok(1) },
    });
    expect(r.timeline).toEqual(['0 resolve 4', '0 start #1 127.0.0.2', '1 connected #1']);
  });

  it('a remembered IPv4 winner whose A answer is slow: AAAA, asked at 50, starts after the Resolution Delay', () => {
    const r = simulate({
      options: { preferred: v4won },
      answers: { 6: { at: 0, addresses: ['::1'] }, 4: { at: 200, addresses: ['127.0.0.1'] } },
      outcomes: { '127.0.0.1': ok(1) },
    });
    expect(r.timeline).toEqual([
      '0 resolve 4',
      '50 resolve 6',
      '100 start #1 ::1',
      '350 start #2 127.0.0.1',
      '351 connected #2',
      '351 cancel #1',
    ]);
  });

  it('a remembered IPv6 winner asks for AAAA only; everything failing still waits for A', () => {
    const r = simulate({
      options: { preferred: { family: 6, address: '::1' } },
      answers: { 6: { at: 1, addresses: ['::1'] }, 4: { at: 3, addresses: ['127.0.0.1'] } },
      outcomes: { '::1': refused(1), '127.0.0.1': refused(1) },
    });
    expect(r.timeline).toEqual(['0 resolve 6', '1 start #1 ::1', '2 resolve 4', '3 start #2 127.0.0.1', '4 failed attempts ECONNREFUSED']);
  });
});

describe('tuning', () => {
  it('accepts the documented ranges and rejects the rest with a SockchanError', () => {
    expect(resolveTuning({})).toEqual({ connectionAttemptDelay: 250, resolutionDelay: 50, firstAddressFamilyCount: 1, connectTimeout: undefined });
    expect(resolveTuning({ connectionAttemptDelay: 10 }).connectionAttemptDelay).toBe(10);
    expect(resolveTuning({ connectionAttemptDelay: 2000 }).connectionAttemptDelay).toBe(2000);
    for (const bad of [9, 2001, 2.5, Number.NaN]) {
      expect(() => new HappyEyeballs({ port: 1, connectionAttemptDelay: bad })).toThrow(SockchanError);
    }
    expect(() => resolveTuning({ connectionAttemptDelay: 5 })).toThrow('bad connectionAttemptDelay "5": must be an integer from 10 to 2000');
    expect(() => resolveTuning({ firstAddressFamilyCount: 0 })).toThrow('firstAddressFamilyCount');
    expect(() => resolveTuning({ connectTimeout: -1 })).toThrow('bad connectTimeout "-1"');
  });
});

describe('invariants (property)', () => {
  it('whatever the answers, outcomes and clock lag: one winner at most, every attempt ends, pacing holds', () => {
    const address = fc.constantFrom('::1', '::2', '::3', '127.0.0.1', '127.0.0.2');
    const outcome = fc.oneof(
      fc.constant('blackhole' as const),
      fc.record({ after: fc.integer({ min: 0, max: 2000 }), result: fc.constantFrom('connect', 'ECONNREFUSED', 'EHOSTUNREACH') }),
    );
    const answer = fc.option(fc.record({ at: fc.integer({ min: 0, max: 500 }), addresses: fc.array(address, { maxLength: 4 }) }), { nil: undefined });
    const preferred = fc.option(fc.record({ family: fc.constantFrom(4 as const, 6 as const), address }), { nil: undefined });
    // Inputs stamped up to 2 ms late by a lagging clock: time seems to go backwards. (Quarters of a
    // ms: exact in binary, so the pacing check compares times without rounding.)
    const skew = fc.array(fc.integer({ min: 0, max: 8 }).map((n) => n / 4), { maxLength: 12 });
    fc.assert(
      fc.property(answer, answer, fc.dictionary(address, outcome), fc.integer({ min: 10, max: 400 }), preferred, skew, (a6, a4, outcomes, delay, pref, lag) => {
        const answers = { ...(a6 === undefined ? {} : { 6: a6 }), ...(a4 === undefined ? {} : { 4: a4 }) };
        const options = { connectTimeout: 5000, connectionAttemptDelay: delay, ...(pref === undefined ? {} : { preferred: pref }) };
        const r = simulate({ options, answers, outcomes, skew: lag });
        expect(r.machine.done).toBe(true);
        expect(r.attempts.filter((a) => a.outcome === 'connected').length).toBe(r.connected === undefined ? 0 : 1);
        expect(r.attempts.every((a) => a.outcome !== 'pending' && a.endedAt !== undefined)).toBe(true);
        expect(new Set(r.attempts.map((a) => a.address)).size).toBe(r.attempts.length);
        // The log never runs backwards: each attempt ends after it starts, and starts after the one before.
        for (const a of r.attempts) expect(a.endedAt).toBeGreaterThanOrEqual(a.startedAt);
        for (let i = 1; i < r.attempts.length; i += 1) expect(r.attempts[i]!.startedAt).toBeGreaterThanOrEqual(r.attempts[i - 1]!.startedAt);
        for (let i = 1; i < r.attempts.length; i += 1) {
          const prev = r.attempts[i - 1]!;
          const cur = r.attempts[i]!;
          // Pacing: the next attempt waits the delay unless the previous one had already ended.
          expect(cur.startedAt >= prev.startedAt + delay || (prev.endedAt !== undefined && prev.endedAt <= cur.startedAt)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
