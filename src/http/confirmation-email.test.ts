import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { verifyToken } from '../subscribers/tokens.ts';
import { composeConfirmation, createConfirmationMailer, type EmailSender } from './confirmation-email.ts';

const KEY = 'k'.repeat(32);
const NOW = Date.parse('2026-06-01T08:00:00Z');
const CONFIRMATION = {
  subscriberId: 'web-1',
  email: 'a@example.org',
  name: 'Zoé <b>',
  locale: 'fr' as const,
};

function capture() {
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  return { lines, logger };
}

describe('confirmation email', () => {
  it('is skipped, with a log line, when email is off', async () => {
    const { lines, logger } = capture();
    const mailer = createConfirmationMailer({
      config: { publicUrl: 'https://x.example', email: undefined },
      secretKey: KEY,
      logger,
    });
    expect(await mailer.send(CONFIRMATION, NOW)).toBe('skipped');
    expect(lines.join('')).toContain('email is off');
  });

  it('sends a working confirm link and an unsubscribe link, and reports failures without personal data', async () => {
    const sent: Parameters<EmailSender['sendEmail']>[0][] = [];
    let outcome: Awaited<ReturnType<EmailSender['sendEmail']>> = { outcome: 'sent', messageId: 'm' };
    const channel: EmailSender = {
      sendEmail: async (msg) => {
        sent.push(msg);
        return outcome;
      },
    };
    const { lines, logger } = capture();
    const mailer = createConfirmationMailer({
      config: {
        publicUrl: 'https://x.example',
        email: { smtpUrl: 'smtp://h', from: 'Lastcall <n@x.example>', poolSize: 1 },
      },
      secretKey: KEY,
      logger,
      channel,
    });
    expect(await mailer.send(CONFIRMATION, NOW)).toBe('sent');
    const msg = sent[0]!;
    expect(msg).toMatchObject({
      to: 'a@example.org',
      from: 'Lastcall <n@x.example>',
      unsubscribeMailto: 'mailto:n@x.example?subject=unsubscribe',
    });
    const token = /https:\/\/x\.example\/confirm\/(\S+)/.exec(msg.text)![1]!;
    expect(verifyToken(KEY, token, 'confirm', NOW)).toMatchObject({
      ok: true,
      token: { subscriberId: 'web-1' },
    });
    const unsub = msg.unsubscribeUrl.replace('https://x.example/unsubscribe/', '');
    expect(verifyToken(KEY, unsub, 'unsubscribe', NOW)).toMatchObject({
      ok: true,
      token: { channel: 'email' },
    });

    outcome = { outcome: 'permanent', code: '550', detail: 'mailbox unavailable' };
    expect(await mailer.send(CONFIRMATION, NOW)).toBe('failed');
    expect(lines.join('')).toContain('"code":"550"');
    expect(lines.join('')).not.toContain('example.org');
  });

  it('escapes the name in the HTML part', () => {
    const { html, text, subject } = composeConfirmation(
      'https://x.example/confirm/t',
      {
        ...CONFIRMATION,
        campaignName: 'Démo',
      },
      'Lastcall Test',
    );
    expect(subject).toBe('Confirmez votre adresse pour recevoir les rappels');
    expect(text).toContain('Bonjour Zoé <b>,');
    expect(html).toContain('Bonjour Zoé &lt;b&gt;,');
    expect(html).toContain('<html lang="fr">');
    expect(text).toContain('avez demandé à Lastcall Test des rappels par e-mail au sujet de « Démo »');
  });
});
