// The pages' words, in French (first) and English, and how a request picks its language:
// `?lang=` when it names fr or en, else the first of fr/en in Accept-Language, else French.
// Anything else in `?lang=` (unknown or malformed) is ignored, never an error.

import type { CountryCode } from 'libphonenumber-js/max';
import { isSupportedCountry } from 'libphonenumber-js/max';
import type { Locale } from '../shared/vocabulary.ts';
import { en } from './i18n.en.ts';
import { fr } from './i18n.fr.ts';

export type Messages = typeof fr;
export const MESSAGES: Readonly<Record<Locale, Messages>> = { fr, en };

/** The consent text's version, recorded with every web opt-in. Change the text: bump it. */
export const CONSENT_VERSION = 'consent-v1';

function supported(tag: string | undefined): Locale | undefined {
  const primary = tag?.trim().toLowerCase().split(/[-_]/)[0];
  return primary === 'fr' || primary === 'en' ? primary : undefined;
}

interface Range {
  readonly tag: string;
  readonly q: number;
}

/** Accept-Language ranges, best first (ties keep their order). Bad pieces are skipped. */
function ranges(header: string | undefined): Range[] {
  if (!header) return [];
  const out: Range[] = [];
  for (const piece of header.slice(0, 500).split(',')) {
    const [tag, ...params] = piece.trim().split(';');
    if (!tag || !/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$|^\*$/.test(tag)) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (Number.isFinite(q) && q > 0 && q <= 1) out.push({ tag, q });
  }
  return out.sort((a, b) => b.q - a.q);
}

/** The language a `?lang=` value (or the form's hidden field) names, if it is fr or en. */
export function chosenLocale(lang: unknown): Locale | undefined {
  if (typeof lang !== 'string' || !/^[A-Za-z]{2}(-[A-Za-z0-9]{1,8})*$/.test(lang)) return undefined;
  return supported(lang);
}

export function negotiateLocale(lang: unknown, acceptLanguage: string | undefined): Locale {
  const chosen = chosenLocale(lang);
  if (chosen) return chosen;
  for (const range of ranges(acceptLanguage)) {
    const locale = supported(range.tag);
    if (locale) return locale;
  }
  return 'fr';
}

/** The country of the browser's preferred language (fr-CA → CA), to read national phone
 * numbers; undefined when the browser names none (then "+" and a country code are required). */
export function phoneCountry(acceptLanguage: string | undefined): CountryCode | undefined {
  for (const range of ranges(acceptLanguage)) {
    const region = range.tag.split('-')[1]?.toUpperCase();
    if (region && /^[A-Z]{2}$/.test(region) && isSupportedCountry(region)) return region;
  }
  return undefined;
}
