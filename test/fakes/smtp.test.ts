// The fake SMTP server itself, driven by a plain (unpooled) nodemailer transport.
import nodemailer from 'nodemailer';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSmtp, startFakeSmtp } from './smtp.ts';

let smtp: FakeSmtp;
beforeAll(async () => {
  smtp = await startFakeSmtp({ user: 'u', pass: 'p' });
});
afterEach(() => smtp.reset());
afterAll(() => smtp.close());

const send = (url: string, to: string, subject = 'Hello') =>
  nodemailer.createTransport(url).sendMail({ from: 'a@example.org', to, subject, text: 'Élan 😀' });

describe('fake SMTP server', () => {
  it('receives and parses a message over AUTH PLAIN/LOGIN', async () => {
    const info = await send(smtp.url, 'b@example.org');
    expect(info.response).toMatch(/^250 .*queued as fake-1/);
    const [m] = smtp.messages;
    expect(m?.envelope).toEqual({ mailFrom: 'a@example.org', rcptTo: ['b@example.org'] });
    expect(m?.parsed.text?.trim()).toBe('Élan 😀');
    expect(m?.headers.subject).toBe('Hello');
    expect(m?.raw.toString()).toContain('Subject: Hello');
    const login = await nodemailer
      .createTransport({
        host: smtp.host,
        port: smtp.port,
        auth: { user: 'u', pass: 'p' },
        authMethod: 'LOGIN',
      })
      .sendMail({ from: 'a@example.org', to: 'c@example.org', text: 'x' });
    expect(login.accepted).toEqual(['c@example.org']);
  });

  it('refuses wrong credentials and unauthenticated mail', async () => {
    await expect(send(smtp.url.replace('u:p@', 'u:x@'), 'b@example.org')).rejects.toMatchObject({
      code: 'EAUTH',
      responseCode: 535,
    });
    await expect(send(`smtp://${smtp.host}:${smtp.port}`, 'b@example.org')).rejects.toMatchObject({
      responseCode: 530,
    });
    expect(smtp.messages).toHaveLength(0);
  });

  it('waitFor resolves on a later message and times out with a clear error', async () => {
    const waiting = smtp.waitFor((m) => m.parsed.subject === 'later');
    await send(smtp.url, 'b@example.org', 'later');
    expect((await waiting).parsed.subject).toBe('later');
    await expect(smtp.waitFor(() => false, 50)).rejects.toThrow(
      /no matching message within 50 ms \(1 received\)/,
    );
  });

  it('injects per-recipient and next-N failures', async () => {
    smtp.setFailure({ code: 550 }, { to: 'Gone@Example.org' });
    smtp.setFailure({ code: 451 }, { times: 2 });
    await expect(send(smtp.url, 'gone@example.org')).rejects.toMatchObject({
      responseCode: 550,
      command: 'RCPT TO',
    });
    await expect(send(smtp.url, 'b@example.org')).rejects.toMatchObject({ responseCode: 451 });
    await expect(send(smtp.url, 'b@example.org')).rejects.toMatchObject({ responseCode: 451 });
    await expect(send(smtp.url, 'b@example.org')).resolves.toMatchObject({ accepted: ['b@example.org'] });
    await expect(send(smtp.url, 'gone@example.org')).rejects.toMatchObject({ responseCode: 550 });
    smtp.clearFailures();
    await expect(send(smtp.url, 'gone@example.org')).resolves.toBeDefined();
  });
});
