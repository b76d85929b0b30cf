// The fake Graph API itself, spoken to over raw HTTP: Meta's checks, error shapes, templates,
// failure injection and the sandbox's status webhooks.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WhatsAppAPI } from 'whatsapp-api-js';
import { type FakeGraphApi, failures, startFakeGraphApi } from './graph-api.ts';
import { pausedEn, reminderFr } from './templates.ts';

let fake: FakeGraphApi;
beforeAll(async () => {
  fake = await startFakeGraphApi({ templates: [reminderFr, pausedEn], newTemplateStatus: 'APPROVED' });
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

async function call(path: string, body?: unknown, token: string | null = fake.token) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${fake.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: text.startsWith('{') ? JSON.parse(text) : undefined,
  };
}

const template = (components: unknown[], name = 'deadline_reminder', language = 'fr') => ({
  messaging_product: 'whatsapp',
  to: '33612345678',
  type: 'template',
  template: { name, language: { code: language }, components },
});
const body = (...texts: string[]) => ({
  type: 'body',
  parameters: texts.map((text) => ({ type: 'text', text })),
});
const url = (text: string, index = 1) => ({
  type: 'button',
  sub_type: 'url',
  index,
  parameters: [{ type: 'text', text }],
});
const messagesPath = () => `/v24.0/${fake.phoneNumberId}/messages`;

describe('POST /:version/:phoneNumberId/messages', () => {
  it('sends to a business-scoped user id in `recipient`, and drops one put in `to` as Meta does', async () => {
    const bsuid = fake.identities.of('33612345678').userId;
    expect(bsuid).toMatch(/^FR\.\d{19}$/);
    const { to: _to, ...noTo } = template([body('A', '7', 'demain'), url('x')]);
    const r = await call(messagesPath(), { ...noTo, recipient: bsuid });
    expect(r.status).toBe(200);
    expect(r.json.contacts).toEqual([{ input: bsuid, user_id: bsuid }]);
    expect(fake.sent()).toEqual([expect.objectContaining({ to: '33612345678', userId: bsuid })]);

    const dropped = await call(messagesPath(), { ...noTo, to: bsuid });
    expect(dropped.status).toBe(200);
    expect(dropped.json.messages[0].id).toMatch(/^wamid\./);
    expect(fake.sent()).toHaveLength(1);
    expect(fake.dropped()).toEqual([expect.objectContaining({ dropped: true, to: '33612345678' })]);

    const unknown = await call(messagesPath(), { ...noTo, recipient: 'FR.1000000000000000000' });
    expect([unknown.status, unknown.json.error.code]).toEqual([400, 131026]);
    const both = await call(messagesPath(), { ...noTo, to: '33612345678', recipient: bsuid });
    expect([both.status, both.json.error.code]).toEqual([400, 100]);
  });

  it('reports a messaging limit and fails template messages to more people than it allows in 24 h', async () => {
    let clock = Date.parse('2026-12-01T10:00:00Z');
    const limited = await startFakeGraphApi({
      templates: [reminderFr],
      messagingTier: 'TIER_250',
      clock: () => new Date(clock),
    });
    try {
      const info = await fetch(
        `${limited.url}/v24.0/${limited.phoneNumberId}?fields=whatsapp_business_manager_messaging_limit`,
        {
          headers: { authorization: `Bearer ${limited.token}` },
        },
      );
      expect(await info.json()).toMatchObject({ whatsapp_business_manager_messaging_limit: 'TIER_250' });
      const to = (i: number) => `3361${String(3_000_000 + i).padStart(7, '0')}`;
      const sendTo = (phone: string) =>
        fetch(`${limited.url}/v24.0/${limited.phoneNumberId}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${limited.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ ...template([body('A', '7', 'demain'), url('x')]), to: phone }),
        });
      for (let i = 0; i < 251; i++) expect((await sendTo(to(i))).status).toBe(200);
      expect(limited.sent()).toHaveLength(250);
      expect(limited.limitRefused().map((m) => m.to)).toEqual([to(250)]);
      // Someone already messaged in the window costs nothing; 24 h later the window is empty.
      await sendTo(to(0));
      expect(limited.sent()).toHaveLength(251);
      clock += 24 * 60 * 60 * 1000;
      await sendTo(to(250));
      expect(limited.sent().at(-1)?.to).toBe(to(250));
      expect(limited.peopleIn24h()).toBe(1);
    } finally {
      await limited.close();
    }
  });

  it('the library puts a BSUID in `recipient`, never in `to`', async () => {
    const bsuid = fake.identities.of('447700900123').userId;
    const api = new WhatsAppAPI({
      token: fake.token,
      appSecret: 'x',
      v: 'v24.0',
      ponyfill: {
        fetch: (input, init) => fetch(String(input).replace('https://graph.facebook.com', fake.url), init),
      },
    });
    const { Text } = await import('whatsapp-api-js/messages');
    await api.sendMessage(fake.phoneNumberId, { bsuid }, new Text('hi'));
    const request = fake.requests.at(-1)?.body as Record<string, unknown>;
    expect(request.recipient).toBe(bsuid);
    expect(request).not.toHaveProperty('to');
    expect(fake.sent()).toEqual([expect.objectContaining({ to: '447700900123', text: 'hi' })]);
  });

  it('accepts a valid template and answers like Meta', async () => {
    const r = await call(messagesPath(), template([body('A', '7', 'demain'), url('x')]));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      messaging_product: 'whatsapp',
      contacts: [{ input: '33612345678', wa_id: '33612345678' }],
      messages: [{ id: expect.stringMatching(/^wamid\.HBgL/) }],
    });
    const second = await call(messagesPath(), template([body('A', '7', 'demain'), url('x')]));
    expect(second.json.messages[0].id).not.toBe(r.json.messages[0].id);
  });

  it('refuses a missing or wrong token with 190 (HTTP 401)', async () => {
    for (const token of [null, 'wrong']) {
      const r = await call(messagesPath(), template([]), token);
      expect(r.status).toBe(401);
      expect(r.json).toEqual({
        error: {
          message: 'Invalid OAuth access token - Cannot parse access token',
          type: 'OAuthException',
          code: 190,
          fbtrace_id: expect.any(String),
        },
      });
    }
  });

  it.each([
    ['no messaging_product', { ...template([]), messaging_product: undefined }, 100],
    ['a to that is not a number', { ...template([]), to: 'alice' }, 100],
    ['an unknown template', template([], 'nope'), 132001],
    [
      'a language without that template',
      template([body('A', '7', 'x'), url('x')], 'deadline_reminder', 'en'),
      132001,
    ],
    ['a paused template', template([body('Sam')], 'last_hours', 'en'), 132015],
    ['too few body parameters', template([body('A', '7'), url('x')]), 132000],
    ['the URL button missing', template([body('A', '7', 'x')]), 131008],
    [
      'two URL parameters',
      template([
        body('A', '7', 'x'),
        {
          ...url('x'),
          parameters: [
            { type: 'text', text: 'a' },
            { type: 'text', text: 'b' },
          ],
        },
      ]),
      132000,
    ],
    ['a URL parameter on the quick-reply button', template([body('A', '7', 'x'), url('x', 0)]), 131009],
    ['a new line in a parameter', template([body('A\nB', '7', 'x'), url('x')]), 132018],
    ['an empty parameter', template([body('', '7', 'x'), url('x')]), 131008],
    ['an unsupported type', { messaging_product: 'whatsapp', to: '33612345678', type: 'sticker' }, 131051],
  ])('refuses %s', async (_name, payload, code) => {
    const r = await call(messagesPath(), payload);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.json.error).toMatchObject({
      code,
      type: 'OAuthException',
      message: `(#${code}) ${r.json.error.message.replace(/^\(#\d+\) /, '')}`,
      error_data: { messaging_product: 'whatsapp', details: expect.any(String) },
      fbtrace_id: expect.any(String),
    });
    expect(fake.sent()).toEqual([]);
  });

  it('answers 100/33 for a phone number id it does not know', async () => {
    const r = await call('/v24.0/999/messages', template([]));
    expect(r.json.error).toMatchObject({ code: 100, error_subcode: 33 });
  });

  it('injects Graph errors with Retry-After, HTML 502 pages and raw bodies', async () => {
    fake.setFailure(failures.rateLimit(12));
    const limited = await call(messagesPath(), template([body('A', '7', 'x'), url('x')]));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('12');
    expect(limited.json.error).toMatchObject({ code: 130429, error_subcode: 2494055 });

    fake.setFailure(failures.badGateway());
    const html = await call(messagesPath(), template([body('A', '7', 'x'), url('x')]));
    expect(html.status).toBe(502);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.text).toContain('<h1>Bad Gateway</h1>');

    const ok = await call(messagesPath(), template([body('A', '7', 'x'), url('x')]));
    expect(ok.status).toBe(200);
    expect(fake.requests.map((r) => r.status)).toEqual([429, 502, 200]);
  });
});

describe('message_templates and phone number info', () => {
  const tplPath = () => `/v24.0/${fake.wabaId}/message_templates`;

  it('lists templates with fields and paging', async () => {
    const r = await call(`${tplPath()}?fields=name,status&limit=1`);
    expect(r.json.data).toEqual([{ id: expect.any(String), name: 'deadline_reminder', status: 'APPROVED' }]);
    expect(r.json.paging.next).toMatch(/^https:\/\/graph\.facebook\.com\/v24\.0\/\d+\/message_templates\?/);
    const next = new URL(r.json.paging.next);
    const page2 = await call(`${next.pathname}${next.search}`);
    expect(page2.json.data).toEqual([{ id: expect.any(String), name: 'last_hours', status: 'PAUSED' }]);
    expect(page2.json.paging.next).toBeUndefined();
  });

  it('creates templates (APPROVED here) and refuses bad or duplicate ones', async () => {
    const def = {
      name: 'one_week',
      language: 'en',
      category: 'UTILITY',
      components: [{ type: 'BODY', text: '{{1}} days left', example: { body_text: [['7']] } }],
    };
    const created = await call(tplPath(), def);
    expect(created.json).toEqual({ id: expect.any(String), status: 'APPROVED', category: 'UTILITY' });
    const dup = await call(tplPath(), def);
    expect(dup.json.error).toMatchObject({ code: 100, error_subcode: 2388024 });
    const bad = [
      { ...def, name: 'One Week' },
      { ...def, name: 'x', category: 'PROMO' },
      {
        ...def,
        name: 'y',
        components: [{ type: 'BODY', text: '{{1}} and {{3}}', example: { body_text: [['a', 'b']] } }],
      },
      { ...def, name: 'z', components: [{ type: 'BODY', text: '{{1}} days' }] },
    ];
    for (const b of bad) expect((await call(tplPath(), b)).json.error).toMatchObject({ code: 100 });
    const sent = await call(messagesPath(), {
      ...template([body('3')], 'one_week', 'en'),
    });
    expect(sent.status).toBe(200);
  });

  it('describes the phone number for doctor', async () => {
    const r = await call(
      `/v24.0/${fake.phoneNumberId}?fields=display_phone_number,verified_name,quality_rating`,
    );
    expect(r.json).toMatchObject({
      display_phone_number: '15550001111',
      verified_name: 'Lastcall Sandbox',
      quality_rating: 'GREEN',
    });
  });
});

describe('sandbox status webhooks', () => {
  let receiver: Server;
  let receiverUrl: string;
  const got: { raw: string; valid: boolean }[] = [];
  const verifier = new WhatsAppAPI({ token: 't', appSecret: 'demo-secret', v: 'v24.0' });

  beforeAll(async () => {
    receiver = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      got.push({
        raw,
        valid: await verifier.verifyRequestSignature(raw, String(req.headers['x-hub-signature-256'])),
      });
      res.end();
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/whatsapp`;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

  it('reports sent, delivered, read, or failed for an async failure, signed', async () => {
    const sandbox = await startFakeGraphApi({
      templates: [reminderFr],
      webhook: { url: receiverUrl, appSecret: 'demo-secret', delayMs: 5 },
      clock: () => new Date('2026-01-10T10:00:00Z'),
    });
    try {
      const payload = (to: string) => ({
        ...template([body('A', '7', 'x'), url('x')]),
        to,
        biz_opaque_callback_data: `cb-${to}`,
      });
      const post = (p: unknown) =>
        fetch(`${sandbox.url}/v24.0/${sandbox.phoneNumberId}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${sandbox.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(p),
        });
      sandbox.setFailure({ type: 'async-failed', code: 131026 }, { to: '15550000000' });
      expect((await post(payload('33612345678'))).status).toBe(200);
      expect((await post(payload('15550000000'))).status).toBe(200);
      await expect.poll(() => sandbox.webhookDeliveries().length, { timeout: 3_000 }).toBe(4);
      expect(got.every((g) => g.valid)).toBe(true);
      const statuses = got.map((g) => JSON.parse(g.raw).entry[0].changes[0].value.statuses[0]);
      expect(statuses.filter((s) => s.recipient_id === '33612345678').map((s) => s.status)).toEqual([
        'sent',
        'delivered',
        'read',
      ]);
      const failed = statuses.find((s) => s.recipient_id === '15550000000');
      expect(failed).toMatchObject({
        status: 'failed',
        biz_opaque_callback_data: 'cb-15550000000',
        errors: [{ code: 131026 }],
      });
      expect(failed.timestamp).toBe('1768039200');
    } finally {
      await sandbox.close();
    }
  });
});
