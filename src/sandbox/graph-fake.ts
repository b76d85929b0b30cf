// A faithful local stand-in for the WhatsApp Cloud API (Graph) over real HTTP: the test fake and
// the demo's "WhatsApp sandbox". Routes:
//   POST /<v>/<PHONE_NUMBER_ID>/messages            send (templates and text), with Meta's checks
//   GET  /<v>/<WABA_ID>/message_templates           list, with Graph paging
//   POST /<v>/<WABA_ID>/message_templates           create (PENDING or APPROVED per option)
//   GET  /<v>/<PHONE_NUMBER_ID>                     phone number info (for `doctor`)
// Every call needs `Authorization: Bearer <token>` (else 190, HTTP 401).
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { windowStart } from '../planning/messaging-limit.ts';
import { MESSAGING_TIERS } from '../shared/messaging-limit.ts';
import { type GraphErrorReply, graphError, unknownObject } from './graph-errors.ts';
import { FailureBook, type FailureScope, type GraphFailure } from './graph-failures.ts';
import { IdentityBook } from './graph-identities.ts';
import { acceptMessage, recipientDigits, type SentMessage } from './graph-messages.ts';
import { StatusEmitter, type StatusWebhookOptions, type WebhookDelivery } from './graph-status-emitter.ts';
import { createTemplate } from './graph-template-create.ts';
import { listTemplates } from './graph-template-list.ts';
import type { TemplateDef } from './graph-templates.ts';

export type TemplateSeed = Omit<TemplateDef, 'id' | 'status'> & Partial<Pick<TemplateDef, 'id' | 'status'>>;

export interface FakeGraphApiOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  token?: string;
  phoneNumberId?: string;
  wabaId?: string;
  displayPhoneNumber?: string;
  verifiedName?: string;
  qualityRating?: 'GREEN' | 'YELLOW' | 'RED' | 'UNKNOWN';
  /** The portfolio's messaging limit as Meta reports it (default TIER_UNLIMITED). Template
   *  messages to more unique people than it allows in a rolling 24 h are accepted, then fail
   *  (status `failed`, 131048) and never reach the phone: see `limitRefused`. */
  messagingTier?: string;
  /** The number's throughput level (default STANDARD). */
  throughputLevel?: string;
  /** Registered templates; APPROVED unless they say otherwise. */
  templates?: TemplateSeed[];
  /** Status given to templates created through the API. Default PENDING, as Meta's review does. */
  newTemplateStatus?: 'PENDING' | 'APPROVED';
  /** Post status webhooks after each accepted send (the demo sandbox). */
  webhook?: StatusWebhookOptions;
  clock?: () => Date;
  /** Serves other routes on the same port (the sandbox's inbox): return true when it answered. */
  intercept?: (req: IncomingMessage, res: ServerResponse, rawBody: string) => boolean | Promise<boolean>;
  /** Called for every accepted send, before status webhooks are scheduled. */
  onSent?: (message: SentMessage) => void;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: unknown;
  /** HTTP status answered; undefined while a hang is in progress. */
  status?: number;
}

export interface FakeGraphApi {
  url: string;
  port: number;
  token: string;
  phoneNumberId: string;
  wabaId: string;
  requests: RecordedRequest[];
  /** Messages accepted and delivered (not those Meta would drop: see `dropped`). */
  sent(): SentMessage[];
  /** Messages answered 200 and dropped, as Meta does with a BSUID in `to`. */
  dropped(): SentMessage[];
  /** Phone numbers, their BSUIDs and usernames. */
  identities: IdentityBook;
  /** Template messages past the messaging limit: answered 200, never delivered. */
  limitRefused(): SentMessage[];
  /** Unique people who received a template message in the 24 h before now. */
  peopleIn24h(): number;
  /** Changes the limit Meta reports (the sandbox's "tier" control, a test's set-up). */
  setMessagingTier(tier: string): void;
  /** Meta moves the number to another throughput level (STANDARD, HIGH). */
  setThroughputLevel(level: string): void;
  /** Meta re-categorises a template: returns it as it was, or undefined when there is none. */
  recategorise(name: string, language: string, category: TemplateDef['category']): TemplateDef | undefined;
  templates(): TemplateDef[];
  webhookDeliveries(): WebhookDelivery[];
  setFailure(failure: GraphFailure, scope?: FailureScope): void;
  clearFailures(): void;
  /** Forget requests, sends and failures (templates stay). */
  reset(): void;
  close(): Promise<void>;
}

