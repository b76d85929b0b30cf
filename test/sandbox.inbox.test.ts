// The WhatsApp sandbox as the operator uses it: Lastcall's own WhatsApp channel sends a shipped
// template; the inbox shows it as a phone would (parameters filled in, footer, the URL button as
// a link, ticks from the status webhooks); STOP / FAIT / START and free text go back to the
// webhook URL signed as Meta signs, which Lastcall's own signature check accepts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkWebhookSignature } from '../src/inbound/webhook-signature.ts';
import { type Sandbox, startSandbox } from '../src/sandbox/sandbox.service.ts';
import { signWebhook } from '../src/sandbox/webhook-signing.ts';
import {
  APP_SECRET,
  PUBLIC_URL,
  sendShippedTemplate,
  startWebhookReceiver,
  until,
  type WebhookReceiver,
} from './support/sandbox.ts';

const TO = '+33612345678';
const DIGITS = '33612345678';

let receiver: WebhookReceiver;
let sandbox: Sandbox;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  sandbox = await startSandbox({
    token: 'sandbox-test-token',
    appSecret: APP_SECRET,
    phoneNumberId: '100000000000077',
    wabaId: '200000000000077',
    webhookUrl: receiver.url,
    publicUrl: PUBLIC_URL,
    statusDelayMs: 5,
  });
});

afterAll(async () => {
  await sandbox?.close();
  await receiver?.close();
});

const statuses = () =>
  receiver.received.flatMap((w) =>
    w.json.entry.flatMap((e) =>
      e.changes.flatMap((c) => (c.value.statuses as { status: string; id: string }[] | undefined) ?? []),
    ),
  );
const inbound = () =>
  receiver.received.flatMap((w) =>
    w.json.entry.flatMap((e) =>
      e.changes.flatMap(
        (c) =>
          (c.value.messages as { from: string; type: string; text: { body: string } }[] | undefined) ?? [],
      ),
    ),
  );

function expectSigned(raw: Buffer, header: string | string[] | undefined): void {
  expect(header).toBe(signWebhook(APP_SECRET, raw));
  expect(checkWebhookSignature(APP_SECRET, raw, header)).toBe('ok');
  expect(checkWebhookSignature('another-secret', raw, header)).toBe('mismatch');
}

