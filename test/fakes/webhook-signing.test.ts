import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WhatsAppAPI } from 'whatsapp-api-js';
import type { OnMessageArgs } from 'whatsapp-api-js/emitters';
import {
  encodeWebhook,
  messagesChange,
  metaJson,
  postWebhook,
  signWebhook,
  statusesChange,
  userPreferencesChange,
  webhookPayload,
} from './graph-api.ts';

const APP_SECRET = 'sandbox-app-secret';
const meta = { phoneNumberId: '100000000000001', displayPhoneNumber: '15550001111' };
const at = new Date('2026-01-14T18:30:00Z');
const FRENCH = 'ARRÊT — c’est fait, merci ! Élodie 😀 https://x.fr/a?b=1&c=<d>';

const api = () => new WhatsAppAPI({ token: 't', appSecret: APP_SECRET, v: 'v24.0' });
const inbound = (text: string) =>
  webhookPayload([
    {
      id: '200000000000002',
      changes: [
        messagesChange(meta, [
          { kind: 'text', from: '33612345678', name: 'Élodie', id: 'wamid.IN1', at, text },
        ]),
      ],
    },
  ]);

describe('metaJson', () => {
  it("writes Meta's escaped ASCII form: \\/ and lowercase \\uXXXX, emoji as a surrogate pair", () => {
    const s = metaJson({ t: 'é/Ê😀' });
    expect(s).toBe('{"t":"\\u00e9\\/\\u00ca\\ud83d\\ude00"}');
    expect(JSON.parse(s)).toEqual({ t: 'é/Ê😀' });
  });
});

describe('signWebhook', () => {
  it('is sha256=<hex HMAC> of the exact body bytes', () => {
    const body = metaJson(inbound(FRENCH));
    expect(signWebhook(APP_SECRET, body)).toBe(
      `sha256=${createHmac('sha256', APP_SECRET).update(Buffer.from(body, 'utf8')).digest('hex')}`,
    );
  });

  it.each(['meta', 'utf8'] as const)(
    '%s encoding: whatsapp-api-js accepts the signature on French text',
    async (enc) => {
      const { body, signature } = encodeWebhook(inbound(FRENCH), APP_SECRET, enc);
      expect(await api().verifyRequestSignature(body, signature)).toBe(true);
      expect(await api().verifyRequestSignature(body.replace('wamid.IN1', 'wamid.IN2'), signature)).toBe(
        false,
      );
      expect(await api().verifyRequestSignature(body, signWebhook('other-secret', body))).toBe(false);
    },
  );

  it('meta encoding is pure ASCII, so a raw-bytes HMAC check agrees; utf8 shows why it may not', () => {
    const rawCheck = (e: { body: string; signature: string }) =>
      signWebhook(APP_SECRET, e.body) === e.signature;
    const asMeta = encodeWebhook(inbound(FRENCH), APP_SECRET, 'meta');
    const asUtf8 = encodeWebhook(inbound(FRENCH), APP_SECRET, 'utf8');
    expect(asMeta.body).toMatch(/^[\x20-\x7e]*$/);
    expect(asUtf8.body).toContain('ARRÊT');
    expect(rawCheck(asMeta)).toBe(true);
    expect(rawCheck(asUtf8)).toBe(false);
  });
});

describe('postWebhook to a receiver using whatsapp-api-js', () => {
  let server: Server;
  let url: string;
  const received: { status: number; text?: string; name?: string }[] = [];

  beforeAll(async () => {
    const wa = api();
    wa.on.message = ({ message, name }: OnMessageArgs) => {
      received.push({ status: 200, text: message.type === 'text' ? message.text.body : undefined, name });
    };
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      try {
        await wa.post(JSON.parse(raw), raw, req.headers['x-hub-signature-256'] as string);
        res.statusCode = 200;
      } catch (err) {
        res.statusCode = (err as { httpStatus?: number }).httpStatus ?? 500;
      }
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/whatsapp`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it.each(['meta', 'utf8'] as const)('%s: French text and emoji round-trip', async (encoding) => {
    received.length = 0;
    const res = await postWebhook(url, inbound(FRENCH), { appSecret: APP_SECRET, encoding });
    expect(res.status).toBe(200);
    expect(received).toEqual([{ status: 200, text: FRENCH, name: 'Élodie' }]);
  });

  it('a wrong or missing signature is refused', async () => {
    received.length = 0;
    const wrong = await postWebhook(url, inbound('STOP'), { appSecret: APP_SECRET, signature: 'sha256=00' });
    expect(wrong.status).toBe(401);
    const missing = await postWebhook(url, inbound('STOP'), { appSecret: APP_SECRET, signature: null });
    expect(missing.status).toBe(401);
    expect(received).toEqual([]);
  });
});

describe('payload builders', () => {
  it('batch several entries, changes, statuses and messages like Meta', () => {
    const payload = webhookPayload([
      {
        id: 'WABA',
        changes: [
          statusesChange(meta, [
            { id: 'wamid.A', status: 'delivered', recipientId: '33612345678', at, callbackData: 'd-1' },
            {
              id: 'wamid.B',
              status: 'failed',
              recipientId: '447700900123',
              at,
              callbackData: 'd-2',
              errors: [{ code: 131049 }],
            },
          ]),
          messagesChange(meta, [
            { kind: 'text', from: '33612345678', id: 'wamid.C', at, text: 'FAIT' },
            {
              kind: 'button',
              from: '447700900123',
              id: 'wamid.D',
              at,
              text: 'STOP',
              payload: 'stop',
              contextId: 'wamid.B',
            },
          ]),
        ],
      },
      { id: 'WABA', changes: [userPreferencesChange(meta, [{ waId: '33612345678', value: 'stop', at }])] },
    ]);
    const parsed = JSON.parse(metaJson(payload));
    expect(parsed.object).toBe('whatsapp_business_account');
    expect(parsed.entry).toHaveLength(2);
    const [statuses, messages] = parsed.entry[0].changes;
    expect(statuses.value.statuses[0]).toEqual({
      id: 'wamid.A',
      status: 'delivered',
      timestamp: '1768415400',
      recipient_id: '33612345678',
      biz_opaque_callback_data: 'd-1',
      pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: 'utility' },
    });
    expect(statuses.value.statuses[1].errors[0]).toMatchObject({
      code: 131049,
      title: expect.stringContaining('healthy ecosystem'),
      error_data: { details: expect.any(String) },
    });
    expect(statuses.value.statuses[1].pricing).toBeUndefined();
    expect(messages.value.contacts).toHaveLength(2);
    expect(messages.value.messages[1]).toMatchObject({
      type: 'button',
      button: { payload: 'stop' },
      context: { id: 'wamid.B' },
    });
    expect(parsed.entry[1].changes[0]).toMatchObject({
      field: 'user_preferences',
      value: { user_preferences: [{ value: 'stop' }] },
    });
  });
});
