// /api/v1/campaigns/{id}/activity and /plan-hours: the numbers behind the console's two charts
// (sends per minute by channel over the last hour; sends per hour ahead by zone, with the
// deadline). Read-only and cheap enough to poll: aggregates from indexes (activity.service.ts).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { statsJson } from '../../campaigns/campaign.json.ts';
import { SLUG } from '../../campaigns/campaign.schema.ts';
import type { ApiOptions } from './api.plugin.ts';
import { stats } from './campaigns.schemas.ts';
import { problems } from './schemas.ts';

const idParams = z.object({ id: z.string().regex(SLUG, 'must be a campaign id (a slug)') });
const iso = (instant: number) => new Date(instant).toISOString();
const counts = z.array(z.number().int()).readonly();

const activity = z
  .object({
    minutes: z.array(z.string()).describe('the start of each minute, UTC, oldest first'),
    byChannel: z.object({ whatsapp: counts, email: counts }),
  })
  .meta({ id: 'CampaignActivity' });

const planHours = z
  .object({
    deadline: z.string(),
    hours: z.array(z.string()).describe('the start of each hour, UTC, from the current one'),
    zones: z.array(z.object({ zone: z.string(), sends: counts })).readonly(),
    total: z.number().int(),
  })
  .meta({ id: 'CampaignPlanHours' });

export const campaignActivityRoutes: FastifyPluginAsyncZod<ApiOptions> = async (app, opts) => {
  const activityService = opts.services.activity;
  const now = () => opts.clock.now();

  app.get(
    '/campaigns/:id/live-stats',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'The stats of /stats for a page that polls them',
        description:
          'The same figures as GET /campaigns/{id}/stats, exact and cheap: both read counters kept with every delivery status change, and what slots not yet fanned out still expect from the audience each was planned for.',
        params: idParams,
        response: { 200: stats, ...problems(404, 422) },
      },
    },
    async (request) => statsJson(await activityService.liveStats(request.params.id, now())),
  );

  app.get(
    '/campaigns/:id/activity',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'Sends per minute by channel over the last hour',
        params: idParams,
        response: { 200: activity, ...problems(404, 422) },
      },
    },
    async (request) => {
      const result = await activityService.sendsPerMinute(request.params.id, now());
      return { minutes: result.minutes.map(iso), byChannel: result.byChannel };
    },
  );

  app.get(
    '/campaigns/:id/plan-hours',
    {
      schema: {
        tags: ['campaigns'],
        summary: 'Sends per hour ahead, by time zone (the busiest zones, the rest as "other")',
        params: idParams,
        response: { 200: planHours, ...problems(404, 422) },
      },
    },
    async (request) => {
      const plan = await activityService.planByHour(request.params.id, now());
      return { ...plan, deadline: iso(plan.deadline), hours: plan.hours.map(iso) };
    },
  );
};
