import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../shared/errors.ts';
import { describeKey, parseSubscriberKey } from './subscriber-key.ts';

describe('parseSubscriberKey', () => {
  it('reads an id, a phone (normalised to E.164) or an email (lower-cased)', () => {
    expect(parseSubscriberKey('s001')).toEqual({ kind: 'id', value: 's001' });
    expect(parseSubscriberKey(' web-3f2a:9 ')).toEqual({ kind: 'id', value: 'web-3f2a:9' });
    expect(parseSubscriberKey('+33 6 12 34 56 78')).toEqual({ kind: 'phone', value: '+33612345678' });
    expect(parseSubscriberKey('Amelie@Example.ORG')).toEqual({ kind: 'email', value: 'amelie@example.org' });
  });

  it('refuses what is none of them, without repeating it', () => {
    for (const bad of ['+33 12', 'not@an@email', 'two words', '']) {
      const error = (() => {
        try {
          parseSubscriberKey(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(error, bad).toBeInstanceOf(InvalidInput);
      expect((error as InvalidInput).problems[0]?.path).toBe('KEY');
      if (bad !== '') expect((error as InvalidInput).message).not.toContain(bad);
    }
  });

  it('describes a key without personal data', () => {
    expect(describeKey({ kind: 'id', value: 's1' })).toBe('id s1');
    expect(describeKey({ kind: 'phone', value: '+33612345678' })).toBe('this phone number');
    expect(describeKey({ kind: 'email', value: 'a@b.org' })).toBe('this email address');
  });
});
