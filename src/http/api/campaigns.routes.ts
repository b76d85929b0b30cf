// /api/v1/campaigns (docs/api.md, "Routes"): as thin as the `campaign` commands. Each route parses
// its input (zod: the schemas the OpenAPI document is made from), calls the service the CLI calls
// and maps the result to the JSON the CLI prints with --json.
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { detailsJson, statsJson, summaryJson } from '../../campaigns/campaign.json.ts';
import { campaignFileSchema, SLUG } from '../../campaigns/campaign.schema.ts';
import { DELIVERY_STATUSES } from '../../campaigns/deliveries.query.ts';
import { yamlProblems } from '../../campaigns/input-problems.ts';
import { tzDataVersion } from '../../planning/tz-data.ts';
import { InvalidInput } from '../../shared/errors.ts';
import { instantOf } from '../../subscribers/subscriber.schema.ts';
import type { ApiOptions } from './api.plugin.ts';
import { delivery, details, lifecycleResult, listItem, saveResult, stats } from './campaigns.schemas.ts';
import { idempotencyHeaders, page, pageQuery, problems } from './schemas.ts';

const idParams = z.object({ id: z.string().regex(SLUG, 'must be a campaign id (a slug)') });

/** A campaign file in YAML: parsed here so that its syntax errors keep their line numbers. */
function yamlBody(text: string): unknown {
  const doc = parseDocument(text.replace(/^\uFEFF/, ''), { prettyErrors: true });
  if (doc.errors.length > 0) throw new InvalidInput('the campaign file is not valid YAML', yamlProblems(doc));
  return doc.toJS({ maxAliasCount: 100 });
}

export const campaignRoutes: FastifyPluginAsyncZod<ApiOptions> = async (app, opts) => {
  const { campaigns, activity } = opts.services;
  const now = () => opts.clock.now();
  app.addContentTypeParser(
    ['application/yaml', 'application/x-yaml', 'text/yaml'],
    { parseAs: 'string', bodyLimit: 1024 * 1024 },
    (_request, text, done) => {
      try {
        done(null, yamlBody(String(text)));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );

  app.get(
    '/campaigns',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'List campaigns',
        response: { 200: z.array(listItem), ...problems() },
      },
    },
    async () =>
      (await activity.overview(now())).map(({ record, progress }) => ({
        ...summaryJson(record),
        counts: progress ?? null,
      })),
  );

  app.put(
    '/campaigns/:id',
    {
      bodyLimit: 1024 * 1024,
      schema: {
        tags: ['campaigns'],
        summary: 'Create or update a campaign',
        description:
          'The campaign file as JSON, or as YAML with Content-Type: application/yaml. Same rules as `lastcall campaign create`; the body `id` must be the path id.',
        params: idParams,
        headers: idempotencyHeaders,
        body: campaignFileSchema,
        response: { 200: saveResult, 201: saveResult, ...problems(400, 403, 404, 409, 413, 415, 422) },
      },
    },
    async (request, reply) => {
      const body = request.body as { id?: unknown };
      if (body.id !== request.params.id)
        throw new InvalidInput('the campaign file does not match the path', [
          {
            path: 'id',
            value: JSON.stringify(body.id),
            rule: `must be the id in the path ("${request.params.id}")`,
          },
        ]);
      const saved = await campaigns.createFromDocument(request.body, 'request body', now());
      return reply.code(saved.outcome === 'created' ? 201 : 200).send(saved);
    },
  );

  app.get(
    '/campaigns/:id',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'One campaign with its steps and slots',
        params: idParams,
        response: { 200: details, ...problems(404, 422) },
      },
    },
    async (request) => detailsJson(await campaigns.show(request.params.id)),
  );

  for (const action of ['start', 'pause', 'resume', 'cancel'] as const) {
    app.post(
      `/campaigns/:id/${action}`,
      {
        schema: {
          tags: ['campaigns'],
          summary: `${action[0]?.toUpperCase()}${action.slice(1)} a campaign`,
          description: `As \`lastcall campaign ${action} ID --json\`. 409 when the campaign's state (or a passed deadline) refuses it.`,
          params: idParams,
          headers: idempotencyHeaders,
          response: { 200: lifecycleResult, ...problems(403, 404, 409, 422) },
        },
      },
      async (request) => campaigns[action](request.params.id, now()),
    );
  }

  app.get(
    '/campaigns/:id/stats',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'Per step × channel: planned, queued, sent, delivered, read, failed, skipped',
        params: idParams,
        response: { 200: stats, ...problems(404, 422) },
      },
    },
    async (request) => statsJson(await campaigns.stats(request.params.id, now())),
  );

  app.get(
    '/campaigns/:id/deliveries',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'Deliveries of a campaign, in keyset pages',
        params: idParams,
        querystring: pageQuery.extend({
          status: z.enum(DELIVERY_STATUSES).optional(),
          cursor: z
            .string()
            .regex(/^\d{1,15}$/, 'must be the nextCursor of a previous page')
            .optional(),
        }),
        response: { 200: page(delivery), ...problems(404, 422) },
      },
    },
    async (request) => {
      const { cursor, limit, status } = request.query;
      return activity.deliveries(request.params.id, {
        limit,
        ...(status ? { status } : {}),
        ...(cursor ? { cursor: Number(cursor) } : {}),
      });
    },
  );

  app.get(
    '/campaigns/:id/plan',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'Plan preview of the stored subscribers (NDJSON, the lines of `lastcall plan`)',
        params: idParams,
        querystring: z.object({
          now: z
            .string()
            .refine((t) => Number.isFinite(instantOf(t)), {
              error: 'must be an ISO 8601 instant with an offset or Z, like 2025-12-01T00:00:00Z',
            })
            .optional()
            .describe('plan as if now were this instant; default: now'),
        }),
        response: {
          200: {
            description:
              'one JSON object a line: subscriber, step, channel, sendAt, local, zone, kind (and country, holiday for a campaign with window.holidays); the Lastcall-Tz-Data header names the tzdata release it is planned with',
            content: { 'application/x-ndjson': { schema: z.string() } },
          },
          ...problems(404, 422),
        },
      },
    },
    async (request, reply) => {
      const at = request.query.now === undefined ? now() : instantOf(request.query.now);
      const lines = await activity.planPreview(request.params.id, at);
      // The lines are a contract: the tz data they are planned with goes in a header (docs/timezones.md).
      return reply
        .type('application/x-ndjson')
        .header('lastcall-tz-data', tzDataVersion())
        .send(Readable.from(lines) as never);
    },
  );
};
