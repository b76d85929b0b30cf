// WhatsApp webhook recovery: a body that cannot be queued is refused with 503 and processed when Meta
// redelivers it; a body stored but never queued is found by the worker's sweep.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ServeConfig } from '../src/config/config.ts';
import { buildServer } from '../src/http/server.ts';
import { storeEvent } from '../src/inbound/webhook.repository.ts';
import { freePort } from '../src/ops/local-servers/probe.ts';
import { QUEUES } from '../src/queue/catalog.ts';
import { createWorkerConnection, QueueSet } from '../src/queue/connection.ts';
import { startWebhookWorker } from '../src/roles/work-webhooks.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { encodeWebhook, templateStatusChange, webhookPayload } from './fakes/graph-api.ts';
import * as h from './support/webhook.ts';

h.useWebhookHarness();
const { NOW, SECRET, at } = h;

describe('POST /webhooks/whatsapp', () => {
  it('answers 503 when the body cannot be queued, and processes it when Meta redelivers', async () => {
    // Redis at a port where nothing listens: the body is stored, but not queued.
    const broken: ServeConfig = { ...h.config, redisUrl: `redis://127.0.0.1:${await freePort()}` };
    const downQueues = new QueueSet(broken);
    downQueues.connection.on('error', () => {});
    for (const name of Object.values(QUEUES)) downQueues.get(name).on('error', () => {});
    const downApp = await buildServer({
      config: h.config,
      db: h.database.db,
      queues: downQueues,
      services: h.services,
      logger: pino({ level: 'silent' }),
    });
    const payload = webhookPayload([
      {
        id: 'waba-1',
        changes: [templateStatusChange({ id: '78', name: 'one_week', language: 'en', event: 'APPROVED' })],
      },
    ]);
    const { body, signature } = encodeWebhook(payload, SECRET);
    try {
      const res = await downApp.inject({
        method: 'POST',
        url: '/webhooks/whatsapp',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
        payload: body,
      });
      expect(res.statusCode).toBe(503);
    } finally {
      await downApp.close();
      downQueues.connection.disconnect();
      await downQueues.close();
    }
    expect(await h.database.db.query(`SELECT 1 FROM template_statuses WHERE name = 'one_week'`)).toEqual([]);
    const res = await h.post(body, signature);
    expect(res.statusCode).toBe(200);
    await h.processed();
    expect(await h.database.db.query(`SELECT status FROM template_statuses WHERE name = 'one_week'`)).toEqual(
      [{ status: 'APPROVED' }],
    );
  });

  it('processes a body that was stored but never queued, found by the h.worker’s sweep', async () => {
    const payload = webhookPayload([
      {
        id: 'waba-1',
        changes: [templateStatusChange({ id: '79', name: 'last_day', language: 'fr', event: 'PAUSED' })],
      },
    ]);
    await storeEvent(h.database.db, {
      digest: 'digest-of-a-body-never-queued',
      fields: ['message_template_status_update'],
      rawJson: JSON.stringify(payload),
      now: at(5),
    });
    const sweeper = startWebhookWorker(h.config, {
      subscriptions: h.services.subscriptions,
      db: h.database.db,
      queues: h.queues,
      connection: createWorkerConnection(h.config),
      logger: pino({ level: 'silent' }),
      clock: new ManualClock(NOW),
      replier: null,
    });
    try {
      await h.processed();
    } finally {
      await sweeper.close();
    }
    expect(await h.database.db.query(`SELECT status FROM template_statuses WHERE name = 'last_day'`)).toEqual(
      [{ status: 'PAUSED' }],
    );
  });
});
