// The console's language: `?lang=` (the switch; remembered in a cookie), else the cookie, else the
// browser's Accept-Language, else French, as the public pages choose (../i18n.ts).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Locale } from '../../shared/vocabulary.ts';
import { chosenLocale, negotiateLocale } from '../i18n.ts';
import { en } from './i18n.en.ts';
import { type ConsoleMessages, fr } from './i18n.fr.ts';

export type { ConsoleMessages };
export const CONSOLE_MESSAGES: Readonly<Record<Locale, ConsoleMessages>> = { fr, en };
export const LANG_COOKIE = 'lastcall_console_lang';

export function consoleLocale(request: FastifyRequest, reply: FastifyReply): Locale {
  const query = request.query as { lang?: unknown } | undefined;
  const chosen = chosenLocale(query?.lang);
  if (chosen) {
    reply.setCookie(LANG_COOKIE, chosen, {
      path: '/console',
      sameSite: 'strict',
      httpOnly: true,
      maxAge: 31_536_000,
    });
    return chosen;
  }
  return negotiateLocale(request.cookies[LANG_COOKIE], request.headers['accept-language']);
}
