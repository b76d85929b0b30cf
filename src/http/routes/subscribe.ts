// The sign-up pages (docs/subscribers.md, "Public pages and links"): GET /subscribe lists the
// campaigns open for sign-up (the general form when none is but a campaign for everyone is under
// way; a page saying nothing is open when not even that: docs/getting-started.md); GET
// /subscribe/:campaignId is one campaign's page (name, deadline, what its reminders say) with the
// form; POST to either validates, signs up (a campaign page's sign-up joins its audience) through
// the subscription service, which also decides the channels offered, the consent text and the
// confirmation email. "/" leads to /subscribe. Only application/x-www-form-urlencoded is parsed
// here (anything else is a 415 page); the body limit and the per-IP rate limit are set where the
// plugin is registered.
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { CampaignPage, SignUpPages, SignUpTarget } from '../../campaigns/signup-pages.service.ts';
import type { Clock } from '../../shared/clock.ts';
import { StateConflict } from '../../shared/errors.ts';
import type { Locale } from '../../shared/vocabulary.ts';
import {
  type PageSignUpResult,
  SignUpConflictError,
  type SubscriptionService,
} from '../../subscribers/subscription.service.ts';
import { localeOfRequest, sendErrorPage } from '../error-pages.ts';
import { MESSAGES, type Messages, negotiateLocale, phoneCountry } from '../i18n.ts';
import { checkForm, isBot, readForm } from '../signup-form.ts';
import { html } from '../views/html.ts';
import { messagePage, page } from '../views/layout.ts';
import {
  deadlineTime,
  EMPTY_FORM,
  type FieldErrors,
  type FormValues,
  renderSubscribeForm,
} from '../views/subscribe.view.ts';

export interface SubscribeRoutesOptions {
  readonly subscriptions: Pick<SubscriptionService, 'signUpFromPage' | 'channelsOffered' | 'consentText'>;
  readonly pages: SignUpPages;
  readonly clock: Clock;
  readonly rateLimit: { readonly max: number; readonly timeWindowMs: number };
}

interface CampaignParams {
  Params: { campaignId: string };
}

const HTML = 'text/html; charset=utf-8';

