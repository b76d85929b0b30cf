// One subscriber record (docs/subscribers.md, "The CSV"), as the CSV import and the web sign-up
// form both receive it: every field a string. Refusals name the field and the rule; they never echo
// a name, phone, email or consent note back (personal data ends up in logs and terminals).
import { type CountryCode, parsePhoneNumberWithError } from 'libphonenumber-js/max';
import { z } from 'zod';
import { canonicalZone } from '../planning/planner.ts';
import type { Problem } from '../shared/errors.ts';
import { CHANNELS, type Channel, type Locale } from '../shared/vocabulary.ts';

/** The values the bare `assistant` column accepts (docs/subscribers.md: the shipped campaign's
 *  attribute, kept as its own column for compatibility; stored as the attribute `assistant`). */
export const ASSISTANTS = ['chatgpt', 'copilot', 'both'] as const;
/** An attribute's name: `attr.<name>` in the CSV, a key of `attributes` in the API. */
export const ATTRIBUTE_NAME = /^[a-z][a-z0-9_]{0,39}$/;
export const ATTRIBUTE_NAME_RULE =
  'an attribute name is a lower-case letter, then up to 39 lower-case letters, digits or _';
export const ATTRIBUTE_VALUE_MAX = 500;
export const ATTRIBUTE_PREFIX = 'attr.';

/** Stored attributes: name → text value. */
export type Attributes = Readonly<Record<string, string>>;

/** The attributes a record gives a subscriber who has none yet: its values, not its removals. */
export function storedAttributes(record: Readonly<Record<string, string | null>>): Attributes {
  const stored: Record<string, string> = {};
  for (const [name, value] of Object.entries(record)) if (value !== null) stored[name] = value;
  return stored;
}

export interface SubscriberInput {
  readonly id: string;
  readonly name: string;
  /** E.164, e.g. "+33612345678". */
  readonly phone?: string;
  /** The phone number's region (ISO 3166-1 alpha-2, "FR"), '' when it has none (+800); for
   *  public holidays by the phone's country (docs/audiences.md, "Public holidays"). */
  readonly phoneRegion?: string;
  /** Lower-cased address. */
  readonly email?: string;
  readonly locale: Locale;
  /** IANA zone name, canonical spelling. */
  readonly timezone: string;
  /**
   * The attributes the record names: a value sets one, null removes it (an empty cell); a name
   * absent here is left as stored.
   */
  readonly attributes: Readonly<Record<string, string | null>>;
  /** Non-empty, each once, in CHANNELS order; each has its address. */
  readonly channels: readonly Channel[];
  /** Epoch milliseconds. */
  readonly consentAt: number;
  readonly consentSource: string;
  readonly tags: readonly string[];
}

export interface ValidateOptions {
  /** Consent given after this instant (epoch ms) is refused. */
  readonly now?: number;
  /** Accept national phone formats for this country (the web form); without it, "+…" only. */
  readonly defaultCountry?: CountryCode;
}

export type SubscriberResult =
  | {
      readonly ok: true;
      readonly value: SubscriberInput;
      /** What was accepted with a change worth saying (a locale neither fr nor en stored as en). */
      readonly notes?: readonly Problem[];
    }
  | { readonly ok: false; readonly problems: Problem[] };

/** A subscriber id, the one rule the import, the sign-up, the API and `subscribers show KEY` use. */
export const SUBSCRIBER_ID = /^[A-Za-z0-9._:-]{1,64}$/;
export const SUBSCRIBER_ID_RULE = 'must be 1–64 characters from A–Z, a–z, 0–9 and . _ : -';
const TAG = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2}))$/;
/** zod's own email pattern (what z.email() checks), tested directly: a schema parse per row cost
 *  more than the test itself (docs/benchmarks.md, "Import"). */
const EMAIL = z.regexes.email;
const PHONE_RULE = 'must be an E.164 phone number like +33612345678';

