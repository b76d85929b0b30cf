// The sandbox's mail catcher and the inbox around it: an email sent by Lastcall's own email
// channel lands in the same inbox page as the WhatsApp conversations, its links clickable; the
// one-click unsubscribe is POSTed as Gmail does; badges count unread messages only; an unknown
// ?to= says so instead of showing someone else's conversation; an English conversation offers
// DONE where a French one offers FAIT.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmailChannel } from '../src/delivery/channels/email.ts';
import { type Sandbox, startSandbox } from '../src/sandbox/sandbox.service.ts';
import {
  APP_SECRET,
  PUBLIC_URL,
  sendShippedTemplate,
  startWebhookReceiver,
  until,
  type WebhookReceiver,
} from './support/sandbox.ts';

let receiver: WebhookReceiver;
let sandbox: Sandbox;
let email: EmailChannel;
let lastcall: Server;
let lastcallUrl: string;
const oneClicks: { url: string; body: string }[] = [];

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  sandbox = await startSandbox({
    token: 'sandbox-mail-token',
    appSecret: APP_SECRET,
    phoneNumberId: '100000000000066',
    wabaId: '200000000000066',
    webhookUrl: receiver.url,
    publicUrl: PUBLIC_URL,
    statusDelayMs: 5,
    smtpPort: 0,
  });
  // Stands in for Lastcall's POST /unsubscribe/:token.
  lastcall = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += String(c);
    });
    req.on('end', () => {
      oneClicks.push({ url: req.url ?? '', body });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => lastcall.listen(0, '127.0.0.1', resolve));
  lastcallUrl = `http://127.0.0.1:${(lastcall.address() as AddressInfo).port}`;
  email = new EmailChannel({ smtpUrl: sandbox.smtpUrl!, timeoutMs: 10_000 });
});

afterAll(async () => {
  email?.close();
  await sandbox?.close();
  await receiver?.close();
  await new Promise<void>((resolve) => lastcall?.close(() => resolve()));
});

const page = async (query = '') => (await fetch(`${sandbox.url}/${query}`)).text();

describe('the sandbox mail catcher', () => {
  it('shows a caught email in the inbox, links clickable, with a one-click unsubscribe', async () => {
    const sent = await email.sendEmail({
      to: 'Zoe@Example.org',
      from: '"Lastcall demo" <reminders@lastcall.localhost>',
      subject: 'Confirm your address',
      text: `Hello Zoé,\n\nOpen https://lastcall.example.org/confirm/abc.def to confirm.\n`,
      html: '<p>Hello</p>',
      messageId: '<m1@lastcall.localhost>',
      unsubscribeUrl: `${lastcallUrl}/unsubscribe/tok`,
      unsubscribeMailto: 'mailto:reminders@lastcall.localhost?subject=unsubscribe',
    });
    expect(sent.outcome).toBe('sent');

    const list = await page();
    // Nothing was opened yet: the mailbox is the most recent entry, shown, with its badge.
    expect(list).toContain(
      '<span class="channel email">Email</span> <span class="who">zoe@example.org</span>',
    );
    const opened = await page('?to=zoe%40example.org');
    expect(opened).toContain('<h3 class="mail-subject">Confirm your address</h3>');
    expect(opened).toContain('From &quot;Lastcall demo&quot; &lt;reminders@lastcall.localhost&gt;');
    expect(opened).toContain(
      '<a href="https://lastcall.example.org/confirm/abc.def">https://lastcall.example.org/confirm/abc.def</a> to confirm.',
    );
    // Opened: no unread badge any more.
    expect(opened).not.toContain('class="count"');

    const id = /<input type="hidden" name="id" value="(mail-\d+)">/.exec(opened)![1]!;
    const res = await fetch(`${sandbox.url}/inbox/mail/unsubscribe`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `id=${id}`,
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/?to=zoe%40example.org');
    expect(oneClicks).toEqual([{ url: '/unsubscribe/tok', body: 'List-Unsubscribe=One-Click' }]);
    expect(await page('?to=zoe%40example.org')).toContain(
      'Unsubscribed with one click: Lastcall answered 200.',
    );
  });

  it('counts unread messages only, offers DONE in English, and says when a ?to= has nothing', async () => {
    await sendShippedTemplate(sandbox, {
      to: '+15145550123',
      locale: 'en',
      template: 'one-week',
      name: 'Liam',
      assistant: 'copilot',
    });
    await until('the message in the inbox', () =>
      sandbox.inbox.conversations([], []).some((c) => c.digits === '15145550123'),
    );
    const other = await page('?to=zoe%40example.org');
    expect(other).toMatch(/<span class="who">\+15145550123<\/span> <span class="count" title="unread">1</);
    const chat = await page('?to=15145550123');
    expect(chat).toContain('<h2>WhatsApp · +15145550123</h2>');
    expect(chat).toContain('<button type="submit" name="quick" value="DONE">DONE</button>');
    expect(chat).not.toContain('value="FAIT"');
    expect(chat).not.toMatch(/\+15145550123<\/span> <span class="count"/);

    const unknown = await page('?to=33600000000');
    expect(unknown).toContain('Nothing for +33600000000 yet.');
    expect(unknown).not.toContain('<h2>WhatsApp · +15145550123</h2>');
    expect(unknown).not.toContain('name="quick"');
  });
});
