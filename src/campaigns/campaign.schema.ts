// The campaign file (docs/campaigns.md, "The campaign file"; scripts rely on its keys). The zod
// schema checks each field on its own; rules that tie fields together (window order, sendAt inside
// the window, unique step ids) live in campaign.loader.ts so that they are reported even when some
// other field is wrong.
import { z } from 'zod';
import {
  HOLIDAY_TYPES,
  type HolidayType,
  isHolidayCountry,
  parseIsoDuration,
  parseIsoInstant,
  parseLocalDate,
  parseLocalTime,
  WEEKDAYS,
  type Weekday,
} from '../planning/planner.ts';
import type { LocalTime, Schedule } from '../planning/types.ts';
import { CHANNELS, type Channel } from '../shared/vocabulary.ts';
import {
  ATTRIBUTE_NAME,
  ATTRIBUTE_NAME_RULE,
  ATTRIBUTE_PREFIX,
  ATTRIBUTE_VALUE_MAX,
} from '../subscribers/subscriber.schema.ts';

export const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SLUG_RULE =
  'must be a slug: lower-case letters, digits and hyphens, starting with a letter or digit, 1–63 characters';

/** The most days before a step its WhatsApp sends may be spread over (messagingLimit.maxDays). */
export const SPREAD_MAX_DAYS = 30;

export const DEFAULTS = {
  sendAt: '10:00',
  window: { start: '09:00', end: '20:00' },
  catchUp: { minGap: 'PT24H' },
} as const;

/** Why a deadline text is refused, or undefined when it is a real instant with an offset. */
export function deadlineProblem(text: string): string | undefined {
  const shape = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(
    text.trim(),
  );
  if (!shape) return 'must be an ISO 8601 instant with an offset, like 2026-01-15T00:00:00+01:00';
  if (shape[1] === undefined) {
    return 'must end with an offset or Z (like +01:00): a deadline is one instant for every time zone';
  }
  const parsed = parseIsoInstant(text);
  if (!parsed.ok) return `is not a valid date and time (${parsed.reason})`;
  return undefined;
}

/** Why a duration text is refused, or undefined when it is a positive ISO 8601 duration. */
export function durationProblem(text: string, example: string): string | undefined {
  const base = `must be a positive ISO 8601 duration like ${example}`;
  const parsed = parseIsoDuration(text);
  if (!parsed.ok) {
    if (/^p/.test(text.trim())) return `${base}; units must be upper case`;
    return parsed.reason.startsWith('expected') ? base : `${base}; ${parsed.reason}`;
  }
  return parsed.millisApprox > 0 ? undefined : `${base}; it must be longer than zero`;
}

const text = (what: string) => z.string({ error: `must be ${what}` });
const slug = () => text('text').regex(SLUG, SLUG_RULE);
const localTime = () =>
  text('a local time in quotes, like "10:00"').refine((t) => parseLocalTime(t) !== undefined, {
    error: 'must be a local time "HH:MM" between 00:00 and 23:59',
  });
