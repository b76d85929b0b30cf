// /api/v1/subscribers (docs/api.md, "Routes"): as thin as the `subscribers` commands, over the same
// services: upsert one (the import's rules, upsert.service.ts), import a CSV body streamed into the
// import service (never read whole), keyset pages, one profile by id, phone or email, erasure.
import type { Readable } from 'node:stream';
import type { FastifySchemaCompiler } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { mergeProblems, valueAt, zodProblems } from '../../campaigns/input-problems.ts';
import { InvalidInput } from '../../shared/errors.ts';
import { SUBSCRIBER_ID, SUBSCRIBER_ID_RULE } from '../../subscribers/subscriber.schema.ts';
import { parseSubscriberKey } from '../../subscribers/subscriber-key.ts';
import type { SubscriberFields } from '../../subscribers/upsert.service.ts';
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
import { apiValidatorCompiler } from './zod-validation.ts';

/** The body is left to the handler (its types and rules in one answer); the rest as usual. */
const bodyChecks: FastifySchemaCompiler<z.ZodType> = (route) =>
  route.httpPart === 'body' ? (data) => ({ value: data }) : apiValidatorCompiler(route);

/** Whatever of a body that failed its types can still be read as the import's text fields. */
function looseFields(raw: unknown): SubscriberFields {
  const body = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const text = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : undefined);
  const list = (key: string) =>
    Array.isArray(body[key]) ? (body[key] as unknown[]).filter((v) => typeof v === 'string') : [];
  const attributes = body.attributes !== null && typeof body.attributes === 'object' ? body.attributes : {};
  return {
    ...(text('name') === undefined ? {} : { name: text('name') }),
    ...(text('phone') === undefined ? {} : { phone: text('phone') }),
    ...(text('email') === undefined ? {} : { email: text('email') }),
    ...(text('assistant') === undefined ? {} : { assistant: text('assistant') }),
    locale: text('locale') ?? '',
    timezone: text('timezone') ?? '',
    channels: list('channels'),
    consent_at: text('consent_at') ?? '',
    consent_source: text('consent_source') ?? '',
    tags: list('tags'),
    attributes: Object.fromEntries(
      Object.entries(attributes as Record<string, unknown>).filter(([, v]) => typeof v === 'string'),
    ) as Record<string, string>,
  };
}

const idParams = z.object({
  id: z.string().regex(SUBSCRIBER_ID, SUBSCRIBER_ID_RULE),
});
const keyParams = z.object({ key: z.string().min(1).describe('subscriber id, phone (E.164) or email') });
const flag = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => v === 'true' || v === '1');

export const subscriberRoutes: FastifyPluginAsyncZod<ApiOptions> = async (app, opts) => {
  const { upserts, imports, erasures, directory } = opts.services;
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
          'The subscribers CSV columns as JSON fields; the rules of `lastcall subscribers import` (consent evidence required).',
        params: idParams,
        headers: idempotencyHeaders,
        body: subscriberBody,
        response: { 200: upsertResult, 201: upsertResult, ...problems(400, 403, 413, 415, 422) },
      },
      // Fastify types a route's compiler by its whole schema; this one reads only its parts.
      validatorCompiler: bodyChecks as never,
    },
    async (request, reply) => {
      const id = request.params.id;
      // The body passed unchecked (bodyChecks): its types and the import's rules answer together.
      const raw: unknown = request.body;
      const checked = subscriberBody.safeParse(raw);
      if (!checked.success) {
        const loose = looseFields(raw);
        const typeProblems = zodProblems(subscriberBody, checked.error, raw);
        const rowProblems = await upserts.problems(id, loose, now());
        // A value sent with the wrong type is named by its type; a missing one in the import's words.
        const sentWrong = typeProblems.filter((p) => valueAt(raw, p.path.split('.')) !== undefined);
        throw new InvalidInput(
          `subscriber ${id} is invalid`,
          mergeProblems(sentWrong, rowProblems, typeProblems),
        );
      }
      const { id: bodyId, ...fields } = checked.data;
      if (bodyId !== undefined && bodyId !== id)
        throw new InvalidInput('the subscriber does not match the path', [
          { path: 'id', rule: `must be the id in the path ("${id}") or left out` },
        ]);
      const result = await upserts.upsert(id, fields, now());
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
          'A subscribers CSV body (Content-Type: text/csv), read as it arrives. Answers the summary of `lastcall subscribers import --json`; with strict=true, a bad row makes it 422, each bad row named by its line, nothing written.',
        querystring: z.object({ dryRun: flag, strict: flag }),
        headers: idempotencyHeaders,
        body: z.string().describe('CSV text').meta({ contentType: 'text/csv' }),
        response: { 200: importSummary, ...problems(403, 415, 422) },
      },
    },
    async (request) => {
      const summary = await imports.importFile({
        file: request.body as unknown as Readable,
        now: now(),
        dryRun: request.query.dryRun,
        strict: request.query.strict,
      });
      // Strict and refused: an error, as the CLI's exit code says, each bad row by its line.
      if (summary.strict && summary.bad > 0)
        throw new InvalidInput(
          `the import was refused: ${summary.bad} bad row${summary.bad === 1 ? '' : 's'} and strict=true, nothing was written`,
          summary.badRows.flatMap((row) =>
            row.problems.map((p) => ({ ...p, path: `line ${row.line}: ${p.path}` })),
          ),
        );
      return summary;
    },
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
    async (request) => directory.list(request.query),
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
    async (request) => directory.profile(parseSubscriberKey(request.params.key)),
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
