import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeGraphApi,
  failures,
  type GraphFailure,
  startFakeGraphApi,
} from '../../../test/fakes/graph-api.ts';
import { pausedEn, reminderFr } from '../../../test/fakes/templates.ts';
import { type TemplateSend, WhatsAppChannel, type WhatsAppChannelOptions } from './whatsapp.ts';

let fake: FakeGraphApi;
const now = new Date('2026-01-10T09:00:00Z');

function channel(over: Partial<WhatsAppChannelOptions> = {}): WhatsAppChannel {
  return new WhatsAppChannel({
    token: fake.token,
    phoneNumberId: fake.phoneNumberId,
    businessAccountId: fake.wabaId,
    appSecret: 'app-secret',
    apiUrl: fake.url,
    apiVersion: 'v24.0',
    timeoutMs: 2_000,
    clock: () => now,
    ...over,
  });
}

const send = (over: Partial<TemplateSend> = {}): TemplateSend => ({
  to: '+33612345678',
  templateName: 'deadline_reminder',
  language: 'fr',
  bodyParams: ['Anaïs', '7', '15 janvier 2026 à 00:00'],
  buttonUrlParam: 'tok_abc/help',
  buttonIndex: 1,
  callbackData: 'delivery-42',
  ...over,
});

beforeAll(async () => {
  fake = await startFakeGraphApi({ templates: [reminderFr, pausedEn] });
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

describe('WhatsAppChannel.sendTemplate', () => {
  it('sends to a business-scoped user id in `recipient` when there is no phone', async () => {
    const userId = fake.identities.of('33612345678').userId;
    const out = await channel().sendTemplate(send({ to: undefined, userId }));
    expect(out.outcome).toBe('sent');
    expect(fake.requests[0]?.body).toMatchObject({ recipient: userId, type: 'template' });
    expect(fake.requests[0]?.body).not.toHaveProperty('to');
    expect(fake.sent()).toEqual([expect.objectContaining({ to: '33612345678', userId })]);
    expect(await channel().sendTemplate(send({ to: undefined }))).toMatchObject({
      outcome: 'permanent',
      code: 'no-recipient',
    });
  });

  it('sends the template Meta expects and returns the wamid', async () => {
    const out = await channel().sendTemplate(send());
    expect(out.outcome).toBe('sent');
    const [msg] = fake.sent();
    expect(out).toEqual({ outcome: 'sent', messageId: msg?.id });
    expect(msg?.id).toMatch(/^wamid\./);
    expect(msg?.to).toBe('33612345678');
    expect(msg?.callbackData).toBe('delivery-42');
    expect(msg?.rendered).toEqual({
      header: 'Rappel',
      body: 'Bonjour Anaïs, il reste 7 jours avant le 15 janvier 2026 à 00:00.',
      buttonUrls: ['https://example.org/l/tok_abc/help'],
    });
    const req = fake.requests[0]!;
    expect(req.path).toBe(`/v24.0/${fake.phoneNumberId}/messages`);
    expect(req.headers.authorization).toBe(`Bearer ${fake.token}`);
    expect(req.body).toMatchObject({
      messaging_product: 'whatsapp',
      to: '33612345678',
      type: 'template',
      template: {
        name: 'deadline_reminder',
        language: { code: 'fr' },
        components: [
          { type: 'body', parameters: [{ type: 'text', text: 'Anaïs' }, { type: 'text' }, { type: 'text' }] },
          { type: 'button', sub_type: 'url', index: 1, parameters: [{ type: 'text', text: 'tok_abc/help' }] },
        ],
      },
      biz_opaque_callback_data: 'delivery-42',
    });
  });

  const cases: Array<[string, GraphFailure, Record<string, unknown>]> = [
    ['throughput 130429', failures.rateLimit(), { outcome: 'retry', code: '130429' }],
    ['pair rate 131056', failures.pairRate(), { outcome: 'retry', code: '131056' }],
    [
      'maintenance 131057',
      { type: 'graph', code: 131057 },
      { outcome: 'retry', code: '131057', retryAfterMs: 60_000 },
    ],
    ['something went wrong 131000', { type: 'graph', code: 131000 }, { outcome: 'retry', code: '131000' }],
    ['WABA rate limit 80007', { type: 'graph', code: 80007 }, { outcome: 'retry', code: '80007' }],
    ['generic 500 (code 1)', failures.serverError(), { outcome: 'retry', code: '1' }],
    ['non-Graph 500 JSON', failures.plainServerError(), { outcome: 'retry', code: 'http-500' }],
    ['502 HTML page', failures.badGateway(), { outcome: 'retry', code: 'http-502' }],
    [
      'marketing limit 131049',
      { type: 'graph', code: 131049 },
      { outcome: 'defer', code: '131049', delayMs: 86_400_000 },
    ],
    [
      'template paused 132015',
      { type: 'graph', code: 132015 },
      { outcome: 'defer', code: '132015', delayMs: 10_800_000 },
    ],
    ['undeliverable 131026', failures.undeliverable(), { outcome: 'permanent', code: '131026' }],
    ['template missing 132001', failures.templateMissing(), { outcome: 'permanent', code: '132001' }],
    ['outside 24 h 131047', { type: 'graph', code: 131047 }, { outcome: 'permanent', code: '131047' }],
    ['marketing stopped 131050', { type: 'graph', code: 131050 }, { outcome: 'permanent', code: '131050' }],
    ['token 190', failures.badToken(), { outcome: 'channel-down', code: '190' }],
    ['policy block 368', { type: 'graph', code: 368 }, { outcome: 'channel-down', code: '368' }],
    ['account locked 131031', { type: 'graph', code: 131031 }, { outcome: 'channel-down', code: '131031' }],
  ];
  it.each(cases)('maps %s', async (_name, failure, expected) => {
    fake.setFailure(failure);
    const out = await channel().sendTemplate(send());
    expect(out).toMatchObject(expected);
    expect(out).toHaveProperty('detail');
    expect(fake.sent()).toHaveLength(0);
  });

  it('keeps the Graph message and details in the outcome', async () => {
    fake.setFailure(failures.undeliverable());
    const out = await channel().sendTemplate(send());
    expect(out).toMatchObject({
      detail: expect.stringMatching(/^\(#131026\) Message undeliverable: Unable to deliver/),
    });
  });

  it('honours Retry-After, in seconds or as an HTTP date', async () => {
    fake.setFailure(failures.rateLimit(7));
    expect(await channel().sendTemplate(send())).toMatchObject({
      outcome: 'retry',
      code: '130429',
      retryAfterMs: 7_000,
    });
    fake.setFailure({
      type: 'graph',
      code: 130429,
      retryAfter: new Date(now.getTime() + 90_000).toUTCString(),
    });
    expect(await channel().sendTemplate(send())).toMatchObject({ retryAfterMs: 90_000 });
  });

  it('refuses a send whose parameters do not match the registered template (132000)', async () => {
    const out = await channel().sendTemplate(send({ bodyParams: ['Anaïs', '7'] }));
    expect(out).toMatchObject({ outcome: 'permanent', code: '132000' });
    expect(out.outcome === 'permanent' && out.detail).toContain('number of localizable_params (2)');
  });

  it('refuses a template that is not approved in that language (132001) or paused (132015)', async () => {
    expect(await channel().sendTemplate(send({ language: 'en' }))).toMatchObject({
      outcome: 'permanent',
      code: '132001',
    });
    const paused = await channel().sendTemplate(
      send({ templateName: 'last_hours', language: 'en', bodyParams: ['Sam'], buttonUrlParam: undefined }),
    );
    expect(paused).toMatchObject({ outcome: 'defer', code: '132015' });
  });

  it('refuses a URL parameter aimed at the quick-reply button (131009)', async () => {
    expect(await channel().sendTemplate(send({ buttonIndex: 0 }))).toMatchObject({
      outcome: 'permanent',
      code: '131009',
    });
  });

  it('reports a wrong token as channel-down', async () => {
    const out = await channel({ token: 'expired' }).sendTemplate(send());
    expect(out).toMatchObject({ outcome: 'channel-down', code: '190' });
    expect(fake.requests[0]?.status).toBe(401);
  });

  it('times out on a hung request: sent, so unknown (never retried)', async () => {
    fake.setFailure(failures.hang());
    const started = performance.now();
    const out = await channel({ timeoutMs: 300 }).sendTemplate(send());
    expect(out).toMatchObject({ outcome: 'unknown', code: 'timeout' });
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('calls a send answered after the timeout unknown: Meta has it', async () => {
    fake.setFailure(failures.lateAnswer(1_000));
    const out = await channel({ timeoutMs: 300 }).sendTemplate(send());
    expect(out).toMatchObject({
      outcome: 'unknown',
      code: 'timeout',
      detail: expect.stringContaining('may have accepted'),
    });
    expect(fake.sent()).toHaveLength(1);
  });

  it('calls the API unavailable when it cannot be reached (nothing sent)', async () => {
    const gone = await startFakeGraphApi();
    const url = gone.url;
    await gone.close();
    const out = await channel({ apiUrl: url }).sendTemplate(send());
    expect(out).toMatchObject({
      outcome: 'unavailable',
      code: 'network',
      detail: expect.stringContaining('ECONNREFUSED'),
    });
  });

  it('fails only the targeted recipient, and count rules only the next N calls', async () => {
    fake.setFailure(failures.undeliverable(), { to: '+44 7700 900123' });
    fake.setFailure(failures.pairRate(), { times: 2 });
    const ch = channel();
    const a = await ch.sendTemplate(send({ to: '+447700900123' }));
    const b = await ch.sendTemplate(send());
    const c = await ch.sendTemplate(send());
    const d = await ch.sendTemplate(send());
    const e = await ch.sendTemplate(send({ to: '+447700900123' }));
    expect([a, b, c, d, e].map((o) => o.outcome)).toEqual([
      'permanent',
      'retry',
      'retry',
      'sent',
      'permanent',
    ]);
  });

  it('classifies concurrent sends each with their own HTTP status', async () => {
    fake.setFailure(failures.rateLimit(3), { to: '+15550000429' });
    const ch = channel();
    const [ok, limited] = await Promise.all([
      ch.sendTemplate(send()),
      ch.sendTemplate(send({ to: '+15550000429' })),
    ]);
    expect(ok.outcome).toBe('sent');
    expect(limited).toMatchObject({ outcome: 'retry', retryAfterMs: 3_000 });
  });

  it('refuses an empty parameter before calling the API', async () => {
    const out = await channel().sendTemplate(send({ buttonUrlParam: '' }));
    expect(out).toMatchObject({ outcome: 'permanent', code: 'invalid-template-params' });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('WhatsAppChannel management calls', () => {
  it('reads the phone number profile', async () => {
    expect(await channel().phoneNumberInfo()).toEqual({
      id: fake.phoneNumberId,
      displayPhoneNumber: '15550001111',
      verifiedName: 'Lastcall Sandbox',
      qualityRating: 'GREEN',
    });
  });

  it('creates a template (PENDING) and lists every page', async () => {
    const many = await startFakeGraphApi({
      templates: Array.from({ length: 130 }, (_v, i) => ({ ...reminderFr, name: `t_${i}` })),
    });
    try {
      const ch = channel({ apiUrl: many.url, token: many.token, businessAccountId: many.wabaId });
      const created = await ch.createTemplate({
        name: 'one_week',
        language: 'fr',
        category: 'UTILITY',
        components: [{ type: 'BODY', text: 'Plus que {{1}} jours.', example: { body_text: [['7']] } }],
      });
      expect(created).toMatchObject({ status: 'PENDING', category: 'UTILITY' });
      const list = await ch.listTemplates();
      expect(list).toHaveLength(131);
      expect(list.at(-1)).toMatchObject({
        id: created.id,
        name: 'one_week',
        language: 'fr',
        status: 'PENDING',
      });
      expect(many.requests.filter((r) => r.method === 'GET')).toHaveLength(2);
      await expect(
        ch.createTemplate({
          name: 'one_week',
          language: 'fr',
          category: 'UTILITY',
          components: [{ type: 'BODY', text: 'x' }],
        }),
      ).rejects.toMatchObject({ code: '100', message: expect.stringContaining('Already Exists') });
    } finally {
      await many.close();
    }
  });

  it('says what to fix when the token is refused or the account id is missing', async () => {
    await expect(channel({ token: 'nope' }).phoneNumberInfo()).rejects.toThrow(/code 190.*WHATSAPP_TOKEN/);
    await expect(channel({ businessAccountId: undefined }).listTemplates()).rejects.toThrow(
      /WHATSAPP_BUSINESS_ACCOUNT_ID/,
    );
  });
});
