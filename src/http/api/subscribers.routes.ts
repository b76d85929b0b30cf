// /api/v1/subscribers (SPEC 9): as thin as the `subscribers` commands, over the same services:
// upsert one (the import's rules, upsert.service.ts), import a CSV body streamed into the import
// service (never read whole), keyset pages, one profile by id, phone or email, erasure.
import { PassThrough, type Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseSubscriberKey } from '../../ops/subscriber-key.ts';
import { subscriberProfile } from '../../ops/subscriber-profile.ts';
import { CHANNELS } from '../../planning/types.ts';
import { InvalidInput } from '../../shared/errors.ts';
import { createErasureService } from '../../subscribers/erasure.service.ts';
import { createImportService } from '../../subscribers/import.service.ts';
import { ASSISTANTS, LOCALES } from '../../subscribers/subscriber.schema.ts';
import { listSubscribers } from '../../subscribers/subscriber-list.ts';
import { createUpsertService } from '../../subscribers/upsert.service.ts';
import { problem, sendProblem } from '../problems.ts';
import type { ApiOptions } from './api.plugin.ts';
import { idempotencyHeaders, page, pageQuery, problems } from './schemas.ts';

const CSV_TYPES = ['text/csv', 'application/csv'];

/** Types only: the import's row validator gives the rules, in the CLI's words. */
const subscriberBody = z
  .object({
    id: z.string().optional().describe('if given, must be the path id'),
    name: z.string().optional(),
    phone: z.string().optional().describe('E.164, e.g. +33612345678; phone or email required'),
    email: z.string().optional(),
    locale: z.enum(LOCALES).or(z.string()).describe('fr or en (BCP 47; unknown falls back to en)'),
    timezone: z.string().describe('IANA zone, e.g. Europe/Paris'),
    assistant: z.enum(ASSISTANTS),
    channels: z.array(z.enum(CHANNELS)).min(1),
    consent_at: z.string().describe('ISO 8601 instant: when the person opted in'),
    consent_source: z.string().describe('where the opt-in was given (the evidence)'),
    tags: z.array(z.string()).optional(),
  })
  .strict()
  .meta({ id: 'SubscriberInput' });

const upsertResult = z.object({
  id: z.string(),
  outcome: z.enum(['created', 'updated', 'unchanged']),
  consentEvents: z.number().int(),
  planned: z.object({ subscribers: z.number().int(), slots: z.number().int() }),
});

const problemList = z
  .array(z.object({ path: z.string(), value: z.string().optional(), rule: z.string() }))
  .readonly();
const importSummary = z
  .object({
    file: z.string(),
    dryRun: z.boolean(),
    strict: z.boolean(),
    committed: z.boolean(),
    rows: z.number().int(),
    inserted: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    bad: z.number().int(),
    consentEvents: z.number().int(),
    optOutsKept: z.number().int(),
    planned: z.object({ subscribers: z.number().int(), slots: z.number().int() }),
    badRows: z.array(z.object({ line: z.number().int(), problems: problemList })).readonly(),
  })
  .meta({ id: 'ImportSummary' });

const listItem = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    locale: z.string(),
    timezone: z.string(),
    assistant: z.string(),
    tags: z.array(z.string()).readonly(),
    doneAt: z.string().nullable(),
    createdAt: z.string(),
    channels: z.record(z.string(), z.string()),
  })
  .meta({ id: 'SubscriberListItem' });

const profile = listItem
  .omit({ channels: true })
  .extend({
    updatedAt: z.string(),
    channels: z
      .array(
        z.object({
          channel: z.string(),
          state: z.string(),
          consentAt: z.string().nullable(),
          updatedAt: z.string(),
        }),
      )
      .readonly(),
    consentEvents: z
      .array(
        z.object({
          occurredAt: z.string(),
          channel: z.string().nullable(),
          kind: z.string(),
          source: z.string(),
          evidence: z.record(z.string(), z.unknown()),
        }),
      )
      .readonly(),
    deliveries: z.object({
      total: z.number().int(),
      byStatus: z.record(z.string(), z.number().int()),
      latest: z.array(z.record(z.string(), z.unknown())).readonly(),
    }),
    catchUpSlots: z.array(z.record(z.string(), z.unknown())).readonly(),
  })
  .meta({ id: 'SubscriberProfile' });

