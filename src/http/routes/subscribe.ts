// GET and POST /subscribe (SPEC 7): the form, then validation, the sign-up and the confirmation
// email. Only application/x-www-form-urlencoded is parsed here (anything else is a 415 page);
// the body limit and the per-IP rate limit are set where the plugin is registered.
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Clock } from '../../shared/clock.ts';
import { SignUpConflictError, type SubscriptionService } from '../../subscribers/subscription.service.ts';
import type { ConfirmationMailer, MailOutcome } from '../confirmation-email.ts';
import { localeOfRequest, sendErrorPage } from '../error-pages.ts';
import { CONSENT_VERSION, type Locale, MESSAGES, negotiateLocale, phoneCountry } from '../i18n.ts';
import { checkForm, isBot, readForm, WEB_SOURCE } from '../signup-form.ts';
import { messagePage } from '../views/layout.ts';
import {
  EMPTY_FORM,
  type FieldErrors,
  type FormValues,
  renderSubscribeForm,
} from '../views/subscribe.view.ts';

export interface SubscribeRoutesOptions {
  readonly subscriptions: Pick<SubscriptionService, 'signUp'>;
  readonly mailer: ConfirmationMailer;
  readonly clock: Clock;
  /** Who sends the reminders, named in the consent text. */
  readonly senderName: string;
  readonly consentRecordIp: boolean;
  readonly rateLimit: { readonly max: number; readonly timeWindowMs: number };
}

const HTML = 'text/html; charset=utf-8';

export const subscribeRoutes: FastifyPluginAsync<SubscribeRoutesOptions> = async (app, opts) => {
  app.removeAllContentTypeParsers();
  await app.register(formbody);

  const form = (
    reply: FastifyReply,
    locale: Locale,
    values: FormValues,
    errors: FieldErrors,
    status: number,
  ) => {
    const m = MESSAGES[locale];
    const consentText = m.form.consent.text(opts.senderName);
    return reply.code(status).type(HTML).send(renderSubscribeForm({ m, values, errors, consentText }));
  };

  const success = (
    reply: FastifyReply,
    locale: Locale,
    channels: readonly string[],
    mail: MailOutcome | 'active' | 'none',
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

  app.get('/subscribe', async (request, reply) => form(reply, localeOfRequest(request), EMPTY_FORM, {}, 200));

  app.post(
    '/subscribe',
    { config: { rateLimit: { max: opts.rateLimit.max, timeWindow: opts.rateLimit.timeWindowMs } } },
    async (request, reply) => {
      // A request with no body at all reaches here unparsed: it is not a form either.
      if (!String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
        return sendErrorPage(request, reply, 415);
      const body = request.body;
      const accept = request.headers['accept-language'];
      // The hidden `lang` field carries the page's language; a bad one falls back to the browser's.
      const locale = negotiateLocale((body as Record<string, unknown> | undefined)?.lang, accept);
      const values = readForm(body);
      const now = opts.clock.now();
      if (isBot(body)) {
        request.log.info('honeypot filled: sign-up ignored');
        return success(reply, locale, values.channels, values.channels.includes('email') ? 'sent' : 'none');
      }
      const m = MESSAGES[locale];
      const checked = checkForm(values, m, locale, phoneCountry(accept), now);
      if (!checked.ok) return form(reply, locale, values, checked.errors, 400);

      const userAgent = request.headers['user-agent'];
      let result: Awaited<ReturnType<SubscribeRoutesOptions['subscriptions']['signUp']>>;
      try {
        result = await opts.subscriptions.signUp(
          checked.input,
          {
            source: WEB_SOURCE,
            consentVersion: CONSENT_VERSION,
            consentText: m.form.consent.text(opts.senderName),
            pageLocale: locale,
            ...(opts.consentRecordIp ? { ip: request.ip, ...(userAgent ? { userAgent } : {}) } : {}),
          },
          now,
        );
      } catch (error) {
        if (error instanceof SignUpConflictError)
          return form(reply, locale, values, { email: m.errors.conflict }, 400);
        throw error;
      }
      request.log.info({ subscriberId: result.subscriberId, created: result.created }, 'signed up');
      const mail = result.confirmation
        ? await opts.mailer.send(result.confirmation, now)
        : result.channels.email === 'active' || result.activeChannels.includes('email')
          ? 'active'
          : 'none';
      return success(reply, locale, checked.input.channels, mail);
    },
  );
};
