// GET /help: the page every reminder links to (email and WhatsApp). Its facts come from the
// campaign (`?campaign=<id>`, else the first open for sign-up): its name, its deadline in the
// visitor's zone (or that it has passed, and when), and its reminders; then the fixed advice of
// help.content.ts. The language is `?lang=`, else Accept-Language, else French.
import type { FastifyPluginAsync } from 'fastify';
import type { CampaignPage, SignUpPages } from '../../campaigns/signup-pages.service.ts';
import type { Clock } from '../../shared/clock.ts';
import { HELP, type HelpSection } from '../help.content.ts';
import { MESSAGES, type Messages, negotiateLocale } from '../i18n.ts';
import { html } from '../views/html.ts';
import { page } from '../views/layout.ts';
import { deadlineTime } from '../views/subscribe.view.ts';

export interface HelpRoutesOptions {
  readonly pages: SignUpPages;
  readonly clock: Clock;
}

interface HelpRequest {
  Querystring: { lang?: string; campaign?: string };
}

function section(s: HelpSection) {
  return html`<section>
<h2>${s.heading}</h2>
${s.paragraphs.map((p) => html`<p>${p}</p>`)}
${s.steps && html`<ol>${s.steps.map((step) => html`<li>${step}</li>`)}</ol>`}
</section>`;
}

function facts(c: CampaignPage, m: Messages) {
  const when = deadlineTime(c.deadline, m);
  return html`${c.closed ? html`<p class="deadline passed"><strong>${m.help.passed}</strong> ${when}. ${m.help.passedNote}</p>` : html`<p class="deadline"><strong>${m.help.deadlineIs}</strong> ${when}</p>`}
${!c.closed && c.signup && html`<p><a href="/subscribe/${encodeURIComponent(c.id)}?lang=${m.lang}">${m.help.signUp}</a></p>`}
${c.steps.length > 0 && !c.closed && html`<h2>${m.help.steps}</h2><ul>${c.steps.map((s) => html`<li><strong>${m.campaign.before(s.before)}</strong>${s.says && html`${m.colon}${m.quote(s.says)}`}</li>`)}</ul>`}`;
}

export const helpRoutes: FastifyPluginAsync<HelpRoutesOptions> = async (app, opts) => {
  app.get<HelpRequest>('/help', async (request, reply) => {
    const locale = negotiateLocale(request.query.lang, request.headers['accept-language']);
    const m = MESSAGES[locale];
    const help = HELP[locale];
    const id = typeof request.query.campaign === 'string' ? request.query.campaign : undefined;
    const campaign = await opts.pages.helpFacts(id, locale, opts.clock.now());
    const title = campaign?.name ?? help.title;
    const body = html`<h1>${title}</h1>
${campaign && facts(campaign, m)}
<p class="intro">${help.intro}</p>
${help.sections.map(section)}`;
    const self = `/help?${id === undefined ? '' : `campaign=${encodeURIComponent(id)}&`}lang=${m.switchTo.lang}`;
    // The answer depends on Accept-Language when no ?lang= is given: a shared cache must know.
    return reply
      .type('text/html; charset=utf-8')
      .header('vary', 'Accept-Language')
      .header('cache-control', 'public, max-age=60')
      .send(page(m, { title, body, switchHref: self }));
  });
};
