// The NDJSON line of a planned send (docs/campaigns.md, "Previewing a plan"; scripts rely on it),
// shared by `lastcall plan` and the API's plan preview. Written per zone once: every subscriber of
// the zone shares the tail. A campaign with public holidays plans per zone and holiday country;
// its lines carry `country` ('' for none), and `holiday`, the local date a holiday took the send
// away from, on each send a holiday moved.
import { formatLocal, formatUtc } from './planner.ts';
import type { PlannedSend } from './types.ts';

/** One send with its instants already written out (per zone, shared by every subscriber). */
export interface FormattedSend {
  readonly send: PlannedSend;
  readonly utc: string;
  readonly local: string;
  /** The local date ("2026-07-14") this send would have had without the country's holidays. */
  readonly holiday?: string;
  /** The NDJSON line after `{"subscriber":<id>`, newline included. */
  readonly tail: string;
}

/**
 * The sends of each zone (and holiday country, when `byCountry`), their instants and NDJSON tail
 * written out the first time they are asked for and then kept: `lastcall plan` and the plan
 * preview read them per subscriber.
 */
export function formattedSendsByZone(
  planner: (zone: string, country?: string) => readonly PlannedSend[],
  byCountry = false,
): (zone: string, country?: string) => readonly FormattedSend[] {
  const places = new Map<string, readonly FormattedSend[]>();
  return (zone, country = '') => {
    const key = byCountry ? `${zone}\u0000${country}` : zone;
    let sends = places.get(key);
    if (sends === undefined) {
      const plain = byCountry && country !== '' ? planner(zone, '') : undefined;
      sends = planner(zone, country).map((send) => {
        const utc = formatUtc(send.sendAt);
        const local = formatLocal(send.sendAt, zone);
        const without = plain?.find(
          (p) => p.step === send.step && p.channel === send.channel && p.kind === send.kind,
        );
        const holiday =
          without !== undefined && without.sendAt !== send.sendAt
            ? formatLocal(without.sendAt, zone).slice(0, 10)
            : undefined;
        const place = byCountry ? { country, ...(holiday ? { holiday } : {}) } : undefined;
        return {
          send,
          utc,
          local,
          ...(holiday ? { holiday } : {}),
          tail: planNdjsonTail(send, utc, local, zone, place),
        };
      });
      places.set(key, sends);
    }
    return sends;
  };
}

export function planNdjsonTail(
  send: PlannedSend,
  utc: string,
  local: string,
  zone: string,
  place?: { readonly country: string; readonly holiday?: string },
): string {
  const rest = JSON.stringify({
    step: send.step,
    channel: send.channel,
    sendAt: utc,
    local,
    zone,
    kind: send.kind,
    ...place,
  });
  return `,${rest.slice(1)}\n`;
}
