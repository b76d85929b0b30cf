// The planner's vocabulary (docs/campaigns.md, "Planning"). Inputs are plain data so the campaign
// loader, the offline `plan` command, the slot builder and the catch-up logic all feed it the same
// way.

import type { Channel } from '../shared/vocabulary.ts';

/** A subscriber-local wall-clock time, e.g. "10:00" → { hour: 10, minute: 0 }. */
export interface LocalTime {
  readonly hour: number;
  readonly minute: number;
}

export interface PlanStep {
  readonly id: string;
  /** ISO 8601 duration before the deadline, e.g. "P30D", "PT6H", "P1DT6H". Positive. */
  readonly before: string;
  readonly channels: readonly Channel[];
}

/** Everything about a campaign that decides *when* messages go out. */
export interface Schedule {
  /** The deadline instant, in epoch milliseconds. */
  readonly deadline: number;
  readonly sendAt: LocalTime;
  readonly window: {
    readonly start: LocalTime;
    readonly end: LocalTime;
    /** Local weekdays with sends ("mon" … "sun"); absent: every day. */
    readonly days?: readonly string[];
    /** Local dates without sends ("2026-12-25"). */
    readonly except?: readonly string[];
    /** Public holidays of the subscriber's country are days without sends too (holidays.ts):
     *  the holiday types honoured. The country is given with each zone planned. */
    readonly holidays?: { readonly types: readonly string[] };
  };
  /** ISO 8601 duration (catchUp.minGap), e.g. "PT24H". */
  readonly catchUpMinGap: string;
  readonly steps: readonly PlanStep[];
}

export type SendKind = 'scheduled' | 'catch-up';

/** One planned message for one channel, in one zone. */
export interface PlannedSend {
  readonly step: string;
  readonly channel: Channel;
  /** Epoch milliseconds, a whole minute. */
  readonly sendAt: number;
  readonly kind: SendKind;
}
