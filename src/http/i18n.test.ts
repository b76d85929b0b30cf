import { describe, expect, it } from 'vitest';
import { en } from './i18n.en.ts';
import { fr } from './i18n.fr.ts';
import { chosenLocale, negotiateLocale, phoneCountry } from './i18n.ts';

describe('negotiateLocale', () => {
  it('takes ?lang= when it names fr or en, in any region', () => {
    expect(negotiateLocale('en', 'fr')).toBe('en');
    expect(negotiateLocale('fr-CA', 'en')).toBe('fr');
    expect(chosenLocale('EN-gb')).toBe('en');
  });

  it('ignores an unknown or malformed ?lang= and reads Accept-Language by quality', () => {
    expect(negotiateLocale('de', 'en-US,en;q=0.9')).toBe('en');
    expect(negotiateLocale('"><x', 'en')).toBe('en');
    expect(negotiateLocale(['en'], undefined)).toBe('fr');
    expect(negotiateLocale(undefined, 'de;q=1, fr;q=0.4, en;q=0.6')).toBe('en');
    expect(negotiateLocale(undefined, 'es, *;q=0.1')).toBe('fr');
    expect(negotiateLocale(undefined, 'en;q=nonsense, fr')).toBe('fr');
    expect(negotiateLocale(undefined, '')).toBe('fr');
  });
});

describe('phoneCountry', () => {
  it('is the region of the first language that names a known one', () => {
    expect(phoneCountry('fr-CA,fr;q=0.9')).toBe('CA');
    expect(phoneCountry('fr, en-GB;q=0.5')).toBe('GB');
    expect(phoneCountry('fr')).toBeUndefined();
    expect(phoneCountry('en-XX')).toBeUndefined();
    expect(phoneCountry(undefined)).toBeUndefined();
  });
});

describe('messages', () => {
  it('have the same keys in both languages', () => {
    const keys = (o: object, prefix = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) =>
        v && typeof v === 'object' && !Array.isArray(v) ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`],
      );
    expect(keys(en).sort()).toEqual(keys(fr).sort());
  });
});
