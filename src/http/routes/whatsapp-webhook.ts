// GET /webhooks/whatsapp: Meta's subscription handshake. POST /webhooks/whatsapp: signed
// statuses, inbound messages, marketing preferences and template reviews (docs/subscribers.md,
// "Public pages and links").
// The POST keeps the raw body (the signature covers Meta's exact bytes), refuses anything
// unsigned or badly signed with 401 before touching the database or the queue, stores the body
// once and answers 200 at once: the processing runs on the `webhooks` queue (webhook.service).
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Config } from '../../config/config.ts';
import { createWebhookIntake } from '../../inbound/webhook-intake.ts';
import { isWebhookEnvelope } from '../../inbound/webhook-payload.ts';
import { checkWebhookSignature } from '../../inbound/webhook-signature.ts';
import { QUEUES } from '../../queue/catalog.ts';
import type { QueueSet } from '../../queue/connection.ts';
import type { Clock } from '../../shared/clock.ts';
import { webhookChangesTotal, webhookRequestsTotal } from '../../shared/metrics.ts';
import { sameSecret } from '../../shared/secrets.ts';
import type { Db } from '../../store/pool.ts';
import { problem, sendProblem } from '../problems.ts';

export interface WhatsAppWebhookOptions {
  readonly config: Config;
  readonly db: Db;
  readonly queues: QueueSet;
  readonly clock: Clock;
  /** How long storing may wait for the queue before answering 503. Default 5 s. */
  readonly queueTimeoutMs?: number;
}

/** Meta's documented maximum webhook payload is 3 MB. */
export const WEBHOOK_BODY_LIMIT = 3 * 1024 * 1024;

interface HandshakeQuery {
  'hub.mode'?: string;
  'hub.verify_token'?: string;
  'hub.challenge'?: string;
}

const refuse = (reply: FastifyReply, status: number, detail: string) =>
  sendProblem(reply, problem(status, detail));

export const whatsappWebhookRoutes: FastifyPluginAsync<WhatsAppWebhookOptions> = async (app, opts) => {
  const whatsapp = opts.config.whatsapp;
  const receiveWebhook = createWebhookIntake({
    db: opts.db,
    queue: opts.queues.get(QUEUES.webhooks),
    queueTimeoutMs: opts.queueTimeoutMs ?? 5_000,
  });
  const off =
    'WhatsApp is not configured: set WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN';

  // Whatever the content type, the handler gets the exact bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.get<{ Querystring: HandshakeQuery }>('/webhooks/whatsapp', async (request, reply) => {
    if (!whatsapp) return refuse(reply, 404, off);
    const { 'hub.mode': mode, 'hub.verify_token': token, 'hub.challenge': challenge } = request.query;
    if (mode !== 'subscribe' || typeof token !== 'string' || !sameSecret(token, whatsapp.verifyToken)) {
      request.log.warn({ mode }, 'WhatsApp webhook handshake refused');
      return refuse(
        reply,
        403,
        'hub.mode must be "subscribe" and hub.verify_token must equal WHATSAPP_VERIFY_TOKEN',
      );
    }
    if (typeof challenge !== 'string' || challenge.length === 0 || challenge.length > 256)
      return refuse(reply, 400, 'hub.challenge is required (at most 256 characters)');
    request.log.info('WhatsApp webhook handshake accepted');
    return reply.code(200).type('text/plain; charset=utf-8').send(challenge);
  });

  // Meta's servers read the answer, no browser: no helmet headers (docs/delivery.md, "Statuses from
  // WhatsApp": helmet builds its CSP header on every request).
  app.post('/webhooks/whatsapp', { bodyLimit: WEBHOOK_BODY_LIMIT, helmet: false }, async (request, reply) => {
    if (!whatsapp) return refuse(reply, 404, off);
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const check = checkWebhookSignature(whatsapp.appSecret, raw, request.headers['x-hub-signature-256']);
    if (check !== 'ok') {
      webhookRequestsTotal.inc({ result: check === 'missing' ? 'unsigned' : 'bad_signature' });
      request.log.warn({ check }, 'WhatsApp webhook refused: signature');
      return refuse(
        reply,
        401,
        check === 'missing'
          ? 'X-Hub-Signature-256 is missing'
          : 'X-Hub-Signature-256 does not match the body (HMAC-SHA256 with WHATSAPP_APP_SECRET)',
      );
    }
    let payload: unknown;
    try {
      payload = JSON.parse(raw.toString('utf8'));
    } catch {
      payload = undefined;
    }
    if (!isWebhookEnvelope(payload)) {
      webhookRequestsTotal.inc({ result: 'malformed' });
      return refuse(reply, 400, 'the body must be a JSON object with an "entry" array');
    }
    try {
      const received = await receiveWebhook(raw, payload, opts.clock.now());
      webhookRequestsTotal.inc({ result: received.result });
      if (received.result === 'accepted')
        for (const field of received.fields) webhookChangesTotal.inc({ field });
      request.log.debug(
        { eventId: received.eventId, result: received.result, fields: received.fields },
        'WhatsApp webhook',
      );
      return reply.code(200).send({ received: true });
    } catch (error) {
      // Not stored, or stored but not queued: Meta redelivers on a non-2xx answer, and the
      // redelivery (same body, same digest) queues it then.
      webhookRequestsTotal.inc({ result: 'unavailable' });
      request.log.error({ err: error }, 'WhatsApp webhook not stored or not queued');
      return refuse(reply, 503, 'temporarily unable to store the webhook; it will be redelivered');
    }
  });
};
