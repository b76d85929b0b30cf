// Meta's portfolio messaging limit (docs/whatsapp.md): at most `limit` unique people messaged
// outside a customer-service window in any rolling 24 hours. Pure: the window's arithmetic, and a
// replay of a plan's WhatsApp sends through the same rule the send path's gate applies
// (messaging-limit.gate.ts), so that `campaign start`, `plan --messaging-limit` and the console
// can say which steps need more people than the limit lets through, and how many are held back.

/** The rolling window Meta counts people in. */
export const MESSAGING_WINDOW_MS = 24 * 60 * 60 * 1000;

/** The earliest instant whose message still counts at `now` (exclusive). */
export const windowStart = (now: number): number => now - MESSAGING_WINDOW_MS;

export interface LimitedSend {
  readonly person: string;
  readonly step: string;
  readonly at: number;
}

export interface StepLimit {
  readonly step: string;
  /** Distinct people the step's WhatsApp sends are for. */
  readonly people: number;
  /** Of them, held back by the limit (their send would be `skipped`, reason messaging-limit). */
  readonly heldBack: number;
}

/**
 * Replays `sends` in time order (ties in the order given): a send to someone already messaged in
 * the window passes and costs nothing; a new person passes while fewer than `limit` people are in
 * the window; anyone else is held back. `counted` are people already messaged, with when (the
 * record of earlier campaigns). Steps come back in the order they first appear.
 */
export function simulateMessagingLimit(
  sends: readonly LimitedSend[],
  limit: number | 'unlimited',
  counted: ReadonlyMap<string, number> = new Map(),
): StepLimit[] {
  const order = sends.map((s, i) => ({ s, i })).sort((a, b) => a.s.at - b.s.at || a.i - b.i);
  // Each person's latest message, and every message in time order: the ones leaving the window
  // are read off the front of `messages` (a person counts until their latest one leaves).
  const window = new Map<string, number>(counted);
  const messages = [...counted].sort((a, b) => a[1] - b[1]);
  let head = 0;
  const steps = new Map<string, { people: Set<string>; held: Set<string> }>();
  for (const s of sends) if (!steps.has(s.step)) steps.set(s.step, { people: new Set(), held: new Set() });
  for (const { s } of order) {
    const step = steps.get(s.step)!;
    step.people.add(s.person);
    while (head < messages.length && messages[head]![1] <= windowStart(s.at)) {
      const [person, at] = messages[head++]!;
      if (window.get(person) === at) window.delete(person);
    }
    if (limit === 'unlimited' || window.has(s.person) || window.size < limit) {
      window.set(s.person, s.at);
      messages.push([s.person, s.at]);
    } else step.held.add(s.person);
  }
  return [...steps].map(([step, v]) => ({ step, people: v.people.size, heldBack: v.held.size }));
}
