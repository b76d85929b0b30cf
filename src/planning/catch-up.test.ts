import { describe, expect, it } from 'vitest';
import { schedule, time, lines as zoneLines } from '../../test/support/planning-fixtures.ts';
import { planSubscriber } from './planner.ts';
import type { PlanStep, Schedule } from './types.ts';

const lines = (s: Schedule, now: string, zone = 'Europe/Paris'): string[] => zoneLines(s, zone, now);

// Late subscribers (docs/campaigns.md, "Late joiners and catch-up"), with the shipped campaign in
// Paris unless stated. Its sends: d30 16 Dec 09:00Z, d7 8 Jan 09:00Z, d1 14 Jan 09:00Z (whatsapp,
// email), h6 14 Jan 17:00Z (whatsapp); deadline 14 Jan 23:00Z. Expected instants are hand-computed
// literals.

const rest = [
  'd1 whatsapp 2026-01-14T09:00:00Z scheduled',
  'd1 email 2026-01-14T09:00:00Z scheduled',
  'h6 whatsapp 2026-01-14T17:00:00Z scheduled',
];

describe('catch-up', () => {
  it('is not needed when nothing was missed', () => {
    expect(lines(schedule(), '2025-12-16T08:59:59Z')).toHaveLength(7);
  });

  it('sends the most recent missed step now when the next step is more than minGap away', () => {
    // 10 Jan 13:00 local: d30 and d7 missed, d1 is 3 days 21 hours away.
    expect(lines(schedule(), '2026-01-10T12:00:00Z')).toEqual([
      'd7 whatsapp 2026-01-10T12:00:00Z catch-up',
      'd7 email 2026-01-10T12:00:00Z catch-up',
      ...rest,
    ]);
  });

  it('rounds now up to the next whole minute', () => {
    expect(lines(schedule(), '2026-01-10T12:00:00.001Z')[0]).toBe(
      'd7 whatsapp 2026-01-10T12:01:00Z catch-up',
    );
  });

  it('waits for the window to open when joining at night', () => {
    // 9 Jan 06:00 local → 09:00 local the same day.
    expect(lines(schedule(), '2026-01-09T05:00:00Z').slice(0, 2)).toEqual([
      'd7 whatsapp 2026-01-09T08:00:00Z catch-up',
      'd7 email 2026-01-09T08:00:00Z catch-up',
    ]);
    // 9 Jan 21:00 local → 09:00 local the next day.
    expect(lines(schedule(), '2026-01-09T20:00:00Z').slice(0, 2)).toEqual([
      'd7 whatsapp 2026-01-10T08:00:00Z catch-up',
      'd7 email 2026-01-10T08:00:00Z catch-up',
    ]);
  });

  it('sends at the exact end of the window, but not one minute later', () => {
    expect(lines(schedule(), '2026-01-09T19:00:00Z')[0]).toBe('d7 whatsapp 2026-01-09T19:00:00Z catch-up');
    expect(lines(schedule(), '2026-01-09T19:00:01Z')[0]).toBe('d7 whatsapp 2026-01-10T08:00:00Z catch-up');
  });

  it('is skipped when the next step is less than minGap away', () => {
    // 13 Jan 13:00 local: d1 is 20 hours away.
    expect(lines(schedule(), '2026-01-13T12:00:00Z')).toEqual(rest);
  });

  it('is skipped when the next step is exactly minGap away, and sent a minute earlier', () => {
    expect(lines(schedule(), '2026-01-13T09:00:00Z')).toEqual(rest);
    expect(lines(schedule(), '2026-01-13T08:59:00Z')).toEqual([
      'd7 whatsapp 2026-01-13T08:59:00Z catch-up',
      'd7 email 2026-01-13T08:59:00Z catch-up',
      ...rest,
    ]);
  });

  it('treats a send time equal to now as missed, and decides per channel', () => {
    // now = d1's send time. WhatsApp still has h6 eight hours later: no catch-up. Email has
    // nothing left: d1 is sent as a catch-up at once (10:00 local is inside the window).
    expect(lines(schedule(), '2026-01-14T09:00:00Z')).toEqual([
      'd1 email 2026-01-14T09:00:00Z catch-up',
      'h6 whatsapp 2026-01-14T17:00:00Z scheduled',
    ]);
  });

  it('catches up on the channels the subscriber has only', () => {
    const sends = planSubscriber(
      schedule(),
      'Europe/Paris',
      ['whatsapp'],
      Date.parse('2026-01-14T09:00:00Z'),
    );
    expect(sends.map((s) => `${s.step} ${s.channel} ${s.kind}`)).toEqual(['h6 whatsapp scheduled']);
  });

  it('sends nothing when the catch-up would land at or after the deadline', () => {
    // 14 Jan 20:30 local: everything missed; next window opens 15 Jan 09:00, after the deadline.
    expect(lines(schedule(), '2026-01-14T19:30:00Z')).toEqual([]);
  });

  it('may land one minute before the deadline, not on it', () => {
    const late = schedule({ window: { start: time('09:00'), end: time('23:59') } });
    expect(lines(late, '2026-01-14T22:59:00Z')).toEqual([
      'd1 email 2026-01-14T22:59:00Z catch-up',
      'h6 whatsapp 2026-01-14T22:59:00Z catch-up',
    ]);
    expect(lines(late, '2026-01-14T22:59:00.001Z')).toEqual([]);
  });

  it('with no step left, catches up even when minGap is huge', () => {
    const s = schedule({ catchUpMinGap: 'P1Y' });
    expect(lines(s, '2026-01-14T18:00:00Z')).toEqual([
      'd1 email 2026-01-14T18:00:00Z catch-up',
      'h6 whatsapp 2026-01-14T18:00:00Z catch-up',
    ]);
  });

  it('drops a catch-up that would coincide with the next step on the same channel', () => {
    // sendAt 09:00, minGap zero. Joining 14 Jan 07:00 local: d30 and d7 missed, d1 at 09:00
    // local. The catch-up would be at 09:00 too, when the window opens: d1 alone is sent.
    const s = schedule({ catchUpMinGap: 'PT0S', sendAt: time('09:00') });
    expect(lines(s, '2026-01-14T06:00:00Z')).toEqual([
      'd1 whatsapp 2026-01-14T08:00:00Z scheduled',
      'd1 email 2026-01-14T08:00:00Z scheduled',
      'h6 whatsapp 2026-01-14T17:00:00Z scheduled',
    ]);
  });

  it('adds minGap on the local calendar: P1D across the spring change is 23 hours', () => {
    // Now: 28 March 13:00 CET (12:00Z). The next step is 29 March 11:30Z (13:30 CEST).
    // With P1D, now + minGap = 29 March 13:00 CEST = 11:00Z: the step is further, catch up.
    // With PT24H, now + minGap = 12:00Z: the step is nearer, no catch-up.
    const steps: PlanStep[] = [
      { id: 'early', before: 'P10D', channels: ['email'] },
      { id: 'next', before: 'PT30M', channels: ['email'] },
    ];
    const base = { deadline: '2026-03-29T14:00:00+02:00', steps };
    expect(lines(schedule({ ...base, catchUpMinGap: 'P1D' }), '2026-03-28T12:00:00Z')).toEqual([
      'early email 2026-03-28T12:00:00Z catch-up',
      'next email 2026-03-29T11:30:00Z scheduled',
    ]);
    expect(lines(schedule({ ...base, catchUpMinGap: 'PT24H' }), '2026-03-28T12:00:00Z')).toEqual([
      'next email 2026-03-29T11:30:00Z scheduled',
    ]);
  });

  it('works in a zone far from UTC: Kiritimati (+14:00)', () => {
    // Deadline 15 Jan 13:00 local. Joining 13 Jan 21:00Z = 14 Jan 11:00 local: d1 (14 Jan
    // 10:00 local) missed, h6 (14 Jan 20:00 local = 06:00Z) is 9 hours away: no catch-up on
    // WhatsApp; email has nothing left: d1 now.
    expect(lines(schedule(), '2026-01-13T21:00:00Z', 'Pacific/Kiritimati')).toEqual([
      'd1 email 2026-01-13T21:00:00Z catch-up',
      'h6 whatsapp 2026-01-14T06:00:00Z scheduled',
    ]);
  });

  it('catch-up in the second pass of the autumn overlap stays after now', () => {
    // Window opening at 02:30, joining at 02:10 CET (the second 02:10) on 25 October: the
    // first 02:30 (CEST) is already past, so the second 02:30 (01:30Z).
    const s = schedule({
      deadline: '2026-10-26T12:00:00+01:00',
      window: { start: time('02:30'), end: time('20:00') },
      steps: [{ id: 'w', before: 'P7D', channels: ['email'] }],
    });
    expect(lines(s, '2026-10-25T01:10:00Z')).toEqual(['w email 2026-10-25T01:30:00Z catch-up']);
  });
});
