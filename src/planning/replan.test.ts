import { describe, expect, it } from 'vitest';
import { schedule } from '../../test/support/planning-fixtures.ts';
import { type PendingSend, replanZone } from './replan.ts';
import { compareTzVersions, isTzVersion, wallTimeText } from './tz-data.ts';

// Expected instants are literals worked out by hand (UTC). This process runs one tz release, so
// the moves between releases are proven by test/tz-upgrade.test.ts with real processes; here,
// the rules that decide where a pending send goes once its plan is run again.

const at = (text: string) => Date.parse(text);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const pending = (id: number, step: string, plannedAt: string, channel: 'whatsapp' | 'email' = 'whatsapp') =>
  ({ id, step, channel, plannedAt: at(plannedAt) }) satisfies PendingSend;

describe('replanZone', () => {
  const shipped = schedule(); // Paris: d7 2026-01-08T09:00Z, d1 2026-01-14T09:00Z, h6 2026-01-14T17:00Z

  it('puts each send ahead of now where the rules put it, from when it was planned', () => {
    const out = replanZone(
      shipped,
      'Europe/Paris',
      [pending(1, 'd7', '2025-12-01T00:00:00Z'), pending(2, 'h6', '2025-12-01T00:00:00Z')],
      at('2026-01-01T00:00:00Z'),
    );
    expect(
      out.map((r) => (r.action === 'move' ? `${r.id} ${iso(r.sendAt)}` : `${r.id} ${r.action}`)),
    ).toEqual(['1 2026-01-08T09:00:00Z', '2 2026-01-14T17:00:00Z']);
  });

  it('a send the new rules put less than a tick behind now keeps its instant: the next tick sends it', () => {
    // d1 is 09:00Z; re-planned at 09:00:40, before the 09:01 tick.
    expect(
      replanZone(
        shipped,
        'Europe/Paris',
        [pending(1, 'd1', '2025-12-01T00:00:00Z')],
        at('2026-01-14T09:00:40Z'),
      ),
    ).toEqual([{ id: 1, action: 'move', sendAt: at('2026-01-14T09:00:00Z') }]);
  });

  it('a send the new rules put behind now is missed: a catch-up at now when the catch-up rule calls for one', () => {
    // d1's time (09:00Z) passed at 09:30Z; h6 at 17:00Z is 7.5 h away.
    const now = at('2026-01-14T09:30:00Z');
    const wide = schedule({ catchUpMinGap: 'PT1H' });
    expect(replanZone(wide, 'Europe/Paris', [pending(1, 'd1', '2025-12-01T00:00:00Z')], now)).toEqual([
      { id: 1, action: 'move', sendAt: at('2026-01-14T09:30:00Z') },
    ]);
    // With a 24 h gap the next step is too close: nothing is sent for d1.
    expect(replanZone(shipped, 'Europe/Paris', [pending(1, 'd1', '2025-12-01T00:00:00Z')], now)).toEqual([
      { id: 1, action: 'cancel' },
    ]);
  });

  it('a missed send whose step is older than the latest missed one is cancelled', () => {
    const now = at('2026-01-14T09:30:00Z');
    const wide = schedule({ catchUpMinGap: 'PT1H' });
    expect(replanZone(wide, 'Europe/Paris', [pending(7, 'd7', '2025-12-01T00:00:00Z')], now)).toEqual([
      { id: 7, action: 'cancel' },
    ]);
  });

  it('a catch-up planned at a late join stays at the first window minute after the join', () => {
    // Joined at 21:00Z on 13 Jan (22:00 Paris, after the window): d7 missed, d1 next at 09:00Z
    // more than an hour away → catch-up of d7 at the window's opening, 08:00Z (09:00 Paris).
    const wide = schedule({ catchUpMinGap: 'PT1H' });
    expect(
      replanZone(
        wide,
        'Europe/Paris',
        [pending(3, 'd7', '2026-01-13T21:00:00Z')],
        at('2026-01-13T22:00:00Z'),
      ),
    ).toEqual([{ id: 3, action: 'move', sendAt: at('2026-01-14T08:00:00Z') }]);
  });

  it('a step the schedule no longer plans is cancelled; a zone the data does not know is left alone', () => {
    const now = at('2026-01-01T00:00:00Z');
    expect(replanZone(shipped, 'Europe/Paris', [pending(1, 'gone', '2025-12-01T00:00:00Z')], now)).toEqual([
      { id: 1, action: 'cancel' },
    ]);
    expect(replanZone(shipped, 'Mars/Olympus_Mons', [pending(2, 'd1', '2025-12-01T00:00:00Z')], now)).toEqual(
      [{ id: 2, action: 'unknown-zone' }],
    );
  });
});

describe('tz data releases', () => {
  it('orders releases as tzdata does', () => {
    const sorted = ['2025a', '2024b', '2022f', '2024za', '2024z', '2024a'].sort(compareTzVersions);
    expect(sorted).toEqual(['2022f', '2024a', '2024b', '2024z', '2024za', '2025a']);
    expect(compareTzVersions('2025a', '2025a')).toBe(0);
    expect(() => compareTzVersions('2025a', 'latest')).toThrow(/not a tzdata release: "latest"/);
    expect([isTzVersion('2026e'), isTzVersion(''), isTzVersion(undefined), isTzVersion('2025A')]).toEqual([
      true,
      false,
      false,
      false,
    ]);
  });

  it('writes a local wall time to the minute, without offset', () => {
    expect(wallTimeText(at('2026-01-14T09:00:00Z'), 'Europe/Paris')).toBe('2026-01-14T10:00');
    expect(wallTimeText(at('2026-07-01T23:59:00Z'), 'Asia/Kathmandu')).toBe('2026-07-02T05:44');
  });
});
