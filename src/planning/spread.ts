// Spreading a step's WhatsApp sends over the days before it, so that Meta's messaging limit never
// holds anyone back (docs/whatsapp.md, "Spreading a step over earlier days"). Pure.
//
// A spread step goes out in `parts` parts: part 0 at the step's own time, part p at the planner's
// rule applied to one day and a margin before part p - 1 (the margin covers the minutes a part
// takes to send: two parts exactly 24 h apart would share Meta's rolling window). A person belongs
// to part `partOf(id, parts)`, a stable hash of their id, the same in SQL (`partSql`), so fan-out
// takes each part's people without a list. How many parts a step needs is found by replaying the
// whole plan through the gate's rule (simulateMessagingLimit) with every person at their part's
// time: the fewest parts that hold nobody back, else the fewest that hold back the fewest.
import { createHash } from 'node:crypto';
import {
  type LimitedSend,
  MESSAGING_WINDOW_MS,
  type StepLimit,
  simulateMessagingLimit,
} from './messaging-limit.ts';
import type { SendKind } from './types.ts';

/** Room left between two parts beyond Meta's 24 h, for the time a part takes to go out. */
export const SPREAD_MARGIN_MS = 60 * 60_000;

/** The 32-bit number a person's parts are taken from: the first 8 hex digits of md5(id). */
function personHash(person: string): number {
  return Number.parseInt(createHash('md5').update(person, 'utf8').digest('hex').slice(0, 8), 16);
}

/** The part (0 … parts - 1) of a spread step a person's send belongs to. */
export function partOf(person: string, parts: number): number {
  return parts <= 1 ? 0 : personHash(person) % parts;
}

/** `partOf` in SQL, for the subscriber id expression `id` (PostgreSQL's md5 of the same UTF-8 text). */
export function partSql(id: string, parts: string): string {
  return `((('x' || substr(md5(${id}), 1, 8))::bit(32)::bigint) % ${parts})`;
}

/** One WhatsApp send of the plan, as planned without spreading. */
export interface SpreadSend {
  readonly person: string;
  readonly zone: string;
  /** Their holiday country ('' or absent: none; docs/audiences.md, "Public holidays"). */
  readonly country?: string;
  readonly step: string;
  /** Epoch ms: the step's own time in the person's zone. */
  readonly at: number;
  readonly kind: SendKind;
}

export interface SpreadOptions {
  readonly limit: number | 'unlimited';
  /** People already messaged in the last 24 h, with when (as the gate records them). */
  readonly counted?: ReadonlyMap<string, number>;
  /** Parts must come after this instant. */
  readonly now: number;
  /** The most earlier days a step may use: at most maxDays + 1 parts. */
  readonly maxDays: number;
  /** The planner's rule: the latest allowed send minute not after `limit` in `zone` (for the
   *  subscribers of a holiday country). */
  readonly latestBefore: (zone: string, limit: number, country?: string) => number;
  /** Steps whose parts are already decided (a running campaign's stored slots): not searched. */
  readonly fixedParts?: ReadonlyMap<string, number>;
}

export interface StepSpread extends StepLimit {
  /** People per part, the earliest part first; one entry when the step is not spread. */
  readonly parts: readonly number[];
}

export interface SpreadPlan {
  /** Parts per step (1: not spread). */
  readonly parts: ReadonlyMap<string, number>;
  /** When each part of a step whose own time in `zone` is `at` goes out (parts of that step). */
  partTimes(zone: string, at: number, parts: number, country?: string): readonly number[];
  /** Each step with WhatsApp sends, as the replay sees the spread plan. */
  readonly steps: readonly StepSpread[];
}

/** The parts' instants of a send at `at` in `zone`: [at, one day and a margin before, …]. */
function partTimesOf(
  latestBefore: SpreadOptions['latestBefore'],
): (zone: string, at: number, parts: number, country?: string) => readonly number[] {
  const memo = new Map<string, number[]>();
  return (zone, at, parts, country = '') => {
    const key = `${zone}\u0000${country}\u0000${at}`;
    const times = memo.get(key) ?? [at];
    while (times.length < parts)
      times.push(latestBefore(zone, times.at(-1)! - MESSAGING_WINDOW_MS - SPREAD_MARGIN_MS, country));
    memo.set(key, times);
    return times.slice(0, parts);
  };
}