const duration = (example: string) =>
  text(`an ISO 8601 duration like ${example}`).superRefine((t, ctx) => {
    const problem = durationProblem(t, example);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

/**
 * Where a subscriber's country comes from, for public holidays (docs/audiences.md, "Public
 * holidays"): `attr.<name>`, `phone` (the phone number's region) or a fixed country code.
 */
export const HOLIDAY_SOURCE_RULE =
  "must be attr.<name> (an attribute holding a country code), phone (the phone number's region) or a country code such as FR";

/** A holiday country source, normalised (a code in upper case); undefined when it is none. */
export function holidaySource(text: string): string | undefined {
  const source = text.trim();
  if (source === 'phone') return source;
  if (source.startsWith(ATTRIBUTE_PREFIX))
    return ATTRIBUTE_NAME.test(source.slice(ATTRIBUTE_PREFIX.length)) ? source : undefined;
  const code = source.toUpperCase();
  return /^[A-Z]{2}$/.test(code) && isHolidayCountry(code) ? code : undefined;
}

const holidaySourceSchema = text('attr.<name>, phone or a country code').transform((t, ctx) => {
  const source = holidaySource(t);
  if (source !== undefined) return source;
  const looksLikeCode = /^[A-Za-z]{2}$/.test(t.trim());
  ctx.addIssue({
    code: 'custom',
    message: looksLikeCode
      ? `"${t.trim()}" is not a country the holiday library knows (ISO 3166-1 codes such as FR, GB, US)`
      : t.trim().startsWith(ATTRIBUTE_PREFIX)
        ? `"${t.trim()}": ${ATTRIBUTE_NAME_RULE}`
        : HOLIDAY_SOURCE_RULE,
  });
  return z.NEVER;
});

const holidaysSchema = z.strictObject(
  {
    // One source is a list of one.
    country: z.preprocess(
      (v) => (typeof v === 'string' ? [v] : v),
      z
        .array(holidaySourceSchema, {
          error: 'must be a source or a list of sources, like attr.country or [attr.country, phone, FR]',
        })
        .min(1, { error: 'must name at least one source' })
        .refine((list) => new Set(list).size === list.length, { error: 'must not name a source twice' }),
    ),
    types: z
      .array(z.enum(HOLIDAY_TYPES, { error: `must be a holiday type: ${HOLIDAY_TYPES.join(', ')}` }), {
        error: 'must be a list of holiday types, like [public]',
      })
      .min(1, { error: 'must name at least one type' })
      .optional()
      .transform((types) => types ?? ['public' as const]),
  },
  {
    error:
      'must be a mapping { country: attr.country | phone | FR | [attr.country, phone, FR], types: [public] }',
  },
);

const channel = z.enum(CHANNELS, { error: `must be one of: ${CHANNELS.join(', ')}` });

export const stepSchema = z.strictObject(
  {
    id: slug(),
    before: duration('P7D or PT6H'),
    channels: z
      .array(channel, { error: 'must be a list of channels, like [whatsapp, email]' })
      .min(1, { error: `must name at least one channel (${CHANNELS.join(', ')})` })
      .refine((list) => new Set(list).size === list.length, { error: 'must not name a channel twice' }),
    template: slug(),
  },
  {
    error: 'must be a mapping like { id: d7, before: P7D, channels: [whatsapp, email], template: one-week }',
  },
);

export const campaignFileSchema = z.strictObject(
  {
    id: slug(),
    name: text('text')
      .trim()
      .min(1, { error: 'must not be empty' })
      .max(200, { error: 'must be at most 200 characters' }),
    deadline: text('an ISO 8601 instant like 2026-01-15T00:00:00+01:00 (quotes are fine)').superRefine(
      (t, ctx) => {
        const problem = deadlineProblem(t);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      },
    ),
    sendAt: localTime().optional(),
    window: z
      .strictObject(
        {
          start: localTime(),
          end: localTime(),
          days: z
            .array(z.enum(WEEKDAYS, { error: `must be a weekday: ${WEEKDAYS.join(', ')}` }), {
              error: 'must be a list of weekdays, like [mon, tue, wed, thu, fri]',
            })
            .min(1, { error: 'must name at least one day' })
            .refine((list) => new Set(list).size === list.length, { error: 'must not name a day twice' })
            .optional(),
          except: z
            .array(
              text('a date in quotes, like "2026-12-25"').refine((t) => parseLocalDate(t) !== undefined, {
                error: 'must be a real date written YYYY-MM-DD, like "2026-12-25"',
              }),
              { error: 'must be a list of dates, like ["2026-12-25", "2027-01-01"]' },
            )
            .max(1000, { error: 'must list at most 1,000 dates' })
            .optional(),
          holidays: holidaysSchema.optional(),
        },
        { error: 'must be a mapping { start, end } (days, except and holidays optional)' },
      )
      .optional(),
    catchUp: z
      .strictObject({ minGap: duration('PT24H') }, { error: 'must be a mapping { minGap }' })
      .optional(),
    audience: z
      .strictObject(
        {
          tags: z
            .array(
              // The same rule as the subscribers' tags column, so a tag can never silently match no one.
              text('a tag').regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, {
                error: 'must be a tag: lower-case letters, digits, _ and -, starting with a letter or digit',
              }),
              { error: 'must be a list of tags, like [beta, press]' },
            )
            .optional(),
          where: z
            .record(
              text('an attribute name').regex(ATTRIBUTE_NAME, { error: `must be ${ATTRIBUTE_NAME_RULE}` }),
              z
                .array(
                  // YAML reads `[2026]` or `[yes]` as a number or a boolean: attributes are text.
                  z
                    .union([z.string(), z.number(), z.boolean()], {
                      error: 'must be a list of values, like [pro, team]',
                    })
                    .transform(String)
                    .pipe(
                      z.string().max(ATTRIBUTE_VALUE_MAX, {
                        error: `each value must be at most ${ATTRIBUTE_VALUE_MAX} characters`,
                      }),
                    ),
                  { error: 'must be a list of values, like [pro, team]' },
                )
                .min(1, { error: 'must list at least one value' }),
              {
                // Only for a `where` that is not a mapping: a bad name or value keeps its own words.
                error: (issue) =>
                  issue.code === 'invalid_type'
                    ? 'must be a mapping of attribute names to lists of values, like { plan: [pro, team] }'
                    : issue.code === 'invalid_key'
                      ? `is not an attribute name: ${ATTRIBUTE_NAME_RULE}`
                      : undefined,
              },
            )
            .optional(),
        },
        { error: 'must be a mapping { tags: [...], where: { name: [values] } }' },
      )
      .optional(),
    signup: z.boolean({ error: 'must be true or false' }).optional(),
    messagingLimit: z
      .strictObject(
        {
          spread: z.boolean({ error: 'must be true or false' }),
          maxDays: z
            .number({ error: `must be a whole number of days from 1 to ${SPREAD_MAX_DAYS}` })
            .int({ error: `must be a whole number of days from 1 to ${SPREAD_MAX_DAYS}` })
            .min(1, { error: `must be a whole number of days from 1 to ${SPREAD_MAX_DAYS}` })
            .max(SPREAD_MAX_DAYS, { error: `must be a whole number of days from 1 to ${SPREAD_MAX_DAYS}` })
            .optional(),
        },
        { error: 'must be a mapping { spread: true, maxDays: 7 } (maxDays optional)' },
      )
      .optional(),
    steps: z
      .array(stepSchema, { error: 'must be a list of steps' })
      .min(1, { error: 'must have at least one step' }),
    messages: text('a folder path, relative to the campaign file')
      .min(1, { error: 'must not be empty' })
      .optional(),
  },
  { error: 'must be a YAML mapping with id, name, deadline and steps' },
);

export type CampaignFile = z.infer<typeof campaignFileSchema>;

export interface CampaignStep {
  readonly id: string;
  /** ISO 8601 duration before the deadline. */
  readonly before: string;
  readonly channels: readonly Channel[];
  /** Message template name, looked up as <messages>/<locale>/<template>.yaml. */
  readonly template: string;
}

/** When sends may go out, in the subscriber's zone (docs/audiences.md, calendars). */
export interface CampaignWindow {
  /** "HH:MM", both ends allowed. */
  readonly start: string;
  readonly end: string;
  /** Weekdays with sends; absent: every day. */
  readonly days?: readonly Weekday[];
  /** Local dates without sends, "YYYY-MM-DD". */
  readonly except?: readonly string[];
  /** Public holidays of each subscriber's country are days without sends too. */
  readonly holidays?: CampaignHolidays;
}

/** window.holidays (docs/audiences.md, "Public holidays"). */
export interface CampaignHolidays {
  /** Where the country comes from, first that gives one: `attr.<name>`, `phone`, or a code. */
  readonly country: readonly string[];
  /** Holiday types honoured (`public` by default). */
  readonly types: readonly HolidayType[];
}

/** Who a campaign reaches (docs/audiences.md; the rule is in audience.ts). */
export interface CampaignAudience {
  /** Any of these tags; empty: every subscriber. */
  readonly tags: readonly string[];
  /** For each attribute name, the values it may have. Absent in definitions stored before it. */
  readonly where?: Readonly<Record<string, readonly string[]>>;
}

/** `messagingLimit` in a campaign file: spread steps that do not fit, over at most `maxDays` days before them. */
export interface CampaignMessagingLimit {
  readonly spread: boolean;
  /** Days before the step its earliest part may go (default 7). */
  readonly maxDays: number;
}

/** A validated campaign file, defaults filled in. */
export interface Campaign {
  readonly id: string;
  readonly name: string;
  /** The deadline instant, epoch milliseconds. */
  readonly deadline: number;
  /** The deadline as written in the file, offset included. */
  readonly deadlineText: string;
  /** "HH:MM", subscriber-local. */
  readonly sendAt: string;
  readonly window: CampaignWindow;
  readonly catchUp: { readonly minGap: string };
  readonly audience: CampaignAudience;
  /** Open for sign-up at /subscribe/<id>. Absent in definitions stored before the key. */
  readonly signup?: boolean;
  /** Spreading a step's WhatsApp sends over the days before it when Meta's messaging limit would
   *  hold people back (docs/whatsapp.md). Absent: not spread. */
  readonly messagingLimit?: CampaignMessagingLimit;
  readonly steps: readonly CampaignStep[];
  /** The messages folder as written in the file (relative to it); undefined: the shipped one. */
  readonly messages?: string;
  /** Where the campaign was read from: a file path, or a label for text. */
  readonly source: string;
}

function localTimeOf(text: string, field: string): LocalTime {
  const time = parseLocalTime(text);
  // A Campaign only exists once validated, so this is a programming error, not bad input.
  if (time === undefined) throw new Error(`campaign ${field} "${text}" is not a local time`);
  return time;
}

/** What the planner needs: the timing of a campaign, without names or templates. */
export function toSchedule(campaign: Campaign): Schedule {
  return {
    deadline: campaign.deadline,
    sendAt: localTimeOf(campaign.sendAt, 'sendAt'),
    window: {
      start: localTimeOf(campaign.window.start, 'window.start'),
      end: localTimeOf(campaign.window.end, 'window.end'),
      ...(campaign.window.days ? { days: campaign.window.days } : {}),
      ...(campaign.window.except ? { except: campaign.window.except } : {}),
      ...(campaign.window.holidays ? { holidays: { types: campaign.window.holidays.types } } : {}),
    },
    catchUpMinGap: campaign.catchUp.minGap,
    steps: campaign.steps.map((step) => ({ id: step.id, before: step.before, channels: step.channels })),
  };
}
