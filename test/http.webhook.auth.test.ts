import { describe, expect, it } from 'vitest';
import { QUEUES } from '../src/queue/catalog.ts';
import { encodeWebhook, messagesChange, webhookPayload } from './fakes/graph-api.ts';
import * as h from './support/webhook.ts';

h.useWebhookHarness();
const { PEOPLE, SECRET, VERIFY, at, digits, meta } = h;

describe('GET /webhooks/whatsapp (handshake)', () => {
  it('answers the challenge as text when the verify token matches', async () => {
    const res = await h.app.inject({
      url: `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=1158201444`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toBe('1158201444');
  });

  it('refuses a wrong token or mode with 403', async () => {
    for (const query of [
      'hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1',
      `hub.mode=unsubscribe&hub.verify_token=${VERIFY}&hub.challenge=1`,
      'hub.challenge=1',
    ]) {
      const res = await h.app.inject({ url: `/webhooks/whatsapp?${query}` });
      expect(res.statusCode).toBe(403);
      expect(res.body).not.toContain('1158201444');
    }
  });
});

describe('POST /webhooks/whatsapp', () => {
  it('refuses a missing or bad signature with 401 and records nothing', async () => {
    const payload = webhookPayload([
      {
        id: 'waba-1',
        changes: [
          messagesChange(meta, [
            { kind: 'text', from: digits(PEOPLE.elodie.phone), id: 'in.bad', at: at(5), text: 'ARRÊT' },
          ]),
        ],
      },
    ]);
    const { body, signature } = encodeWebhook(payload, SECRET, 'utf8');
    const { createHmac } = await import('node:crypto');
    const overUtf8Bytes = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
    const otherSecret = encodeWebhook(payload, 'another-secret').signature;
    for (const sig of [undefined, '', 'sha256=00', otherSecret, overUtf8Bytes]) {
      const res = await h.post(body, sig);
      expect(res.statusCode, String(sig)).toBe(401);
    }
    // The same body, correctly signed, would be accepted: only the signature was wrong.
    expect(signature).not.toBe(overUtf8Bytes);
    expect(await h.eventCount()).toBe(0);
    const counts = await h.queues.get(QUEUES.webhooks).getJobCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    expect(await h.whatsappState(PEOPLE.elodie.id)).toBe('active');
    expect(h.graph.sent()).toHaveLength(0);
  });
});