const VERSION = /^v\d+\.\d+$/;
/** What a message past the messaging limit fails with (Meta: "restrictions on how many messages
 *  can be sent from this phone number"). */
const MESSAGING_LIMIT_CODE = 131048;

function send(res: ServerResponse, reply: GraphErrorReply | { status: number; body: unknown }): number {
  res.writeHead(reply.status, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(reply.body));
  return reply.status;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeGraphApi(opts: FakeGraphApiOptions = {}): Promise<FakeGraphApi> {
  const token = opts.token ?? 'TEST_TOKEN';
  const phoneNumberId = opts.phoneNumberId ?? '100000000000001';
  const wabaId = opts.wabaId ?? '200000000000002';
  const displayPhoneNumber = opts.displayPhoneNumber ?? '15550001111';
  const clock = opts.clock ?? (() => new Date());
  let registry: TemplateDef[] = (opts.templates ?? []).map((t, i) => ({
    ...t,
    id: t.id ?? String(900000000000000 + i),
    status: t.status ?? 'APPROVED',
    // Meta rates an approved template's quality once it has been sent for a while.
    quality_score: t.quality_score ?? {
      score: (t.status ?? 'APPROVED') === 'APPROVED' ? 'GREEN' : 'UNKNOWN',
    },
  }));
  const requests: RecordedRequest[] = [];
  let sent: SentMessage[] = [];
  let dropped: SentMessage[] = [];
  const identities = new IdentityBook();
  let messagingTier = opts.messagingTier ?? 'TIER_UNLIMITED';
  let throughputLevel = opts.throughputLevel ?? 'STANDARD';
  let limitRefused: SentMessage[] = [];
  /** Latest template message time per recipient digits, for the rolling 24 h. */
  const people = new Map<string, number>();
  const inWindow = (now: number) => [...people.values()].filter((t) => t > windowStart(now)).length;
  /** True when a template message to `to` would be one person too many. */
  const pastLimit = (to: string): boolean => {
    const limit = MESSAGING_TIERS[messagingTier];
    if (limit === undefined || limit === 'unlimited') return false;
    const now = clock().getTime();
    const last = people.get(to);
    return !(last !== undefined && last > windowStart(now)) && inWindow(now) >= limit;
  };
  const failures = new FailureBook();
  const hanging = new Set<ServerResponse>();
  const emitter = opts.webhook
    ? new StatusEmitter(opts.webhook, { wabaId, phoneNumberId, displayPhoneNumber, clock, identities })
    : undefined;

  function messages(res: ServerResponse, body: unknown): number | undefined {
    const named = body as { to?: unknown; recipient?: unknown } | null;
    const failure = failures.take(
      recipientDigits(named?.to) ??
        (typeof named?.recipient === 'string' ? identities.byUserId(named.recipient)?.digits : undefined),
    );
    if (failure?.type === 'hang') {
      hanging.add(res);
      return undefined;
    }
    if (failure?.type === 'graph' || failure?.type === 'raw') {
      const headers: Record<string, string> = {};
      if (failure.retryAfter !== undefined) headers['retry-after'] = failure.retryAfter;
      if (failure.type === 'raw') {
        res.writeHead(failure.status, { ...headers, 'content-type': failure.contentType });
        res.end(failure.body);
        return failure.status;
      }
      const reply = graphError(failure.code, failure.details, failure.status);
      res.writeHead(reply.status, { ...headers, 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(reply.body));
      return reply.status;
    }
    const result = acceptMessage(registry, phoneNumberId, body, identities);
    if ('status' in result) return send(res, result);
    if (result.message.dropped) {
      dropped.push(result.message);
      return send(res, { status: 200, body: result.reply });
    }
    if (result.message.type === 'template') {
      if (pastLimit(result.message.to)) {
        limitRefused.push(result.message);
        emitter?.report(result.message, MESSAGING_LIMIT_CODE);
        return send(res, { status: 200, body: result.reply });
      }
      people.set(result.message.to, clock().getTime());
    }
    sent.push(result.message);
    opts.onSent?.(result.message);
    emitter?.report(result.message, failure?.type === 'async-failed' ? failure.code : undefined);
    if (failure?.type === 'late') {
      hanging.add(res);
      const timer = setTimeout(() => {
        hanging.delete(res);
        if (!res.destroyed) send(res, { status: 200, body: result.reply });
      }, failure.delayMs);
      res.on('close', () => clearTimeout(timer));
      return undefined;
    }
    if (failure?.type === 'held') {
      const [first] = result.reply.messages;
      return send(res, {
        status: 200,
        body: { ...result.reply, messages: [{ ...first, message_status: 'held_for_quality_assessment' }] },
      });
    }
    return send(res, { status: 200, body: result.reply });
  }

  function route(req: IncomingMessage, res: ServerResponse, rec: RecordedRequest): number | undefined {
    const [version, id, edge, ...rest] = rec.path.split('/').filter(Boolean);
    if (!version || !VERSION.test(version) || !id || rest.length > 0) {
      return send(res, graphError(100, `Unknown path components: ${rec.path}`));
    }
    const auth =
      req.headers.authorization ?? (rec.query.access_token ? `Bearer ${rec.query.access_token}` : '');
    if (auth !== `Bearer ${token}`) return send(res, graphError(190));
    const method = req.method ?? 'GET';
    if (edge === 'messages' && method === 'POST') {
      return id === phoneNumberId ? messages(res, rec.body) : send(res, unknownObject(id, method));
    }
    if (edge === 'message_templates' && (method === 'GET' || method === 'POST')) {
      if (id !== wabaId) return send(res, unknownObject(id, method));
      if (method === 'GET')
        return send(res, { status: 200, body: listTemplates(registry, rec.query, rec.path) });
      const created = createTemplate(registry, rec.body, opts.newTemplateStatus ?? 'PENDING');
      if ('status' in created && 'body' in created) return send(res, created);
      registry = [...registry, created];
      return send(res, {
        status: 200,
        body: { id: created.id, status: created.status, category: created.category },
      });
    }
    if (edge === undefined && method === 'GET') {
      if (id !== phoneNumberId) return send(res, unknownObject(id, method));
      return send(res, {
        status: 200,
        body: {
          id: phoneNumberId,
          display_phone_number: displayPhoneNumber,
          verified_name: opts.verifiedName ?? 'Lastcall Sandbox',
          quality_rating: opts.qualityRating ?? 'GREEN',
          code_verification_status: 'VERIFIED',
          platform_type: 'CLOUD_API',
          throughput: { level: throughputLevel },
          whatsapp_business_manager_messaging_limit: messagingTier,
        },
      });
    }
    return send(res, unknownObject(id, method));
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake.graph');
    const rawBody = await readBody(req);
    if (opts.intercept && (await opts.intercept(req, res, rawBody))) return;
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      rawBody,
      body,
    };
    requests.push(rec);
    if (rawBody && body === undefined) {
      rec.status = send(res, graphError(100, 'The request body is not valid JSON'));
      return;
    }
    rec.status = route(req, res, rec);
  });
  // A port in use is an error the caller hears (the demo says which port, and stops what it
  // started), not an 'error' event that ends the process with private servers left running.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}`,
    port,
    token,
    phoneNumberId,
    wabaId,
    requests,
    sent: () => [...sent],
    dropped: () => [...dropped],
    identities,
    limitRefused: () => [...limitRefused],
    peopleIn24h: () => inWindow(clock().getTime()),
    setMessagingTier: (tier) => {
      messagingTier = tier;
    },
    setThroughputLevel: (level) => {
      throughputLevel = level;
    },
    recategorise: (name, language, category) => {
      const before = registry.find((t) => t.name === name && t.language === language);
      if (before) registry = registry.map((t) => (t === before ? { ...t, category } : t));
      return before;
    },
    templates: () => [...registry],
    webhookDeliveries: () => [...(emitter?.deliveries ?? [])],
    setFailure: (failure, scope) => failures.add(failure, scope),
    clearFailures: () => failures.clear(),
    reset: () => {
      requests.length = 0;
      sent = [];
      dropped = [];
      limitRefused = [];
      people.clear();
      failures.clear();
    },
    close: async () => {
      emitter?.stop();
      for (const res of hanging) res.destroy();
      hanging.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
