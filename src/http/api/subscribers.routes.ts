// /api/v1/subscribers (SPEC 9): as thin as the `subscribers` commands, over the same services:
// upsert one (the import's rules, upsert.service.ts), import a CSV body streamed into the import
// service (never read whole), keyset pages, one profile by id, phone or email, erasure.
import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { InvalidInput } from '../../shared/errors.ts';
import { parseSubscriberKey } from '../../subscribers/subscriber-key.ts';
import { listSubscribers } from '../../subscribers/subscriber-list.ts';
import { subscriberProfile } from '../../subscribers/subscriber-profile.ts';
import { acceptCsvBodies, isCsv } from '../csv-body.ts';
import { problem, sendProblem } from '../problems.ts';
import type { ApiOptions } from './api.plugin.ts';
import { idempotencyHeaders, page, pageQuery, problems } from './schemas.ts';
import {
  erasure,
  importSummary,
  listItem,
  profile,
  subscriberBody,
  upsertResult,
} from './subscribers.schemas.ts';

const idParams = z.object({
  id: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1–64 letters, digits, . _ : -'),
});
const keyParams = z.object({ key: z.string().min(1).describe('subscriber id, phone (E.164) or email') });
const flag = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => v === 'true' || v === '1');

export const subscriberRoutes: FastifyPluginAsyncZod<ApiOptions> = async (app, opts) => {
  const { upserts, imports, erasures } = opts.services;
  const now = () => opts.clock.now();
  // The CSV body is a stream the import reads as it arrives (csv-body.ts, shared with the console).
  acceptCsvBodies(app);

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
        if (!isCsv(request.headers['content-type']))
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
