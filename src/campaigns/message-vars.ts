// The variables a message template can use, computed for one subscriber at one moment: the
// facts every campaign has (name, deadline, time left, links) and the subscriber's attributes as
// `attr.<name>`. Text that depends on a campaign's own facts (the shipped campaign's words for
// each assistant) is written in its message files (`vars`, messages.ts), not here. A WhatsApp
// template is fixed text approved by Meta, so anything that varies per subscriber travels as a
// one-line parameter (no newlines, Meta refuses them).
import { daysLeft as calendarDaysLeft, formatDeadline, minutesLeft } from '../planning/planner.ts';
import type { Locale } from '../shared/vocabulary.ts';
import type { Attributes } from '../subscribers/subscriber.schema.ts';
import { ATTR_PREFIX, type TemplateValue } from './template.ts';

export const MESSAGE_LOCALES = ['fr', 'en'] as const satisfies readonly Locale[];

/** Text variables every template may use: as {{name}} in emails and as WhatsApp parameters. */
export const TEXT_VARIABLES = [
  'name',
  'deadline',
  'daysLeft',
  'timeLeft',
  'unsubscribeUrl',
  'doneUrl',
  'helpUrl',
  'publicUrl',
] as const;

/** The built-in variables, plus `attr.<name>` for each attribute the subscriber has. */
export type MessageVars = {
  readonly [K in (typeof TEXT_VARIABLES)[number]]: K extends 'daysLeft' ? number : string;
} & { readonly [attribute: `${typeof ATTR_PREFIX}${string}`]: TemplateValue };

export interface MessageVarsInput {
  /** The subscriber's name; may be empty. */
  readonly name: string;
  /** BCP 47 tag as stored; anything but French reads English. */
  readonly locale: string;
  readonly timezone: string;
  readonly attributes: Attributes;
  readonly deadline: number;
  /** When the message is rendered (send time), epoch ms. */
  readonly now: number;
  readonly links: { readonly unsubscribeUrl: string; readonly doneUrl: string; readonly helpUrl: string };
  /** PUBLIC_URL: WhatsApp URL buttons are registered with Meta as <PUBLIC_URL>/…/{{1}}. */
  readonly publicUrl: string;
}

/** fr, fr-CA, FR_fr → fr; anything else, malformed included, → en. */
export function resolveLocale(text: string): Locale {
  return /^fr(?:[-_]|$)/i.test(text.trim()) ? 'fr' : 'en';
}

/** How a nameless subscriber is greeted, so that "Bonjour {{name}}" reads. */
const NAMELESS = { fr: 'à vous', en: 'there' } as const satisfies Record<Locale, string>;

/** "tomorrow", "in 7 days", "demain", "dans 7 jours": one formatter per language, made once. */
const RELATIVE: Record<Locale, Intl.RelativeTimeFormat> = {
  fr: new Intl.RelativeTimeFormat('fr', { numeric: 'auto' }),
  en: new Intl.RelativeTimeFormat('en', { numeric: 'auto' }),
};

/**
 * "in 7 days", "tomorrow", "today"; within the last hour, the minutes ("in 5 minutes"), so that
 * steps minutes apart (the demo's) do not all say "today".
 */
function timeLeft(now: number, deadline: number, days: number, locale: Locale): string {
  const minutes = minutesLeft(now, deadline);
  if (minutes > 0 && minutes < 60) return RELATIVE[locale].format(minutes, 'minute');
  return RELATIVE[locale].format(days, 'day');
}

export function buildMessageVars(input: MessageVarsInput): MessageVars {
  const locale = resolveLocale(input.locale);
  const name = input.name.replace(/\s+/g, ' ').trim();
  const days = Math.max(0, calendarDaysLeft(input.now, input.deadline, input.timezone));
  const vars: Record<string, TemplateValue> = {
    name: name === '' ? NAMELESS[locale] : name,
    deadline: formatDeadline(input.deadline, input.timezone, locale),
    daysLeft: days,
    timeLeft: timeLeft(input.now, input.deadline, days, locale),
    unsubscribeUrl: input.links.unsubscribeUrl,
    doneUrl: input.links.doneUrl,
    helpUrl: input.links.helpUrl,
    publicUrl: input.publicUrl.replace(/\/+$/, ''),
  };
  for (const [attribute, value] of Object.entries(input.attributes))
    vars[`${ATTR_PREFIX}${attribute}`] = value;
  return vars as MessageVars;
}

/** Plausible values for previews, Meta template examples, validation and tests. */
export function sampleMessageVars(
  locale: string,
  attributes: Attributes = { assistant: 'both' },
  name = 'Camille',
): MessageVars {
  const publicUrl = 'https://lastcall.example.org';
  return buildMessageVars({
    name,
    locale,
    timezone: 'Europe/Paris',
    attributes,
    deadline: Date.parse('2026-01-15T00:00:00+01:00'),
    now: Date.parse('2026-01-08T10:00:00+01:00'),
    links: {
      unsubscribeUrl: `${publicUrl}/unsubscribe/sample-token`,
      doneUrl: `${publicUrl}/done/sample-token`,
      helpUrl: `${publicUrl}/help`,
    },
    publicUrl,
  });
}
