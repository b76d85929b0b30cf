// The words a subscriber can send on WhatsApp (docs/subscribers.md, "Public pages and links"), and
// what Lastcall answers, in French and English. A message is a command only when, normalised, it is
// exactly one of the keywords: "Stop." and "Fait ✅" are commands, "please don't stop" is not.

export type InboundCommand = 'stop' | 'start' | 'done';
export type ReplyLocale = 'fr' | 'en';

const KEYWORDS: Readonly<Record<string, InboundCommand>> = {
  STOP: 'stop',
  ARRET: 'stop', // ARRÊT
  UNSUBSCRIBE: 'stop',
  DESABONNER: 'stop', // DÉSABONNER
  START: 'start',
  FAIT: 'done',
  DONE: 'done',
  EXPORTE: 'done', // EXPORTÉ
};

/** Trim, uppercase, strip accents, punctuation, symbols and emoji; collapse spaces. */
export function normaliseReply(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** The command the first text that is one names (text body, then button text, then payload). */
export function commandOf(texts: readonly string[]): InboundCommand | undefined {
  for (const text of texts) {
    const command = KEYWORDS[normaliseReply(text)];
    if (command) return command;
  }
  return undefined;
}

const REPLIES: Readonly<Record<ReplyLocale, Readonly<Record<InboundCommand, string>>>> = {
  fr: {
    stop: 'C’est noté : vous ne recevrez plus nos rappels sur WhatsApp. Répondez START pour les réactiver.',
    start: 'C’est noté : vos rappels sur WhatsApp sont réactivés. Répondez STOP pour les arrêter.',
    done: 'Merci ! C’est noté : vous avez terminé, nous ne vous enverrons plus de rappels.',
  },
  en: {
    stop: 'Noted: you will no longer get our reminders on WhatsApp. Reply START to turn them back on.',
    start: 'Noted: your WhatsApp reminders are back on. Reply STOP to stop them.',
    done: 'Thank you! Noted: you are done, so we will not send you any more reminders.',
  },
};

/** A subscriber's locale as a reply language (unknown falls back to English). */
export function replyLocale(locale: string | null | undefined): ReplyLocale {
  const primary = locale?.toLowerCase().split(/[-_]/)[0];
  return primary === 'fr' ? 'fr' : 'en';
}

export function replyText(command: InboundCommand, locale: string | null | undefined): string {
  return REPLIES[replyLocale(locale)][command];
}
