import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readIcs, unescapeIcsText } from '../../../test/fakes/ics-reader.ts';
import { type FakeSmtp, startFakeSmtp } from '../../../test/fakes/smtp.ts';
import { parseConfig } from '../../config/config.ts';
import { createChannelSenders } from '../channel-senders.ts';
import { EmailChannel, type EmailChannelOptions, type EmailSend } from './email.ts';

let smtp: FakeSmtp;
const open: EmailChannel[] = [];

function channel(over: Partial<EmailChannelOptions> = {}): EmailChannel {
  const ch = new EmailChannel({
    smtpUrl: smtp.url,
    timeoutMs: 2_000,
    clock: () => new Date('2026-01-07T09:00:00Z'),
    ...over,
  });
  open.push(ch);
  return ch;
}

const mail = (over: Partial<EmailSend> = {}): EmailSend => ({
  to: 'anais@example.org',
  from: 'Lastcall <rappels@lastcall.example>',
  subject: 'Plus que 7 jours : exportez vos discussions Copilot',
  text: 'Bonjour Anaïs,\n\nAprès le 15 janvier, Copilot ne répond plus sur WhatsApp.',
  html: '<p>Bonjour Anaïs,</p><p>Après le 15 janvier, Copilot ne répond plus sur WhatsApp.</p>',
  messageId: '<d-42.ai-assistants.d7@lastcall.example>',
  unsubscribeUrl: 'https://lastcall.example/unsubscribe/tok_abc',
  unsubscribeMailto: 'mailto:unsubscribe@lastcall.example?subject=unsubscribe-tok_abc',
  ics: {
    uid: 'd-42@lastcall.example',
    start: new Date('2026-01-14T23:00:00Z'),
    summary: 'Copilot quitte WhatsApp',
    description: 'Exportez vos discussions, avant minuit ; ensuite, c’est trop tard.',
    url: 'https://lastcall.example/help/copilot',
  },
  ...over,
});

beforeAll(async () => {
  smtp = await startFakeSmtp({ user: 'lastcall', pass: 's3cret p@ss' });
});
afterEach(() => {
  for (const ch of open.splice(0)) ch.close();
  smtp.reset();
});
afterAll(() => smtp.close());

