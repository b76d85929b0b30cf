import { describe, expect, it } from 'vitest';
import { createToken, verifyToken } from './tokens.ts';
import { senderAddress, tokenInSubject, unsubscribeMailto } from './unsubscribe-mailto.ts';

const SECRET = 'a-test-secret-that-is-long-enough-for-hmac';
const NOW = Date.parse('2026-01-08T09:00:00Z');
const token = createToken(SECRET, { action: 'unsubscribe', subscriberId: 'sub-1', channel: 'email' }, NOW);

describe('unsubscribeMailto', () => {
  it('addresses our mailbox with the token in the subject, as a mail client reads a mailto URL', () => {
    const mailto = new URL(
      unsubscribeMailto({ mailbox: 'unsubscribe@lastcall.example.org', mailFrom: 'x@y.org', token }),
    );
    expect(mailto.protocol).toBe('mailto:');
    expect(mailto.pathname).toBe('unsubscribe@lastcall.example.org');
    const subject = mailto.searchParams.get('subject') ?? '';
    expect(subject).toBe(`unsubscribe ${token}`);
    const read = tokenInSubject(subject);
    expect(read).toBe(token);
    expect(verifyToken(SECRET, read ?? '', 'unsubscribe', NOW)).toMatchObject({
      ok: true,
      token: { subscriberId: 'sub-1', channel: 'email' },
    });
  });

  it("falls back to the sender's address without a token when no mailbox is configured", () => {
    expect(unsubscribeMailto({ mailbox: undefined, mailFrom: 'Lastcall <rappels@example.org>', token })).toBe(
      'mailto:rappels@example.org?subject=unsubscribe',
    );
  });
});

describe('tokenInSubject', () => {
  it('finds the token behind a reply or forward prefix, and after an unfolded line break', () => {
    expect(tokenInSubject(`Re: unsubscribe ${token}`)).toBe(token);
    expect(tokenInSubject(`Fwd: unsubscribe\r\n ${token}`)).toBe(token);
    expect(tokenInSubject(token)).toBe(token);
  });

  it('finds nothing in a subject without one', () => {
    expect(tokenInSubject('unsubscribe')).toBeUndefined();
    expect(tokenInSubject('please remove me from example.org')).toBeUndefined();
    expect(tokenInSubject('')).toBeUndefined();
  });
});

describe('senderAddress', () => {
  it('takes the address out of a display name', () => {
    expect(senderAddress('Lastcall <no-reply@example.org>')).toBe('no-reply@example.org');
    expect(senderAddress(' no-reply@example.org ')).toBe('no-reply@example.org');
  });
});
