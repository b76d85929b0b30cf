// The NDJSON line of a planned send (docs/campaigns.md, "Previewing a plan"; scripts rely on it),
// shared by `lastcall plan` and the API's plan preview. Written per zone once: every subscriber of
// the zone shares the tail.
import { formatLocal, formatUtc } from './planner.ts';
import type { PlannedSend } from './types.ts';

/** One send with its instants already written out (per zone, shared by every subscriber). */
export interface FormattedSend {
  readonly send: PlannedSend;
  readonly utc: string;
  readonly local: string;
  /** The NDJSON line after `{"subscriber":<id>`, newline included. */
  readonly tail: string;
}

/**
 * The sends of each zone, their instants and NDJSON tail written out the first time the zone is
 * asked for and then kept: `lastcall plan` and the plan preview read a zone per subscriber.
 */
export function formattedSendsByZone(
  planner: (zone: string) => readonly PlannedSend[],
): (zone: string) => readonly FormattedSend[] {
  const zones = new Map<string, readonly FormattedSend[]>();
  return (zone) => {
    let sends = zones.get(zone);
    if (sends === undefined) {
      sends = planner(zone).map((send) => {
        const utc = formatUtc(send.sendAt);
        const local = formatLocal(send.sendAt, zone);
        return { send, utc, local, tail: planNdjsonTail(send, utc, local, zone) };
      });
      zones.set(zone, sends);
    }
    return sends;
  };
}

export function planNdjsonTail(send: PlannedSend, utc: string, local: string, zone: string): string {
  const rest = JSON.stringify({
    step: send.step,
    channel: send.channel,
    sendAt: utc,
    local,
    zone,
    kind: send.kind,
  });
  return `,${rest.slice(1)}\n`;
}
