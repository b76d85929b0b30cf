import { describe, expect, it } from 'vitest';
import { instantOf, localeOf, validateSubscriber } from './subscriber.schema.ts';

const VALID = {
  id: 'sub-1',
  name: 'Camille Martin',
  phone: '+33612345678',
  email: 'Camille.Martin@Example.org',
  locale: 'fr-FR',
  timezone: 'Europe/Paris',
  assistant: 'chatgpt',
  channels: 'whatsapp;email',
  consent_at: '2025-11-02T15:30:00+01:00',
  consent_source: 'web form, 2025 campaign page',
  tags: 'beta;vip',
};

function problemsOf(overrides: Record<string, string | undefined>, opts = {}) {
  const result = validateSubscriber({ ...VALID, ...overrides }, opts);
  if (result.ok) throw new Error('expected the record to be refused');
  return result.problems;
}

describe('validateSubscriber', () => {
  it('normalises a valid record', () => {
    expect(validateSubscriber(VALID)).toEqual({
      ok: true,
      value: {
        id: 'sub-1',
        name: 'Camille Martin',
        phone: '+33612345678',
        phoneRegion: 'FR',
        email: 'camille.martin@example.org',
        locale: 'fr',
        timezone: 'Europe/Paris',
        attributes: { assistant: 'chatgpt' },
        channels: ['whatsapp', 'email'],
        consentAt: Date.UTC(2025, 10, 2, 14, 30),
        consentSource: 'web form, 2025 campaign page',
        tags: ['beta', 'vip'],
      },
    });
  });

  it('trims fields and accepts a missing tags field', () => {
    const result = validateSubscriber({ ...VALID, id: '  sub-1 ', assistant: ' Copilot ', tags: undefined });
    expect(result.ok && result.value).toMatchObject({
      id: 'sub-1',
      attributes: { assistant: 'copilot' },
      tags: [],
    });
  });

  it('requires an id of at most 64 characters from a safe set', () => {
    expect(problemsOf({ id: '' })).toEqual([{ path: 'id', rule: 'is required' }]);
    expect(problemsOf({ id: 'a'.repeat(65) })[0]?.path).toBe('id');
    expect(problemsOf({ id: 'jean dupont' })[0]?.rule).toMatch(/A–Z, a–z, 0–9 and \. _ : -/);
    expect(validateSubscriber({ ...VALID, id: `crm:A.b_c-${'9'.repeat(54)}` }).ok).toBe(true);
  });

  it('requires a one-line name', () => {
    expect(problemsOf({ name: '' })).toEqual([{ path: 'name', rule: 'is required' }]);
    expect(problemsOf({ name: 'Camille\nMartin' })[0]?.path).toBe('name');
  });

  it('normalises international phone numbers to E.164 and refuses national ones without a country', () => {
    const spaced = validateSubscriber({ ...VALID, phone: '+33 6 12 34 56 78' });
    expect(spaced.ok && spaced.value.phone).toBe('+33612345678');
    expect(problemsOf({ phone: '06 12 34 56 78' })).toEqual([
      { path: 'phone', rule: 'must be an E.164 phone number like +33612345678, with its country code' },
    ]);
    expect(problemsOf({ phone: '+33 1' })).toEqual([
      { path: 'phone', rule: 'must be an E.164 phone number like +33612345678' },
    ]);
    const national = validateSubscriber({ ...VALID, phone: '06 12 34 56 78' }, { defaultCountry: 'FR' });
    expect(national.ok && national.value.phone).toBe('+33612345678');
  });

  it('checks the email address shape and lower-cases it', () => {
    expect(problemsOf({ email: 'camille@' })).toEqual([
      { path: 'email', rule: 'must be an email address like name@example.org' },
    ]);
  });

  it('never echoes personal data in problems', () => {
    const problems = problemsOf({ id: 'Jean Dupont', name: 'x'.repeat(201), phone: '+33 1', email: 'jean@' });
    expect(problems.map((p) => p.path)).toEqual(['id', 'name', 'phone', 'email']);
    for (const p of problems) expect(p.value).toBeUndefined();
  });

  it('requires a phone or an email', () => {
    const problems = problemsOf({ phone: '', email: '', channels: 'whatsapp' });
    expect(problems).toContainEqual({
      path: 'phone, email',
      rule: 'at least one is required (both are empty)',
    });
  });

  it('maps BCP 47 locales to fr or en and refuses malformed tags', () => {
    expect(localeOf('fr')).toBe('fr');
    expect(localeOf('fr-CA')).toBe('fr');
    expect(localeOf('FR-fr')).toBe('fr');
    expect(localeOf('en-GB')).toBe('en');
    expect(localeOf('de-DE')).toBe('en');
    expect(localeOf('fr_FR')).toBeUndefined();
    expect(problemsOf({ locale: 'fr_FR' })).toEqual([
      { path: 'locale', value: '"fr_FR"', rule: 'must be a BCP 47 language tag like fr, fr-FR or en' },
    ]);
    expect(problemsOf({ locale: '' })).toEqual([{ path: 'locale', rule: 'is required: fr or en' }]);
  });

  it('accepts IANA zones, fixing their case but keeping the name written', () => {
    const lower = validateSubscriber({ ...VALID, timezone: 'europe/paris' });
    expect(lower.ok && lower.value.timezone).toBe('Europe/Paris');
    // Node's ICU calls it Asia/Calcutta; the subscriber's spelling is kept.
    const kolkata = validateSubscriber({ ...VALID, timezone: 'Asia/Kolkata' });
    expect(kolkata.ok && kolkata.value.timezone).toBe('Asia/Kolkata');
    expect(problemsOf({ timezone: '+01:00' })).toEqual([
      { path: 'timezone', value: '"+01:00"', rule: 'must be an IANA time zone name like Europe/Paris' },
    ]);
    expect(problemsOf({ timezone: 'Mars/Olympus' })[0]?.path).toBe('timezone');
  });

  it('reads the bare assistant column as the attribute assistant, with its three values', () => {
    expect(problemsOf({ assistant: 'gemini' })).toEqual([
      { path: 'assistant', value: '"gemini"', rule: 'must be one of: chatgpt, copilot, both (or empty)' },
    ]);
    const both = validateSubscriber({ ...VALID, assistant: ' Both ' });
    expect(both.ok && both.value.attributes).toEqual({ assistant: 'both' });
    const removed = validateSubscriber({ ...VALID, assistant: '' });
    expect(removed.ok && removed.value.attributes).toEqual({ assistant: null });
    const { assistant: _, ...without } = VALID;
    const none = validateSubscriber(without);
    expect(none.ok && none.value.attributes).toEqual({});
  });

  it('reads attr.<name> fields: a value sets, an empty cell removes, 500 characters at most', () => {
    const read = validateSubscriber({
      ...VALID,
      'attr.plan': ' pro ',
      'attr.city': '',
      'attr.note': 'é'.repeat(500),
    });
    expect(read.ok && read.value.attributes).toEqual({
      assistant: 'chatgpt',
      plan: 'pro',
      city: null,
      note: 'é'.repeat(500),
    });
    expect(problemsOf({ 'attr.note': 'x'.repeat(501) })).toEqual([
      { path: 'attr.note', rule: 'must be at most 500 characters' },
    ]);
    expect(problemsOf({ 'attr.Plan': 'pro' })[0]?.path).toBe('attr.Plan');
  });

  it('reads channels as a non-empty subset, each with its address', () => {
    const one = validateSubscriber({ ...VALID, channels: ' Email ;email;' });
    expect(one.ok && one.value.channels).toEqual(['email']);
    const ordered = validateSubscriber({ ...VALID, channels: 'email;whatsapp' });
    expect(ordered.ok && ordered.value.channels).toEqual(['whatsapp', 'email']);
    expect(problemsOf({ channels: '' })).toEqual([
      { path: 'channels', rule: 'is required: whatsapp;email or one of them' },
    ]);
    expect(problemsOf({ channels: 'sms;whatsapp' })).toEqual([
      { path: 'channels', value: '"sms"', rule: 'must be whatsapp, email or both, separated by ;' },
    ]);
    expect(problemsOf({ phone: '' })).toEqual([{ path: 'channels', rule: 'whatsapp needs a phone number' }]);
    expect(problemsOf({ email: '' })).toEqual([{ path: 'channels', rule: 'email needs an email address' }]);
    expect(validateSubscriber({ ...VALID, email: '', channels: 'whatsapp' }).ok).toBe(true);
  });

  it('requires consent evidence: an instant with an offset, not in the future, and a source', () => {
    expect(problemsOf({ consent_at: '' })[0]?.rule).toMatch(/^is required/);
    expect(problemsOf({ consent_at: '2025-11-02T14:30:00' })).toEqual([
      {
        path: 'consent_at',
        value: '"2025-11-02T14:30:00"',
        rule: 'must be an ISO 8601 instant with an offset or Z, like 2025-11-02T14:30:00Z',
      },
    ]);
    expect(problemsOf({ consent_at: '2025-02-30T10:00:00Z' })[0]?.path).toBe('consent_at');
    const now = Date.UTC(2025, 10, 2, 14, 29);
    expect(problemsOf({}, { now })).toEqual([
      { path: 'consent_at', value: '"2025-11-02T15:30:00+01:00"', rule: 'must not be in the future' },
    ]);
    expect(validateSubscriber(VALID, { now: Date.UTC(2025, 10, 2, 14, 30) }).ok).toBe(true);
    expect(problemsOf({ consent_source: ' ' })).toEqual([
      {
        path: 'consent_source',
        rule: 'is required: where consent was given (no one is messaged without it)',
      },
    ]);
  });

  it('reads tags as semicolon-separated slugs', () => {
    const tags = validateSubscriber({ ...VALID, tags: 'beta; early_2025 ;;beta;' });
    expect(tags.ok && tags.value.tags).toEqual(['beta', 'early_2025']);
    expect(problemsOf({ tags: 'beta;Very Important' })).toEqual([
      {
        path: 'tags',
        value: '"Very Important"',
        rule: 'each tag must be lower-case letters, digits, - and _ (at most 63), separated by ;',
      },
    ]);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({
      id: '',
      locale: 'x_y',
      timezone: 'Nowhere',
      assistant: 'gpt',
      consent_source: '',
    });
    expect(problems.map((p) => p.path)).toEqual(['id', 'locale', 'timezone', 'assistant', 'consent_source']);
  });
});

describe('instantOf', () => {
  it('reads ISO 8601 instants with Z or an offset', () => {
    expect(instantOf('2025-11-02T14:30:00Z')).toBe(Date.UTC(2025, 10, 2, 14, 30));
    expect(instantOf('2025-11-02T14:30Z')).toBe(Date.UTC(2025, 10, 2, 14, 30));
    expect(instantOf('2025-11-02T09:30:00.250-05:00')).toBe(Date.UTC(2025, 10, 2, 14, 30, 0, 250));
    expect(instantOf('2025-11-02T20:00:00+0530')).toBe(Date.UTC(2025, 10, 2, 14, 30));
  });

  it('refuses local times, dates only and impossible dates', () => {
    for (const text of [
      '2025-11-02T14:30:00',
      '2025-11-02',
      '2025-11-02 14:30Z',
      '2025-02-29T10:00:00Z',
      '2025-13-01T10:00:00Z',
      '2025-11-02T24:00:00Z',
      '2025-11-02T10:00:00+24:00',
    ]) {
      expect(instantOf(text), text).toBeNaN();
    }
  });
});
