// GET /help: the page every reminder links to (email and WhatsApp), with what changes on
// 15 January 2026 and how to export a chat. Public and the same for everyone; the language is
// `?lang=`, else Accept-Language, else French.
import type { FastifyPluginAsync } from 'fastify';
import { HELP, type HelpSection } from '../help.content.ts';
import { MESSAGES, negotiateLocale } from '../i18n.ts';
import { html } from '../views/html.ts';
import { page } from '../views/layout.ts';

interface HelpRequest {
  Querystring: { lang?: string };
}

function section(s: HelpSection) {
  return html`<section>
<h2>${s.heading}</h2>
${s.paragraphs.map((p) => html`<p>${p}</p>`)}
${s.steps && html`<ol>${s.steps.map((step) => html`<li>${step}</li>`)}</ol>`}
</section>`;
}

export const helpRoutes: FastifyPluginAsync = async (app) => {
  app.get<HelpRequest>('/help', async (request, reply) => {
    const locale = negotiateLocale(request.query.lang, request.headers['accept-language']);
    const m = MESSAGES[locale];
    const help = HELP[locale];
    const body = html`<h1>${help.title}</h1>
<p class="intro">${help.intro}</p>
${help.sections.map(section)}`;
    // The answer depends on Accept-Language when no ?lang= is given: a shared cache must know.
    return reply
      .type('text/html; charset=utf-8')
      .header('vary', 'Accept-Language')
      .header('cache-control', 'public, max-age=300')
      .send(page(m, { title: help.title, body, switchHref: `/help?lang=${m.switchTo.lang}` }));
  });
};