describe('EmailChannel.sendEmail', () => {
  it('delivers text, html, one-click unsubscribe, the Message-ID and a calendar event', async () => {
    const out = await channel().sendEmail(mail());
    expect(out).toMatchObject({
      outcome: 'sent',
      messageId: '<d-42.ai-assistants.d7@lastcall.example>',
      response: expect.stringContaining('queued as'),
    });
    const got = await smtp.waitFor((m) => m.envelope.rcptTo.includes('anais@example.org'));
    expect(got.user).toBe('lastcall');
    expect(got.headers['list-unsubscribe']).toBe(
      '<https://lastcall.example/unsubscribe/tok_abc>, <mailto:unsubscribe@lastcall.example?subject=unsubscribe-tok_abc>',
    );
    expect(got.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    expect(got.headers['message-id']).toBe('<d-42.ai-assistants.d7@lastcall.example>');
    expect(got.parsed.subject).toBe('Plus que 7 jours : exportez vos discussions Copilot');
    expect(got.parsed.text).toContain('Après le 15 janvier');
    expect(got.parsed.html).toContain('<p>Bonjour Anaïs,</p>');

    const calendar = got.parsed.attachments.find((a) => a.contentType === 'text/calendar');
    expect(calendar).toBeDefined();
    const ics = calendar!.content.toString('utf8');
    expect(ics).toMatch(/^BEGIN:VCALENDAR\r\n/);
    const fields = readIcs(ics);
    expect(fields.get('METHOD')).toBe('PUBLISH');
    expect(fields.get('DTSTART')).toBe('20260114T230000Z');
    expect(fields.get('DTSTAMP')).toBe('20260107T090000Z');
    expect(unescapeIcsText(fields.get('DESCRIPTION')!)).toBe(mail().ics!.description);
    expect(got.raw.toString()).toMatch(/Content-Type: text\/calendar; charset=utf-8; method=PUBLISH/i);
  });

  it('adds the mailto: scheme when given a bare address, and sends without a calendar', async () => {
    await channel().sendEmail(mail({ unsubscribeMailto: 'unsubscribe@lastcall.example', ics: undefined }));
    const [got] = smtp.messages;
    expect(got?.headers['list-unsubscribe']).toContain('<mailto:unsubscribe@lastcall.example>');
    expect(got?.parsed.attachments).toEqual([]);
  });

  it('maps a 4xx to retry and a 5xx to permanent, without the address in the detail', async () => {
    smtp.setFailure(
      { code: 451, message: '4.7.1 <anais@example.org>: greylisted, try again' },
      { to: 'anais@example.org', times: 1 },
    );
    const first = await channel().sendEmail(mail());
    expect(first).toMatchObject({ outcome: 'retry', code: '451' });
    expect(JSON.stringify(first)).not.toContain('anais@example.org');

    smtp.setFailure(
      { code: 550, message: '5.1.1 <nobody@example.org>: mailbox unavailable' },
      { to: 'nobody@example.org' },
    );
    const bounced = await channel().sendEmail(mail({ to: 'nobody@example.org' }));
    expect(bounced).toMatchObject({
      outcome: 'permanent',
      code: '550',
      detail: expect.stringContaining('<address>'),
    });
    expect(JSON.stringify(bounced)).not.toContain('nobody@example.org');

    expect((await channel().sendEmail(mail())).outcome).toBe('sent');
  });

  it('maps a refusal at the end of DATA for the next N messages', async () => {
    smtp.setFailure({ code: 452 }, { times: 1 });
    smtp.setFailure({ code: 554, message: '5.7.1 message rejected as spam' }, { times: 1 });
    const ch = channel();
    expect(await ch.sendEmail(mail())).toMatchObject({ outcome: 'retry', code: '452' });
    expect(await ch.sendEmail(mail())).toMatchObject({ outcome: 'permanent', code: '554' });
    expect(await ch.sendEmail(mail())).toMatchObject({ outcome: 'sent' });
    expect(smtp.messages).toHaveLength(1);
  });

  it('reports refused credentials as channel-down, and a closed port as unavailable', async () => {
    const wrongPass = smtp.url.replace(encodeURIComponent('s3cret p@ss'), 'nope');
    expect(await channel({ smtpUrl: wrongPass }).sendEmail(mail())).toMatchObject({
      outcome: 'channel-down',
      code: 'EAUTH',
    });
    const closed = await startFakeSmtp();
    const url = closed.url;
    await closed.close();
    expect(await channel({ smtpUrl: url }).sendEmail(mail())).toMatchObject({
      outcome: 'unavailable',
      code: 'unreachable',
      detail: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('signs with DKIM, covering both List-Unsubscribe headers', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dkim = {
      domainName: 'lastcall.example',
      keySelector: 's2026',
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    await channel({ dkim }).sendEmail(mail());
    const sig = smtp.messages[0]?.headers['dkim-signature'] ?? '';
    expect(sig).toContain('d=lastcall.example');
    expect(sig).toContain('s=s2026');
    const signed = /(?:^|;)\s*h=([^;]+)/.exec(sig)?.[1]?.replace(/\s/g, '').split(':') ?? [];
    expect(signed).toEqual(
      expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post', 'message-id', 'from']),
    );
  });
});

describe('EMAIL_POOL_SIZE', () => {
  it('is how many SMTP connections a worker sends on at once, and no more', async () => {
    const config = parseConfig({
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Lastcall <rappels@lastcall.example>',
      EMAIL_POOL_SIZE: '3',
    });
    const channels = createChannelSenders(config, { emailTimeoutMs: 2_000 });
    try {
      const sent = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          channels.senders.email!.sendEmail(
            mail({ to: `p${i}@example.org`, messageId: `<d-${i}@lastcall.example>` }),
          ),
        ),
      );
      expect(sent.map((s) => s.outcome)).toEqual(Array(12).fill('sent'));
    } finally {
      await channels.close();
    }
    expect(smtp.messages).toHaveLength(12);
    // All twelve were waiting at once: the pool opened its three connections and shared them.
    expect(new Set(smtp.messages.map((m) => m.session)).size).toBe(3);
    // Each arrived whole.
    for (const m of smtp.messages) {
      expect(m.parsed.text).toContain('Après le 15 janvier');
      expect(m.parsed.attachments.some((a) => a.contentType === 'text/calendar')).toBe(true);
    }
  });
});

describe('EmailChannel.verify', () => {
  it('passes with good credentials and names SMTP_URL, without the password, otherwise', async () => {
    await expect(channel().verify()).resolves.toBeUndefined();
    const bad = channel({ smtpUrl: smtp.url.replace(encodeURIComponent('s3cret p@ss'), 'hunter2') });
    const err = await bad.verify().catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /^SMTP check failed for smtp:\/\/127\.0\.0\.1:\d+ \(EAUTH.*check SMTP_URL$/,
    );
    expect((err as Error).message).not.toContain('hunter2');
  });
});