/** Operator-chosen values (not personal data) are echoed, shortened. */
function show(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

// Zone and locale checks build Intl objects (microseconds each); a file holds a few dozen
// distinct values, so a million rows are checked against a small memo.
const zoneCache = new Map<string, string | null>();
const localeCache = new Map<string, Locale | null>();
function memo<T>(
  cache: Map<string, T | null>,
  key: string,
  compute: (key: string) => T | undefined,
): T | undefined {
  let found = cache.get(key);
  if (found === undefined) {
    found = compute(key) ?? null;
    if (cache.size >= 1000) cache.clear();
    cache.set(key, found);
  }
  return found ?? undefined;
}

/**
 * A valid zone as the subscriber wrote it, with its case fixed ("europe/paris" → "Europe/Paris").
 * Intl's own canonical name is used only for the case: Node's ICU still answers the old CLDR
 * names (Asia/Kolkata → Asia/Calcutta, Europe/Kyiv → Europe/Kiev), which people would not
 * recognise as theirs.
 */
function zoneSpelling(text: string): string | undefined {
  const canonical = canonicalZone(text);
  if (canonical === undefined) return undefined;
  return canonical.toLowerCase() === text.toLowerCase() ? canonical : text;
}

function phoneOf(
  text: string,
  defaultCountry: CountryCode | undefined,
): { number: string; region: string } | undefined {
  if (defaultCountry === undefined && !text.startsWith('+')) return undefined;
  try {
    const parsed = parsePhoneNumberWithError(text, defaultCountry);
    return parsed.isValid() ? { number: parsed.number, region: parsed.country ?? '' } : undefined;
  } catch {
    return undefined;
  }
}

/** The region of a stored E.164 number ("FR"), '' when it has none; null without a number. */
export function phoneRegion(e164: string | null | undefined): string | null {
  if (e164 === null || e164 === undefined) return null;
  try {
    return parsePhoneNumberWithError(e164).country ?? '';
  } catch {
    return '';
  }
}

/** fr, fr-FR, fr-CA → fr; any other well-formed BCP 47 tag → en; malformed → undefined. */
export function localeOf(text: string): Locale | undefined {
  if (text === '') return undefined;
  try {
    const [canonical] = Intl.getCanonicalLocales(text);
    if (canonical === undefined) return undefined;
    return canonical.split('-')[0] === 'fr' ? 'fr' : 'en';
  } catch {
    return undefined;
  }
}

/** An ISO 8601 instant with an offset or Z, in epoch ms; NaN when malformed or not a real date. */
export function instantOf(text: string): number {
  const m = INSTANT.exec(text);
  if (!m) return Number.NaN;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((part) => Number(part ?? 0)) as number[];
  const offsetHours = Number(m[10] ?? 0);
  const offsetMinutes = Number(m[11] ?? 0);
  if (hour! > 23 || minute! > 59 || second! > 59 || offsetHours > 23 || offsetMinutes > 59) return Number.NaN;
  const millis = Math.floor(Number(`0.${m[7] ?? 0}`) * 1000);
  const wall = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!, millis);
  // Date.UTC rolls 30 February over to 2 March: a real date reads back unchanged.
  const date = new Date(wall);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month! - 1 || date.getUTCDate() !== day) {
    return Number.NaN;
  }
  const sign = m[9] === '-' ? -1 : 1;
  return wall - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
}

/** Semicolon-separated list; empty pieces ("a;;b", a trailing ";") are ignored. */
function listOf(text: string): string[] {
  return text
    .split(';')
    .map((piece) => piece.trim())
    .filter((piece) => piece !== '');
}

export function validateSubscriber(
  raw: Readonly<Record<string, string | undefined>>,
  opts: ValidateOptions = {},
): SubscriberResult {
  const problems: Problem[] = [];
  const field = (name: string) => (raw[name] ?? '').trim();

  const id = field('id');
  if (!SUBSCRIBER_ID.test(id)) {
    problems.push({
      path: 'id',
      rule: id === '' ? 'is required' : `${SUBSCRIBER_ID_RULE} (got ${id.length} characters)`,
    });
  }

  const name = field('name');
  if (name === '') problems.push({ path: 'name', rule: 'is required' });
  else if (name.length > 200) problems.push({ path: 'name', rule: 'must be at most 200 characters' });
  else if (/\p{Cc}/u.test(name))
    problems.push({ path: 'name', rule: 'must be on one line, without control characters' });

  const phoneText = field('phone');
  const phone = phoneText === '' ? undefined : phoneOf(phoneText, opts.defaultCountry);
  if (phoneText !== '' && phone === undefined) {
    const hint =
      opts.defaultCountry === undefined && !phoneText.startsWith('+') ? ', with its country code' : '';
    problems.push({ path: 'phone', rule: `${PHONE_RULE}${hint}` });
  }

  const emailText = field('email').toLowerCase();
  const email = emailText === '' ? undefined : emailText;
  if (email !== undefined && (email.length > 254 || !EMAIL.test(email))) {
    problems.push({ path: 'email', rule: 'must be an email address like name@example.org' });
  }
  if (phoneText === '' && emailText === '') {
    problems.push({ path: 'phone, email', rule: 'at least one is required (both are empty)' });
  }

  const localeText = field('locale');
  const locale = memo(localeCache, localeText, localeOf);
  if (locale === undefined) {
    problems.push({
      path: 'locale',
      ...(localeText === '' ? {} : { value: show(localeText) }),
      rule:
        localeText === '' ? 'is required: fr or en' : 'must be a BCP 47 language tag like fr, fr-FR or en',
    });
  }

  const zoneText = field('timezone');
  const timezone = zoneText === '' ? undefined : memo(zoneCache, zoneText, zoneSpelling);
  if (timezone === undefined) {
    problems.push({
      path: 'timezone',
      ...(zoneText === '' ? {} : { value: show(zoneText) }),
      rule: `${zoneText === '' ? 'is required: ' : 'must be '}an IANA time zone name like Europe/Paris`,
    });
  }

  const attributes = attributesOf(raw, problems);

  const channels = channelsOf(field('channels').toLowerCase(), phoneText !== '', emailText !== '', problems);

  const consentText = field('consent_at');
  const consentAt = instantOf(consentText);
  if (!Number.isFinite(consentAt)) {
    problems.push({
      path: 'consent_at',
      ...(consentText === '' ? {} : { value: show(consentText) }),
      rule:
        consentText === ''
          ? 'is required: when consent was given, like 2025-11-02T14:30:00Z (no one is messaged without it)'
          : 'must be an ISO 8601 instant with an offset or Z, like 2025-11-02T14:30:00Z',
    });
  } else if (opts.now !== undefined && consentAt > opts.now) {
    problems.push({ path: 'consent_at', value: show(consentText), rule: 'must not be in the future' });
  }

  const consentSource = field('consent_source');
  if (consentSource === '') {
    problems.push({
      path: 'consent_source',
      rule: 'is required: where consent was given (no one is messaged without it)',
    });
  } else if (consentSource.length > 500) {
    problems.push({ path: 'consent_source', rule: 'must be at most 500 characters' });
  }

  const tags = [...new Set(listOf(field('tags')))];
  for (const tag of tags) {
    if (!TAG.test(tag)) {
      problems.push({
        path: 'tags',
        value: show(tag),
        rule: 'each tag must be lower-case letters, digits, - and _ (at most 63), separated by ;',
      });
    }
  }

  if (problems.length > 0) return { ok: false, problems };
  // docs/getting-started.md: a language other than French or English falls back to English,
  // and says so rather than silently.
  const fellBack = locale === 'en' && !/^en(-|$)/i.test(localeText);
  const notes: Problem[] = fellBack
    ? [{ path: 'locale', value: show(localeText), rule: 'is neither fr nor en: stored as en' }]
    : [];
  const value: SubscriberInput = {
    id,
    name,
    ...(phone === undefined ? {} : { phone: phone.number, phoneRegion: phone.region }),
    ...(email === undefined ? {} : { email }),
    locale: locale!,
    timezone: timezone!,
    attributes,
    channels,
    consentAt,
    consentSource,
    tags,
  };
  return notes.length > 0 ? { ok: true, value, notes } : { ok: true, value };
}