/**
 * Part `part`'s instant for a step whose own time in `zone` is `at` (a re-plan moves a part with
 * its step). Undefined when it would not come after `now`.
 */
export function partTime(
  latestBefore: SpreadOptions['latestBefore'],
  zone: string,
  at: number,
  part: number,
  now: number,
  country = '',
): number | undefined {
  const t = partTimesOf(latestBefore)(zone, at, part + 1, country)[part]!;
  return t > now ? t : undefined;
}

/** Chooses the parts of every step of `sends` (see the header) and replays the result. */
export function spreadPlan(sends: readonly SpreadSend[], options: SpreadOptions): SpreadPlan {
  const partTimes = partTimesOf(options.latestBefore);
  // Worked out once per send, not per replay: the person's hash and the (zone, country, instant)
  // group whose part times it takes.
  const hashes = new Map<string, number>();
  const groups = new Map<string, { zone: string; country: string; at: number }>();
  const hash = new Float64Array(sends.length);
  const group: string[] = new Array(sends.length);
  sends.forEach((s, i) => {
    let h = hashes.get(s.person);
    if (h === undefined) {
      h = personHash(s.person);
      hashes.set(s.person, h);
    }
    hash[i] = h;
    const key = `${s.zone}\u0000${s.country ?? ''}\u0000${s.at}`;
    if (!groups.has(key)) groups.set(key, { zone: s.zone, country: s.country ?? '', at: s.at });
    group[i] = key;
  });
  const chosen = new Map<string, number>();
  const partsOf = (s: SpreadSend) => (s.kind === 'scheduled' ? (chosen.get(s.step) ?? 1) : 1);
  const timesOf = (key: string, parts: number) => {
    const g = groups.get(key)!;
    return partTimes(g.zone, g.at, parts, g.country);
  };
  const replay = (upTo: (s: SpreadSend) => boolean) => {
    const list: LimitedSend[] = [];
    sends.forEach((s, i) => {
      if (!upTo(s)) return;
      const parts = partsOf(s);
      list.push({
        person: s.person,
        step: s.step,
        at: parts === 1 ? s.at : timesOf(group[i]!, parts)[hash[i]! % parts]!,
      });
    });
    return simulateMessagingLimit(list, options.limit, options.counted);
  };

  // Steps in the order they first send; each is spread with the ones before it already decided.
  const first = new Map<string, number>();
  for (const s of sends) first.set(s.step, Math.min(first.get(s.step) ?? s.at, s.at));
  const order = [...first].sort((a, b) => a[1] - b[1]).map(([step]) => step);
  const done = new Set<string>();
  for (const [step, parts] of options.fixedParts ?? []) chosen.set(step, parts);
  if (options.limit !== 'unlimited') {
    for (const step of order) {
      done.add(step);
      if (chosen.has(step)) continue;
      const own = new Set<string>();
      sends.forEach((s, i) => {
        if (s.step === step && s.kind === 'scheduled') own.add(group[i]!);
      });
      let best = { parts: 1, held: Number.POSITIVE_INFINITY };
      for (let parts = 1; parts <= options.maxDays + 1; parts++) {
        if (
          parts > 1 &&
          (own.size === 0 || ![...own].every((key) => timesOf(key, parts).at(-1)! > options.now))
        )
          break;
        chosen.set(step, parts);
        const held = replay((s) => done.has(s.step)).reduce((sum, s) => sum + s.heldBack, 0);
        if (held < best.held) best = { parts, held };
        if (held === 0) break;
      }
      chosen.set(step, best.parts);
    }
  }

  const steps = replay(() => true).map((limit): StepSpread => {
    const parts = chosen.get(limit.step) ?? 1;
    const people = Array.from({ length: parts }, () => new Set<string>());
    sends.forEach((s, i) => {
      if (s.step === limit.step) people[partsOf(s) === 1 ? 0 : hash[i]! % parts]!.add(s.person);
    });
    return { ...limit, parts: people.map((p) => p.size).reverse() };
  });
  return { parts: chosen, partTimes, steps };
}

/** "300 people spread over 2 days (150 + 150)" for a spread step; undefined for one that is not. */
export function spreadText(step: StepSpread): string | undefined {
  if (step.parts.length < 2) return undefined;
  return `${step.people} people spread over ${step.parts.length} days (${step.parts.join(' + ')})`;
}
