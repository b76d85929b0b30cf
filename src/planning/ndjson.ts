// The NDJSON line of a planned send (SPEC 4.4, contract), shared by `lastcall plan` and the API's
// plan preview. Written per zone once: every subscriber of the zone shares the tail.
import type { PlannedSend } from './types.ts';

/** One send with its instants already written out (per zone, shared by every subscriber). */
export interface FormattedSend {
  readonly send: PlannedSend;
  readonly utc: string;
  readonly local: string;
  /** The NDJSON line after `{"subscriber":<id>`, newline included. */
  readonly tail: string;
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
