// The demo campaign, built in memory: the shipped campaign's message templates on a minute scale.
// Its deadline is N minutes after the current minute. The first notice is due at that very
// minute: the campaign starts as of the current minute, so the first notice is "missed by a few
// seconds" and goes out at once as a catch-up (docs/campaigns.md, "Late joiners and catch-up", with
// a 1-second minGap so it always does), then the ladder follows: 10, 5 and 2 minutes before the
// deadline, in words that count the minutes left. The window covers the whole day, so nothing is
// pushed back to the previous evening in any zone.
import { stringify } from 'yaml';

export const DEMO_CAMPAIGN_ID = 'demo';
export const DEMO_TAG = 'demo';
/** Marks the campaign as the demo's own: `demo seed` replaces only a campaign named so. */
export const DEMO_NAME_PREFIX = 'Demo:';
const MINUTE = 60_000;

export interface DemoStep {
  readonly id: string;
  /** Minutes before the deadline. */
  readonly minutesBefore: number;
  readonly template: 'first-notice' | 'one-week' | 'last-day' | 'last-hours';
}

// The shipped templates whose words fit minutes: "Reminder: … in 10 minutes", then "in 5
// minutes", then "Last reminder: … in 2 minutes" ({{timeLeft}} counts minutes in the last hour).
// Not last-hours: its fixed "In a few hours" would follow "in 5 minutes".
const LADDER: readonly DemoStep[] = [
  { id: 'm10', minutesBefore: 10, template: 'one-week' },
  { id: 'm5', minutesBefore: 5, template: 'one-week' },
  { id: 'm2', minutesBefore: 2, template: 'last-day' },
];

export interface DemoTiming {
  /** The current minute (floor of now): the campaign starts as of it. */
  readonly startAt: number;
  readonly deadline: number;
  readonly steps: readonly DemoStep[];
}

/** The first notice at the start minute, then the ladder's steps that fit before the deadline. */
export function demoTiming(now: number, minutes: number): DemoTiming {
  if (!Number.isInteger(minutes) || minutes < 2 || minutes > 24 * 60)
    throw new RangeError(`minutes: must be a whole number from 2 to 1440 (got ${minutes})`);
  const startAt = Math.floor(now / MINUTE) * MINUTE;
  const first: DemoStep = { id: 'start', minutesBefore: minutes, template: 'first-notice' };
  return {
    startAt,
    deadline: startAt + minutes * MINUTE,
    steps: [first, ...LADDER.filter((s) => s.minutesBefore < minutes)],
  };
}

/** The campaign file's YAML (docs/campaigns.md); no `messages` key: the shipped templates. */
export function demoCampaignYaml(timing: DemoTiming): string {
  const header =
    '# Written by `lastcall demo seed`: a minute-scale demo of the shipped campaign. Re-running\n' +
    '# `lastcall demo seed` replaces it.\n';
  return (
    header +
    stringify({
      id: DEMO_CAMPAIGN_ID,
      name: `${DEMO_NAME_PREFIX} ChatGPT and Copilot leave WhatsApp, on a minute scale`,
      deadline: new Date(timing.deadline).toISOString().replace('.000Z', 'Z'),
      sendAt: '12:00',
      window: { start: '00:00', end: '23:59' },
      catchUp: { minGap: 'PT1S' },
      audience: { tags: [DEMO_TAG] },
      // Open at /subscribe/demo: a visitor's own sign-up gets the tag `demo`, so its reminders.
      signup: true,
      steps: timing.steps.map((s) => ({
        id: s.id,
        before: `PT${s.minutesBefore}M`,
        channels: ['whatsapp', 'email'],
        template: s.template,
      })),
    })
  );
}