const erasure = z
  .object({
    subscriberId: z.string(),
    tombstones: z.object({ phone: z.number().int(), email: z.number().int() }),
    channels: z.number().int(),
    consentEvents: z.number().int(),
    deliveriesAnonymised: z.number().int(),
    deliveriesSkipped: z.number().int(),
    personalSlots: z.number().int(),
    webhookPayloadsRedacted: z.number().int(),
  })
  .meta({ id: 'ErasureResult' });

const idParams = z.object({
  id: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1–64 letters, digits, . _ : -'),
});
const keyParams = z.object({ key: z.string().min(1).describe('subscriber id, phone (E.164) or email') });
const flag = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => v === 'true' || v === '1');

export const subscriberRoutes: FastifyPluginAsyncZod<ApiOptions> = async (app, opts) => {
  const deps = { db: opts.db, secretKey: opts.config.secretKey };
  const upserts = createUpsertService(deps);
  const imports = createImportService(deps);
  const erasures = createErasureService(deps);
  const now = () => opts.clock.now();
  // The CSV body is handed on as a stream: the import reads it row by row as it arrives. Through
  // a PassThrough, because the import stops reading at a bad header by destroying its input, and
  // destroying the request itself would cut the connection before the 422 is sent.
  app.addContentTypeParser(CSV_TYPES, (_request, payload, done) => {
    const body = new PassThrough();
    payload.on('error', (error) => body.destroy(error));
    done(null, payload.pipe(body));
  });

  app.put(
    '/subscribers/:id',
    {
      schema: {
        tags: ['subscribers'],
        summary: 'Create or update one subscriber',
        description:
          'The SPEC 5 columns as JSON fields; the rules of `lastcall subscribers import` (consent evidence required).',
        params: idParams,
        headers: idempotencyHeaders,
        body: subscriberBody,
        response: { 200: upsertResult, 201: upsertResult, ...problems(400, 403, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const { id: bodyId, ...fields } = request.body;
      if (bodyId !== undefined && bodyId !== request.params.id)
        throw new InvalidInput('the subscriber does not match the path', [
          { path: 'id', rule: `must be the id in the path ("${request.params.id}") or left out` },
        ]);
      const result = await upserts.upsert(request.params.id, fields, now());
      return reply.code(result.outcome === 'created' ? 201 : 200).send(result);
    },
  );

  app.post(
    '/subscribers/import',
    {
      // Only CSV: a JSON body here is the wrong media type, not an invalid CSV.
      onRequest: async (request, reply) => {
        const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
        if (!CSV_TYPES.includes(type))
          return sendProblem(reply, problem(415, 'the body must be CSV: Content-Type: text/csv'));
      },
      schema: {
        tags: ['subscribers'],
        summary: 'Import a CSV of subscribers (streamed)',
        description:
          'A CSV body (SPEC 5, Content-Type: text/csv), read as it arrives. Answers the summary of `lastcall subscribers import --json`.',
        querystring: z.object({ dryRun: flag, strict: flag }),
        headers: idempotencyHeaders,
        body: z.string().describe('CSV text').meta({ contentType: 'text/csv' }),
        response: { 200: importSummary, ...problems(403, 415, 422) },
      },
    },
    async (request) =>
      imports.importFile({
        file: request.body as unknown as Readable,
        now: now(),
        dryRun: request.query.dryRun,
        strict: request.query.strict,
      }),
  );

  app.get(
    '/subscribers',
    {
      schema: {
        tags: ['subscribers'],
        summary: 'Subscribers in keyset pages',
        querystring: pageQuery,
        response: { 200: page(listItem), ...problems(422) },
      },
    },
    async (request) => listSubscribers(opts.db, request.query),
  );

  app.get(
    '/subscribers/:key',
    {
      schema: {
        tags: ['subscribers'],
        summary: 'One subscriber with consent events and deliveries',
        params: keyParams,
        response: { 200: profile, ...problems(404, 422) },
      },
    },
    async (request) => subscriberProfile(opts.db, parseSubscriberKey(request.params.key)),
  );

  app.delete(
    '/subscribers/:key',
    {
      schema: {
        tags: ['subscribers'],
        summary: 'Erase a subscriber (a hashed tombstone blocks re-import)',
        params: keyParams,
        headers: idempotencyHeaders,
        response: { 200: erasure, ...problems(403, 404, 422) },
      },
    },
    async (request) => erasures.forget(parseSubscriberKey(request.params.key), now()),
  );
};
