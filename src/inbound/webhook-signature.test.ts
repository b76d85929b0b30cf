import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeWebhook, metaJson } from '../sandbox/webhook-signing.ts';
import { checkWebhookSignature, escapeUnicode } from './webhook-signature.ts';

const SECRET = 'app-secret-for-tests';
const payload = {
  object: 'whatsapp_business_account',
  entry: [
    {
      id: '1',
      changes: [{ field: 'messages', value: { messages: [{ text: { body: 'ARRÊT 👍 / Fait ✅' } }] } }],
    },
  ],
};

describe('escapeUnicode', () => {
  it('writes every non-ASCII UTF-16 unit as lowercase \\uXXXX, as Meta does', () => {
    expect(escapeUnicode('äöå Ê 👍 ~')).toBe('\\u00e4\\u00f6\\u00e5 \\u00ca \\ud83d\\udc4d ~');
  });
});

describe('checkWebhookSignature', () => {
  it('accepts Meta’s escaped ASCII body and a UTF-8 copy of it, both signed over the escaped form', () => {
    for (const encoding of ['meta', 'utf8'] as const) {
      const { body, signature } = encodeWebhook(payload, SECRET, encoding);
      expect(checkWebhookSignature(SECRET, Buffer.from(body, 'utf8'), signature)).toBe('ok');
    }
    expect(encodeWebhook(payload, SECRET, 'utf8').body).toContain('ARRÊT');
  });

  it('refuses a signature over the raw UTF-8 bytes of French text', () => {
    const body = JSON.stringify(payload);
    const wrong = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    expect(checkWebhookSignature(SECRET, Buffer.from(body), wrong)).toBe('mismatch');
  });

  it('says what is wrong: missing, malformed, another secret, a changed body', () => {
    const { body, signature } = encodeWebhook(payload, SECRET);
    const raw = Buffer.from(body);
    expect(checkWebhookSignature(SECRET, raw, undefined)).toBe('missing');
    expect(checkWebhookSignature(SECRET, raw, '')).toBe('missing');
    expect(checkWebhookSignature(SECRET, raw, 'sha1=abc')).toBe('malformed');
    expect(checkWebhookSignature(SECRET, raw, [signature, signature])).toBe('malformed');
    expect(checkWebhookSignature('another-secret', raw, signature)).toBe('mismatch');
    expect(checkWebhookSignature(SECRET, Buffer.from(body.replace('1', '2')), signature)).toBe('mismatch');
    expect(checkWebhookSignature(SECRET, raw, signature.toUpperCase().replace('SHA256', 'sha256'))).toBe(
      'ok',
    );
  });

  it('keeps Meta’s "\\/" escapes: a re-serialised body no longer verifies', () => {
    const withSlash = { ...payload, note: 'a/b' };
    const { signature } = encodeWebhook(withSlash, SECRET);
    expect(metaJson(withSlash)).toContain('a\\/b');
    expect(checkWebhookSignature(SECRET, Buffer.from(JSON.stringify(withSlash)), signature)).toBe('mismatch');
  });
});
