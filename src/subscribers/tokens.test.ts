import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createToken, TOKEN_TTL_MS, verifyToken } from './tokens.ts';

const KEY = 'k'.repeat(32);
const NOW = Date.parse('2026-03-01T10:00:00Z');
const later = (ms: number) => NOW + ms;

function decode(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'));
}
/** Re-encodes a changed payload but keeps the original signature: what a forger can do. */
function withPayload(token: string, change: Record<string, unknown>): string {
  const p = { ...decode(token), ...change };
  return `${Buffer.from(JSON.stringify(p)).toString('base64url')}.${token.split('.')[1]}`;
}
/** Signs an arbitrary payload text with the real key, to reach the checks behind the signature. */
function signedRaw(text: string): string {
  const payload = Buffer.from(text).toString('base64url');
  const sig = createHmac('sha256', KEY).update('lastcall-link-v1.').update(payload).digest('base64url');
  return `${payload}.${sig}`;
}

describe('link tokens', () => {
  it('round-trips each action with its subscriber, channel and expiry', () => {
    const confirm = createToken(KEY, { action: 'confirm', subscriberId: 'sub-1', channel: 'email' }, NOW);
    const unsub = createToken(KEY, { action: 'unsubscribe', subscriberId: 'sub-1', channel: 'all' }, NOW);
    const done = createToken(KEY, { action: 'done', subscriberId: 'sub-2' }, NOW);
    expect(verifyToken(KEY, confirm, 'confirm', NOW)).toEqual({
      ok: true,
      token: {
        action: 'confirm',
        subscriberId: 'sub-1',
        channel: 'email',
        expiresAt: NOW + 7 * 86_400_000,
      },
    });
    const u = verifyToken(KEY, unsub, 'unsubscribe', NOW);
    expect(u.ok && u.token.channel).toBe('all');
    const d = verifyToken(KEY, done, 'done', NOW);
    expect(d.ok && d.token.subscriberId).toBe('sub-2');
    expect(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/.test(done)).toBe(true);
  });

  it('expires confirm links after 7 days and keeps unsubscribe and done links for 400 days', () => {
    const confirm = createToken(KEY, { action: 'confirm', subscriberId: 's', channel: 'email' }, NOW);
    expect(verifyToken(KEY, confirm, 'confirm', later(TOKEN_TTL_MS.confirm - 1000)).ok).toBe(true);
    expect(verifyToken(KEY, confirm, 'confirm', later(TOKEN_TTL_MS.confirm))).toEqual({
      ok: false,
      reason: 'expired',
    });
    const unsub = createToken(KEY, { action: 'unsubscribe', subscriberId: 's', channel: 'email' }, NOW);
    expect(verifyToken(KEY, unsub, 'unsubscribe', later(399 * 86_400_000)).ok).toBe(true);
    expect(verifyToken(KEY, unsub, 'unsubscribe', later(400 * 86_400_000)).ok).toBe(false);
  });

  it('refuses a token used for another action', () => {
    const done = createToken(KEY, { action: 'done', subscriberId: 's' }, NOW);
    expect(verifyToken(KEY, done, 'unsubscribe', NOW)).toEqual({ ok: false, reason: 'wrong-action' });
  });

  it('refuses every tampered part: action, subscriber, channel, expiry, signature, key', () => {
    const t = createToken(KEY, { action: 'unsubscribe', subscriberId: 'sub-1', channel: 'email' }, NOW);
    const bad = { ok: false, reason: 'bad-signature' };
    expect(verifyToken(KEY, withPayload(t, { a: 'done' }), 'done', NOW)).toEqual(bad);
    expect(verifyToken(KEY, withPayload(t, { s: 'sub-2' }), 'unsubscribe', NOW)).toEqual(bad);
    expect(verifyToken(KEY, withPayload(t, { c: 'all' }), 'unsubscribe', NOW)).toEqual(bad);
    expect(verifyToken(KEY, withPayload(t, { e: 9_999_999_999 }), 'unsubscribe', NOW)).toEqual(bad);
    // Every single-character change of the signature, including the spare bits of its last one.
    const [payload, sig] = t.split('.') as [string, string];
    for (let i = 0; i < sig.length; i++) {
      const flipped = sig[i] === 'A' ? 'B' : 'A';
      const forged = `${payload}.${sig.slice(0, i)}${flipped}${sig.slice(i + 1)}`;
      expect(verifyToken(KEY, forged, 'unsubscribe', NOW)).toEqual(bad);
    }
    expect(verifyToken('x'.repeat(32), t, 'unsubscribe', NOW)).toEqual(bad);
  });

  it('calls malformed what is not a token, before or after the signature', () => {
    for (const junk of ['', 'abc', 'a.b.c', 'pay load.sig', 'payload.', '.sig', `${'a'.repeat(2000)}.x`])
      expect(verifyToken(KEY, junk, 'done', NOW)).toEqual({ ok: false, reason: 'malformed' });
    for (const text of ['not json', '[]', '{"a":"done","s":"","e":1}', '{"a":"done","s":"x","e":"soon"}'])
      expect(verifyToken(KEY, signedRaw(text), 'done', NOW)).toEqual({ ok: false, reason: 'malformed' });
    // A confirm link is for email only; an unsubscribe link names a known channel.
    const e = Math.floor(NOW / 1000) + 60;
    expect(
      verifyToken(KEY, signedRaw(`{"a":"confirm","s":"x","c":"whatsapp","e":${e}}`), 'confirm', NOW).ok,
    ).toBe(false);
    expect(
      verifyToken(KEY, signedRaw(`{"a":"unsubscribe","s":"x","c":"sms","e":${e}}`), 'unsubscribe', NOW).ok,
    ).toBe(false);
  });
});
