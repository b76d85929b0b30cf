import { describe, expect, it } from 'vitest';
import { MESSAGING_WINDOW_MS, simulateMessagingLimit } from './messaging-limit.ts';

const H = 60 * 60 * 1000;
const people = (n: number, step: string, at: number, prefix = 'p') =>
  Array.from({ length: n }, (_, i) => ({ person: `${prefix}${i}`, step, at: at + i }));

describe('simulateMessagingLimit', () => {
  it('holds back the people past the limit in one 24 h', () => {
    expect(simulateMessagingLimit(people(300, 'd7', 0), 250)).toEqual([
      { step: 'd7', people: 300, heldBack: 50 },
    ]);
  });

  it('lets the same people through again, and new people once the window has moved on', () => {
    const sends = [
      ...people(250, 'd7', 0),
      ...people(250, 'd6', 2 * H),
      ...people(250, 'd1', 2 * H + MESSAGING_WINDOW_MS, 'q'),
    ];
    expect(simulateMessagingLimit(sends, 250)).toEqual([
      { step: 'd7', people: 250, heldBack: 0 },
      { step: 'd6', people: 250, heldBack: 0 },
      // q0 comes exactly 24 h after p0's latest message: p0 no longer counts, and so on.
      { step: 'd1', people: 250, heldBack: 0 },
    ]);
    const sooner = [...people(250, 'd7', 0), ...people(10, 'd1', 23 * H, 'q')];
    expect(simulateMessagingLimit(sooner, 250)[1]).toEqual({ step: 'd1', people: 10, heldBack: 10 });
  });

  it('counts people already messaged by earlier campaigns, and never limits unlimited', () => {
    const counted = new Map(Array.from({ length: 200 }, (_, i) => [`old${i}`, -H] as const));
    expect(simulateMessagingLimit(people(100, 'd7', 0), 250, counted)).toEqual([
      { step: 'd7', people: 100, heldBack: 50 },
    ]);
    expect(simulateMessagingLimit(people(5000, 'd7', 0), 'unlimited')).toEqual([
      { step: 'd7', people: 5000, heldBack: 0 },
    ]);
  });
});
