// Campaign pages: the list, one campaign, the confirmation of a lifecycle action and the action
// itself (one call to the campaign service the CLI calls; the page after it says what happened).
import type { FastifyPluginAsync } from 'fastify';
import { actionsAllowed, type CampaignAction } from '../../campaigns/campaign.service.ts';
import { NotFound } from '../../shared/errors.ts';
import type { ConsoleOptions } from './console.plugin.ts';
import { sendHtml, viewContext } from './context.ts';
import { actionNotice, campaignPage, confirmActionPage } from './views/campaign.view.ts';
import { campaignsPage } from './views/campaigns.view.ts';

const ACTIONS: readonly CampaignAction[] = ['start', 'pause', 'resume', 'cancel'];
const isAction = (value: string): value is CampaignAction => (ACTIONS as readonly string[]).includes(value);

export const consoleCampaignRoutes: FastifyPluginAsync<ConsoleOptions> = async (app, opts) => {
  const { campaigns, activity } = opts.services;
  const now = () => opts.clock.now();

  app.get('/console/campaigns', async (request, reply) =>
    sendHtml(reply, campaignsPage(viewContext(request, reply), await activity.overview(now()))),
  );

  app.get('/console/campaigns/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const query = request.query as { done?: string; reach?: string; changed?: string };
    const view = await activity.campaignView(id, now());
    const ctx = viewContext(request, reply);
    const text = query.done
      ? actionNotice(ctx, query.done, Number(query.reach), query.changed !== 'no')
      : undefined;
    // A campaign still to send: does its plan fit WhatsApp's messaging limit? (docs/whatsapp.md)
    const limit =
      view.record.state === 'draft' || view.record.state === 'running' || view.record.state === 'paused'
        ? await campaigns.messagingLimit(id, now())
        : undefined;
    const templates = await campaigns.templateAlerts(id);
    return sendHtml(
      reply,
      campaignPage(
        ctx,
        view.record,
        view.stats,
        text ? { text, kind: 'status' } : undefined,
        limit,
        templates,
      ),
    );
  });

  app.get('/console/campaigns/:id/confirm/:action', async (request, reply) => {
    const { id, action } = request.params as { id: string; action: string };
    const view = await campaigns.show(id);
    if (!isAction(action) || !actionsAllowed(view.state).includes(action))
      throw new NotFound('action', action);
    return sendHtml(reply, confirmActionPage(viewContext(request, reply), view, action));
  });

  app.post('/console/campaigns/:id/:action', async (request, reply) => {
    const { id, action } = request.params as { id: string; action: string };
    if (!isAction(action)) throw new NotFound('action', action);
    const result = await campaigns[action](id, now());
    const changed = 'started' in result ? result.started : result.changed;
    const reach = 'reach' in result ? `&reach=${result.reach}` : '';
    return reply.redirect(
      `/console/campaigns/${encodeURIComponent(id)}?done=${action}${reach}&changed=${changed ? 'yes' : 'no'}`,
      303,
    );
  });
};
