import { describe, expect, it } from 'vitest';
import { readReturnPath, returnPathAddress } from './return-path.ts';
import { createToken, verifyReturnPathToken } from './tokens.ts';

const KEY = 'k'.repeat(32);
const DOMAIN = 'lastcall.example.org';

describe('return paths (VERP)', () => {
  it('names the delivery, fits a local part and reads back whatever the case', () => {
    const address = returnPathAddress(KEY, 123456789, DOMAIN);
    expect(address).toMatch(/^bounce\+123456789\.[0-9a-f]{20}@lastcall\.example\.org$/);
    expect(address.split('@')[0]!.length).toBeLessThanOrEqual(64);
    expect(readReturnPath(KEY, address, DOMAIN)).toEqual({ deliveryId: 123456789 });
    expect(readReturnPath(KEY, address.toUpperCase(), DOMAIN)).toEqual({ deliveryId: 123456789 });
  });

  it('refuses a token moved to another delivery, signed with another key, or cut short', () => {
    const token = returnPathAddress(KEY, 42, DOMAIN).slice('bounce+'.length).split('@')[0]!;
    const [, sig] = token.split('.') as [string, string];
    expect(verifyReturnPathToken(KEY, `43.${sig}`)).toBeUndefined();
    expect(verifyReturnPathToken('x'.repeat(32), token)).toBeUndefined();
    expect(verifyReturnPathToken(KEY, token.slice(0, -1))).toBeUndefined();
    expect(verifyReturnPathToken(KEY, `042.${sig}`)).toBeUndefined();
    expect(readReturnPath(KEY, `bounce+43.${sig}@${DOMAIN}`, DOMAIN)).toBe('forged');
  });

  it('is not a link token, and other addresses are not return paths', () => {
    const link = createToken(KEY, { action: 'done', subscriberId: '42' }, Date.now());
    expect(verifyReturnPathToken(KEY, link)).toBeUndefined();
    const ours = returnPathAddress(KEY, 42, DOMAIN);
    expect(readReturnPath(KEY, ours.replace(DOMAIN, 'elsewhere.example'), DOMAIN)).toBeUndefined();
    expect(readReturnPath(KEY, `unsubscribe@${DOMAIN}`, DOMAIN)).toBeUndefined();
  });
});