describe('the sandbox inbox', () => {
  it('registers every shipped template as approved and answers /healthz', async () => {
    const names = sandbox.graph.templates().map((t) => `${t.name}/${t.language}`);
    expect(names).toContain('lastcall_ai_assistants_first_notice/fr');
    expect(names).toContain('lastcall_ai_assistants_last_hours/en');
    expect(sandbox.graph.templates().every((t) => t.status === 'APPROVED')).toBe(true);
    const health = await fetch(`${sandbox.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('shows a sent template rendered with its parameters, footer and link, with read ticks', async () => {
    const { rendered, outcome } = await sendShippedTemplate(sandbox, {
      to: TO,
      locale: 'fr',
      template: 'first-notice',
      name: 'Anaïs <Léa>',
      assistant: 'copilot',
    });
    expect(outcome.outcome).toBe('sent');
    const wamid = outcome.outcome === 'sent' ? outcome.messageId : '';
    await until(
      'sent, delivered and read webhooks',
      () => statuses().filter((s) => s.id === wamid).length === 3,
    );
    expect(statuses().map((s) => s.status)).toEqual(['sent', 'delivered', 'read']);
    for (const w of receiver.received) expectSigned(w.raw, w.headers['x-hub-signature-256']);

    const page = await fetch(`${sandbox.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    // Parameters filled in (and escaped), no placeholder left.
    expect(html).toContain('Bonjour Anaïs &lt;Léa&gt;,');
    expect(html).toContain('WhatsApp ne donnera plus accès à Copilot');
    expect(html).not.toMatch(/\{\{\d+\}\}/);
    expect(html).toContain('Répondez STOP pour ne plus recevoir ces rappels.');
    expect(html).toContain(`href="${PUBLIC_URL}/done/sample-token"`);
    expect(html).toContain('↗ C’est fait');
    expect(html).toContain('class="ticks read"');
    expect(html).toContain(`href="/?to=${DIGITS}"`);
    expect(html).toContain('<script src="/inbox/inbox.js" defer></script>');

    const state = (await (await fetch(`${sandbox.url}/inbox/api/state?to=${DIGITS}`)).json()) as {
      selected: string;
      conversations: { digits: string; messages: { body: string; status: string; footer: string }[] }[];
      html: { thread: string };
    };
    expect(state.selected).toBe(DIGITS);
    const [message] = state.conversations[0]!.messages;
    expect(message).toMatchObject({ status: 'read', body: rendered.preview, footer: rendered.footer });
    expect(state.html.thread).toContain('Bonjour Anaïs &lt;Léa&gt;,');
  });

  it('sends STOP back to the webhook URL, signed, when the STOP button is pressed', async () => {
    const before = receiver.received.length;
    const res = await fetch(`${sandbox.url}/inbox/reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: sandbox.url },
      body: new URLSearchParams({ to: DIGITS, quick: 'STOP', text: '' }),
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/?to=${DIGITS}`);
    expect(receiver.received.length).toBe(before + 1);
    const webhook = receiver.received.at(-1)!;
    expectSigned(webhook.raw, webhook.headers['x-hub-signature-256']);
    const change = webhook.json.entry[0]!.changes[0]!;
    expect(change.field).toBe('messages');
    expect(change.value.metadata).toEqual({
      display_phone_number: '15550001111',
      phone_number_id: '100000000000077',
    });
    expect(inbound().at(-1)).toMatchObject({ from: DIGITS, type: 'text', text: { body: 'STOP' } });

    const html = await (await fetch(`${sandbox.url}/?to=${DIGITS}`)).text();
    expect(html).toMatch(/<li class="msg from-subscriber"[^>]*>\s*<p class="body">STOP<\/p>/);
    expect(html).toContain('Lastcall answered 200');
  });

  it('signs free text with accents as Meta does (escaped body), FAIT and START too', async () => {
    for (const text of ['FAIT', 'START', 'C’est fait, merci 👍 — à bientôt']) {
      const res = await fetch(`${sandbox.url}/inbox/api/replies`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ to: `+${DIGITS}`, text }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { reply: { httpStatus: number } }).reply.httpStatus).toBe(200);
      const webhook = receiver.received.at(-1)!;
      expectSigned(webhook.raw, webhook.headers['x-hub-signature-256']);
      expect(inbound().at(-1)?.text.body).toBe(text);
    }
    // Non-ASCII travels as \uXXXX escapes, exactly the bytes that were signed.
    expect(receiver.received.at(-1)!.raw.toString('utf8')).toContain('C\\u2019est fait');
  });

  it('refuses a reply from another origin, an empty reply and an unknown number', async () => {
    const count = receiver.received.length;
    const cross = await fetch(`${sandbox.url}/inbox/reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ to: DIGITS, quick: 'STOP' }),
      redirect: 'manual',
    });
    expect(cross.status).toBe(403);
    const empty = await fetch(`${sandbox.url}/inbox/api/replies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: DIGITS, text: '   ' }),
    });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ error: { field: 'text' } });
    const badTo = await fetch(`${sandbox.url}/inbox/reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ to: 'not-a-number', quick: 'STOP' }),
      redirect: 'manual',
    });
    expect(badTo.status).toBe(400);
    expect(await badTo.text()).toContain('to: must be the phone number of a conversation');
    expect(receiver.received.length).toBe(count);
  });

  it('still answers the Graph API as before (unknown paths, bad token)', async () => {
    const res = await fetch(`${sandbox.url}/v23.0/100000000000077/messages`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(190);
  });
});

describe('a sandbox without a webhook URL', () => {
  it('shows messages without statuses and says replies are off', async () => {
    const quiet = await startSandbox({
      token: 't',
      appSecret: APP_SECRET,
      phoneNumberId: '100000000000088',
      wabaId: '200000000000088',
      publicUrl: PUBLIC_URL,
    });
    try {
      const { outcome } = await sendShippedTemplate(quiet, {
        to: '+15145550123',
        locale: 'en',
        template: 'last-day',
        name: 'Sam',
        assistant: 'chatgpt',
      });
      expect(outcome.outcome).toBe('sent');
      const html = await (await fetch(`${quiet.url}/`)).text();
      expect(html).toContain('Hello Sam');
      expect(html).toContain('class="ticks accepted"');
      expect(html).toContain('Replies are off');
      const res = await fetch(`${quiet.url}/inbox/api/replies`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ to: '15145550123', text: 'STOP' }),
      });
      expect(res.status).toBe(409);
    } finally {
      await quiet.close();
    }
  });
});