export const subscribeRoutes: FastifyPluginAsync<SubscribeRoutesOptions> = async (app, opts) => {
  app.removeAllContentTypeParsers();
  await app.register(formbody);

  const { subscriptions } = opts;

  const form = (
    reply: FastifyReply,
    locale: Locale,
    values: FormValues,
    errors: FieldErrors,
    status: number,
    campaign?: CampaignPage,
  ) => {
    const m = MESSAGES[locale];
    const channels = subscriptions.channelsOffered(campaign);
    // Nothing to sign up for: a page that says so (the service itself is up: /healthz).
    if (channels.length === 0)
      return reply
        .code(200)
        .type(HTML)
        .send(messagePage(m, m.campaign.noneTitle, [m.campaign.noChannels]));
    const view = { m, values, errors, consentText: subscriptions.consentText(locale, channels), channels };
    return reply
      .code(status)
      .type(HTML)
      .send(renderSubscribeForm(campaign ? { ...view, campaign } : view));
  };

  const closed = (reply: FastifyReply, m: Messages, name: string, deadline: number) =>
    reply
      .code(410)
      .type(HTML)
      .send(
        page(m, {
          title: m.campaign.closedTitle,
          body: html`<h1>${m.campaign.closedTitle}</h1>
<p><strong>${name}</strong> · ${m.campaign.deadline} ${deadlineTime(deadline, m)}</p>
<p>${m.campaign.closedBody}</p>
<p><a href="/subscribe?lang=${m.lang}">${m.campaign.listTitle}</a></p>`,
        }),
      );

  // Nothing a sign-up could join: said so, and nothing offered (no form, no mail).
  const nothingOpen = (reply: FastifyReply, m: Messages, status: number) =>
    reply
      .code(status)
      .type(HTML)
      .send(
        page(m, {
          title: m.campaign.noneTitle,
          body: html`<h1>${m.campaign.noneTitle}</h1>
<p>${m.campaign.noneBody}</p>`,
          switchHref: `/subscribe?lang=${m.switchTo.lang}`,
        }),
      );

  const success = (
    reply: FastifyReply,
    locale: Locale,
    channels: readonly string[],
    mail: PageSignUpResult['mail'],
  ) => {
    const m = MESSAGES[locale];
    const lines = [
      ...(channels.includes('whatsapp') ? [m.success.whatsapp] : []),
      ...(mail === 'sent' ? [m.success.checkEmail] : []),
      ...(mail === 'failed' || mail === 'skipped' ? [m.success.emailNotSent] : []),
      ...(mail === 'active' ? [m.success.emailActive] : []),
    ];
    return reply
      .code(200)
      .type(HTML)
      .send(messagePage(m, m.success.title, lines));
  };

  const signUp = async (request: FastifyRequest, reply: FastifyReply, campaignId: string | undefined) => {
    // A request with no body at all reaches here unparsed: it is not a form either.
    if (!String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
      return sendErrorPage(request, reply, 415);
    const body = request.body;
    const accept = request.headers['accept-language'];
    // The hidden `lang` field carries the page's language; a bad one falls back to the browser's.
    const locale = negotiateLocale((body as Record<string, unknown> | undefined)?.lang, accept);
    const m = MESSAGES[locale];
    const values = readForm(body);
    const now = opts.clock.now();
    let target: SignUpTarget | undefined;
    if (campaignId !== undefined) {
      try {
        target = await opts.pages.target(campaignId, now);
      } catch (error) {
        if (!(error instanceof StateConflict)) throw error;
        const p = await opts.pages.page(campaignId, locale, now);
        return closed(reply, m, p.name, p.deadline);
      }
    }
    if (campaignId === undefined && !(await opts.pages.generalOpen(now))) return nothingOpen(reply, m, 410);
    if (isBot(body)) {
      request.log.info('honeypot filled: sign-up ignored');
      return success(reply, locale, values.channels, values.channels.includes('email') ? 'sent' : 'none');
    }
    const channels = subscriptions.channelsOffered(target);
    const checked = checkForm(values, m, locale, phoneCountry(accept), now, channels);
    if (!checked.ok) {
      const campaign = campaignId === undefined ? undefined : await opts.pages.page(campaignId, locale, now);
      return form(reply, locale, values, checked.errors, 400, campaign);
    }

    const userAgent = request.headers['user-agent'];
    let result: PageSignUpResult;
    try {
      result = await subscriptions.signUpFromPage(
        checked.input,
        {
          locale,
          ...(target ? { campaign: target } : {}),
          ip: request.ip,
          ...(userAgent ? { userAgent } : {}),
        },
        now,
      );
    } catch (error) {
      if (error instanceof SignUpConflictError) {
        const campaign =
          campaignId === undefined ? undefined : await opts.pages.page(campaignId, locale, now);
        return form(reply, locale, values, { email: m.errors.conflict }, 400, campaign);
      }
      throw error;
    }
    request.log.info(
      { subscriberId: result.subscriberId, created: result.created, campaignId: target?.id },
      'signed up',
    );
    return success(reply, locale, checked.input.channels, result.mail);
  };

  const rateLimit = {
    config: { rateLimit: { max: opts.rateLimit.max, timeWindow: opts.rateLimit.timeWindowMs } },
  };

  app.get('/', async (_request, reply) => reply.redirect('/subscribe', 302));

  app.get('/subscribe', async (request, reply) => {
    const locale = localeOfRequest(request);
    const open = await opts.pages.openCampaigns(opts.clock.now());
    if (open.length === 0) {
      if (await opts.pages.generalOpen(opts.clock.now())) return form(reply, locale, EMPTY_FORM, {}, 200);
      return nothingOpen(reply, MESSAGES[locale], 200);
    }
    const m = MESSAGES[locale];
    const body = html`<h1>${m.campaign.listTitle}</h1>
<p class="intro">${m.campaign.listIntro}</p>
<ul class="campaigns">${open.map(
      (c) =>
        html`<li><a href="/subscribe/${encodeURIComponent(c.id)}?lang=${m.lang}">${c.name}</a><br><span class="hint">${m.campaign.deadline} ${deadlineTime(c.deadline, m)}</span></li>`,
    )}</ul>`;
    return reply
      .type(HTML)
      .send(page(m, { title: m.campaign.listTitle, body, switchHref: `/subscribe?lang=${m.switchTo.lang}` }));
  });

  app.get<CampaignParams>('/subscribe/:campaignId', async (request, reply) => {
    const locale = localeOfRequest(request);
    const campaign = await opts.pages.page(request.params.campaignId, locale, opts.clock.now());
    if (campaign.closed) return closed(reply, MESSAGES[locale], campaign.name, campaign.deadline);
    return form(reply, locale, EMPTY_FORM, {}, 200, campaign);
  });

  app.post('/subscribe', rateLimit, async (request, reply) => signUp(request, reply, undefined));
  app.post<CampaignParams>('/subscribe/:campaignId', rateLimit, async (request, reply) =>
    signUp(request, reply, request.params.campaignId),
  );
};