/**
 * The `attr.<name>` fields of a record, and the bare `assistant` (the attribute `assistant`, whose
 * values the column's contract fixes). A field absent from the record leaves the attribute alone;
 * an empty one removes it.
 */
function attributesOf(
  raw: Readonly<Record<string, string | undefined>>,
  problems: Problem[],
): Record<string, string | null> {
  const attributes: Record<string, string | null> = {};
  for (const key in raw) {
    if (!key.startsWith(ATTRIBUTE_PREFIX)) continue;
    const name = key.slice(ATTRIBUTE_PREFIX.length);
    const value = (raw[key] ?? '').trim();
    if (!ATTRIBUTE_NAME.test(name)) {
      problems.push({ path: key, rule: `must be attr.<name>: ${ATTRIBUTE_NAME_RULE}` });
    } else if (value.length > ATTRIBUTE_VALUE_MAX) {
      problems.push({ path: key, rule: `must be at most ${ATTRIBUTE_VALUE_MAX} characters` });
    } else if (value.includes('\u0000')) {
      problems.push({ path: key, rule: 'must be text, without NUL characters' });
    } else attributes[name] = value === '' ? null : value;
  }
  const assistant = raw.assistant;
  if (assistant !== undefined) {
    const text = assistant.trim().toLowerCase();
    if (text !== '' && !(ASSISTANTS as readonly string[]).includes(text)) {
      problems.push({
        path: 'assistant',
        value: show(assistant.trim()),
        rule: `must be one of: ${ASSISTANTS.join(', ')} (or empty)`,
      });
    } else attributes.assistant = text === '' ? null : text;
  }
  return attributes;
}

function channelsOf(text: string, hasPhone: boolean, hasEmail: boolean, problems: Problem[]): Channel[] {
  const listed = listOf(text);
  if (listed.length === 0) {
    problems.push({ path: 'channels', rule: `is required: ${CHANNELS.join(';')} or one of them` });
    return [];
  }
  const unknown = listed.filter((c) => !(CHANNELS as readonly string[]).includes(c));
  if (unknown.length > 0) {
    problems.push({
      path: 'channels',
      value: show(unknown.join(';')),
      rule: `must be ${CHANNELS.join(', ')} or both, separated by ;`,
    });
  }
  const channels = CHANNELS.filter((c) => listed.includes(c));
  if (channels.includes('whatsapp') && !hasPhone) {
    problems.push({ path: 'channels', rule: 'whatsapp needs a phone number' });
  }
  if (channels.includes('email') && !hasEmail) {
    problems.push({ path: 'channels', rule: 'email needs an email address' });
  }
  return channels;
}
