import { describe, expect, it } from 'vitest';
import { verifyToken } from '../subscribers/tokens.ts';
import { DeliveryRenderer, MissingAddressError } from './render.ts';
import type { ClaimedDelivery } from './send.repository.ts';

const SECRET = 'a-test-secret-that-is-long-enough-for-hmac';
const NOW = Date.parse('2026-01-08T09:00:00Z');
const renderer = new DeliveryRenderer({
  publicUrl: 'https://lastcall.example.org',
  secretKey: SECRET,
  mailFrom: 'Lastcall <rappels@lastcall.example.org>',
});

function delivery(
  channel: 'whatsapp' | 'email',
  subscriber: Partial<NonNullable<ClaimedDelivery['subscriber']>> = {},
) {
  return {
    id: 42,
    campaignId: 'ai-assistants',
    stepId: 'd7',
    channel,
    kind: 'scheduled',
    attempt: 1,
    campaign: {
      name: 'ChatGPT and Copilot leave WhatsApp',
      state: 'running',
      deadline: Date.parse('2026-01-15T00:00:00+01:00'),
      messagesDir: null,
      template: 'one-week',
    },
    subscriber: {
      id: 'sub-1',
      name: 'Anaïs',
      phone: '+33612345678',
      email: 'anais@example.org',
      locale: 'fr',
      timezone: 'Europe/Paris',
      attributes: { assistant: 'copilot' },
      done: false,
      channelState: 'active',
      ...subscriber,
    },
  };
}

describe('DeliveryRenderer', () => {
  it('renders the WhatsApp template in the subscriber language with a signed done link', async () => {
    const r = await renderer.render(delivery('whatsapp'), 'one-week', NOW);
    if (r.channel !== 'whatsapp') throw new Error('expected WhatsApp');
    expect(r.message).toMatchObject({
      to: '+33612345678',
      templateName: 'lastcall_ai_assistants_one_week',
      language: 'fr',
      callbackData: '42',
      buttonIndex: 0,
    });
    expect(r.message.bodyParams[0]).toBe('Anaïs');
    expect(r.message.bodyParams.join(' ')).toContain('Copilot');
    expect(r.message.bodyParams.join(' ')).toContain('15 janvier 2026');
    const done = verifyToken(SECRET, r.message.buttonUrlParam ?? '', 'done', NOW);
    expect(done.ok && done.token.subscriberId).toBe('sub-1');
  });

  it('renders the email with a stable Message-ID and an unsubscribe link for email only', async () => {
    const r = await renderer.render(delivery('email', { locale: 'en' }), 'one-week', NOW);
    if (r.channel !== 'email') throw new Error('expected email');
    expect(r.message.messageId).toBe('<delivery-42.ai-assistants@lastcall.example.org>');
    expect(r.message.from).toBe('Lastcall <rappels@lastcall.example.org>');
    expect(r.message.unsubscribeMailto).toBe('mailto:rappels@lastcall.example.org?subject=unsubscribe');
    const token = r.message.unsubscribeUrl.replace('https://lastcall.example.org/unsubscribe/', '');
    const verified = verifyToken(SECRET, token, 'unsubscribe', NOW);
    expect(verified.ok && verified.token).toMatchObject({ subscriberId: 'sub-1', channel: 'email' });
    expect(r.message.text).toContain(r.message.unsubscribeUrl);
    expect(r.message.html).toContain('Anaïs');
    expect(r.message.ics?.uid).toBe('deadline-ai-assistants@lastcall.example.org');
  });

  it('escapes what it puts into HTML', async () => {
    const r = await renderer.render(delivery('email', { name: '<b>Bob</b> & co' }), 'one-week', NOW);
    if (r.channel !== 'email') throw new Error('expected email');
    expect(r.message.html).toContain('&lt;b&gt;Bob&lt;/b&gt; &amp; co');
    expect(r.message.html).not.toContain('<b>Bob</b>');
  });

  it('addresses a subscriber with no phone by the BSUID Meta gave, never putting it in `to`', async () => {
    const r = await renderer.render(
      delivery('whatsapp', { phone: null, whatsappUserId: 'FR.1349120865530274191' }),
      'one-week',
      NOW,
    );
    if (r.channel !== 'whatsapp') throw new Error('expected WhatsApp');
    expect(r.message.userId).toBe('FR.1349120865530274191');
    expect(r.message).not.toHaveProperty('to');
  });

  it('refuses a channel the subscriber has no address for', async () => {
    await expect(
      renderer.render(delivery('whatsapp', { phone: null }), 'one-week', NOW),
    ).rejects.toBeInstanceOf(MissingAddressError);
  });
});
