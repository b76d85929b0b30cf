// The variables a message template can use, computed for one subscriber at one moment. The
// few sentences that depend on the subscriber's assistant live here rather than in templates:
// a WhatsApp template is fixed text approved by Meta, so anything that varies per subscriber
// must travel as a one-line parameter (no newlines, Meta refuses them).
import { daysLeft as calendarDaysLeft, formatDeadline, minutesLeft } from '../planning/planner.ts';
import type { Locale } from '../shared/vocabulary.ts';
import { ASSISTANTS, type Attributes } from '../subscribers/subscriber.schema.ts';

type Assistant = (typeof ASSISTANTS)[number];

export const MESSAGE_LOCALES = ['fr', 'en'] as const satisfies readonly Locale[];

/** Text variables: usable as {{name}} in emails and as WhatsApp parameters. */
export const TEXT_VARIABLES = [
  'name',
  'deadline',
  'daysLeft',
  'timeLeft',
  'assistant',
  'exportSteps',
  'historyAdvice',
  'unsubscribeUrl',
  'doneUrl',
  'helpUrl',
  'publicUrl',
] as const;
/** Section flags: {{#if chatgpt}} is true for chatgpt and both, {{#if copilot}} for copilot and both. */
export const FLAG_VARIABLES = ['chatgpt', 'copilot', 'both'] as const;

export type MessageVars = {
  readonly [K in (typeof TEXT_VARIABLES)[number]]: K extends 'daysLeft' ? number : string;
} & {
  readonly [K in (typeof FLAG_VARIABLES)[number]]: boolean;
};

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

/** fr, fr-CA, FR_fr → fr; anything else, malformed included, → en (SPEC §5). */
export function resolveLocale(text: string): Locale {
  return /^fr(?:[-_]|$)/i.test(text.trim()) ? 'fr' : 'en';
}

const WORDING = {
  fr: {
    nameless: 'à vous',
    assistant: { chatgpt: 'ChatGPT', copilot: 'Copilot', both: 'ChatGPT et Copilot' },
    exportSteps:
      'ouvrez la discussion, puis sur Android ⋮ → Plus → Exporter la discussion, sur iPhone touchez le nom du contact → Exporter la discussion ; choisissez avec ou sans médias et enregistrez le fichier ailleurs que sur le téléphone',
    historyAdvice: {
      chatgpt:
        'Pour garder votre historique, reliez votre numéro WhatsApp à un compte ChatGPT, ou exportez la discussion.',
      copilot:
        'Copilot ne transfère pas l’historique : pour le garder, exportez vos discussions vous-même avant cette date.',
      both: 'ChatGPT : reliez votre numéro WhatsApp à un compte ChatGPT pour garder l’historique. Copilot : pas de transfert, exportez vos discussions vous-même avant cette date.',
    },
  },
  en: {
    nameless: 'there',
    assistant: { chatgpt: 'ChatGPT', copilot: 'Copilot', both: 'ChatGPT and Copilot' },
    exportSteps:
      'open the chat, then on Android ⋮ → More → Export chat, on iPhone tap the contact’s name → Export chat; choose with or without media and save the file somewhere other than your phone',
    historyAdvice: {
      chatgpt: 'To keep your history, link your WhatsApp number to a ChatGPT account, or export the chat.',
      copilot: 'Copilot offers no transfer: to keep your history, export your chats yourself before then.',
      both: 'ChatGPT: link your WhatsApp number to a ChatGPT account to keep your history. Copilot: no transfer, export your chats yourself before then.',
    },
  },
} as const satisfies Record<Locale, unknown>;

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
  const words = WORDING[locale];
  const name = input.name.replace(/\s+/g, ' ').trim();
  const days = Math.max(0, calendarDaysLeft(input.now, input.deadline, input.timezone));
  const text = input.attributes.assistant;
  const assistant: Assistant = ASSISTANTS.find((a) => a === text) ?? 'both';
  return {
    name: name === '' ? words.nameless : name,
    deadline: formatDeadline(input.deadline, input.timezone, locale),
    daysLeft: days,
    timeLeft: timeLeft(input.now, input.deadline, days, locale),
    assistant: words.assistant[assistant],
    exportSteps: words.exportSteps,
    historyAdvice: words.historyAdvice[assistant],
    unsubscribeUrl: input.links.unsubscribeUrl,
    doneUrl: input.links.doneUrl,
    helpUrl: input.links.helpUrl,
    publicUrl: input.publicUrl.replace(/\/+$/, ''),
    chatgpt: assistant !== 'copilot',
    copilot: assistant !== 'chatgpt',
    both: assistant === 'both',
  };
}

/** Plausible values for previews, Meta template examples, validation and tests. */
export function sampleMessageVars(
  locale: string,
  assistant: Assistant = 'both',
  name = 'Camille',
): MessageVars {
  const publicUrl = 'https://lastcall.example.org';
  return buildMessageVars({
    name,
    locale,
    timezone: 'Europe/Paris',
    attributes: { assistant },
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
