// The WhatsApp channel: approved template messages through the Cloud API with whatsapp-api-js.
// The library returns Graph errors as data (it throws only on network errors, timeouts and
// non-JSON replies) and hides the HTTP status; `captureResponse` + the wrapped fetch give each
// send its own status and Retry-After, and every way a send can end becomes a SendOutcome.
import { WhatsAppAPI } from 'whatsapp-api-js';
import {
  BodyComponent,
  BodyParameter,
  Language,
  SkipButtonComponent,
  Template,
  URLComponent,
} from 'whatsapp-api-js/messages';
import {
  createTemplate,
  listTemplates,
  type NumberLimits,
  numberLimits,
  type PhoneNumberInfo,
  phoneNumberInfo,
  type TemplateDefinition,
  type TemplateInfo,
} from './graph-admin.ts';
import { captureResponse, createGraphFetch } from './graph-fetch.ts';
import { parseRetryAfter, type SendOutcome } from './outcome.ts';
import { classifyGraphError, classifyHttpStatus, classifyThrown, isGraphError } from './whatsapp-errors.ts';

export interface WhatsAppChannelOptions {
  token: string;
  phoneNumberId: string;
  appSecret: string;
  /** Graph API base URL: https://graph.facebook.com, or a local fake. */
  apiUrl: string;
  apiVersion: string;
  /** Per request, headers and body. Default 10 s. */
  timeoutMs?: number;
  /** WhatsApp Business Account id, needed for template management only. */
  businessAccountId?: string;
  clock?: () => Date;
}

export interface TemplateSend {
  /** E.164 phone number ("+33612345678"). */
  to?: string;
  /** Without `to`: the person's business-scoped user id, sent in `recipient` (docs/whatsapp.md). */
  userId?: string;
  templateName: string;
  /** Template language code as registered at Meta ("fr", "en_US"). */
  language: string;
  /** Values for the body's {{1}}..{{n}}, in order. */
  bodyParams: string[];
  /** The dynamic suffix of the URL button ({{1}} at the end of its URL). */
  buttonUrlParam?: string;
  /** Position of that URL button among the template's buttons. Default 0. */
  buttonIndex?: number;
  /** Comes back as biz_opaque_callback_data in status webhooks (≤ 512 bytes): the delivery id. */
  callbackData: string;
}

export class WhatsAppChannel {
  readonly api: WhatsAppAPI;
  readonly #opts: WhatsAppChannelOptions;
  readonly #clock: () => Date;

  constructor(opts: WhatsAppChannelOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? (() => new Date());
    this.api = new WhatsAppAPI({
      token: opts.token,
      appSecret: opts.appSecret,
      v: opts.apiVersion,
      ponyfill: { fetch: createGraphFetch(opts.apiUrl, opts.timeoutMs ?? 10_000) },
    });
  }

  async sendTemplate(msg: TemplateSend): Promise<SendOutcome> {
    let template: Template;
    try {
      template = buildTemplate(msg);
    } catch (err) {
      // The library refuses some payloads before sending (empty or over-long parameters).
      return { outcome: 'permanent', code: 'invalid-template-params', detail: (err as Error).message };
    }
    // The string recipient is the library's "phone" form (6.3 typings demand a bsuid in the
    // object form); digits never look like a BSUID ("CC.xxx"). A BSUID goes in the object form,
    // which puts it in `recipient`: Meta drops a message with a BSUID in `to`.
    const to = msg.to?.replace(/^\+/, '');
    const userId = msg.userId;
    if (!to && !userId)
      return {
        outcome: 'permanent',
        code: 'no-recipient',
        detail: 'neither a phone nor a business-scoped user id',
      };
    const phoneId = this.#opts.phoneNumberId;
    const result = await captureResponse(() =>
      to
        ? this.api.sendMessage(phoneId, to, template, undefined, msg.callbackData)
        : this.api.sendMessage(phoneId, { bsuid: userId as string }, template, undefined, msg.callbackData),
    );
    const now = this.#clock();
    if (!result.ok) return classifyThrown(result.error, result.meta, now, result.requestSent);
    const res = (result.value ?? {}) as {
      error?: unknown;
      messages?: { id?: unknown; message_status?: unknown }[];
    };
    const status = result.meta?.status ?? 200;
    if (isGraphError(res.error)) return classifyGraphError(res.error, result.meta, now);
    if (res.error !== undefined || status >= 300) {
      // Not a Graph error body (a proxy's or a bare server's JSON): only the status can tell.
      const detail = `HTTP ${status} without a Graph error: ${JSON.stringify(res).slice(0, 200)}`;
      return classifyHttpStatus(
        status,
        `http-${status}`,
        detail,
        parseRetryAfter(result.meta?.retryAfter, now),
      );
    }
    const id = res.messages?.[0]?.id;
    if (typeof id !== 'string') {
      // Meta may have accepted it: never resend.
      return {
        outcome: 'permanent',
        code: 'bad-response',
        detail: 'Graph answered 2xx without a message id',
      };
    }
    // Template pacing: Meta holds some messages of a new or re-categorised template while it
    // assesses the template's quality; they go out later (or never: a failed status follows).
    const held = res.messages?.[0]?.message_status === 'held_for_quality_assessment';
    return held ? { outcome: 'sent', messageId: id, held: true } : { outcome: 'sent', messageId: id };
  }

  /** Every template of the business account, all pages. */
  async listTemplates(): Promise<TemplateInfo[]> {
    return listTemplates(this.api, this.#opts.apiVersion, this.#wabaId());
  }

  async createTemplate(def: TemplateDefinition): Promise<{ id: string; status: string; category: string }> {
    return createTemplate(this.api, this.#opts.apiVersion, this.#wabaId(), def);
  }

  /** The portfolio's messaging limit tier and the number's throughput level. */
  async numberLimits(): Promise<NumberLimits> {
    return numberLimits(this.api, this.#opts.apiVersion, this.#opts.phoneNumberId);
  }

  /** The number's display form, verified name and quality rating: proves the token works. */
  async phoneNumberInfo(): Promise<PhoneNumberInfo> {
    return phoneNumberInfo(this.api, this.#opts.apiVersion, this.#opts.phoneNumberId);
  }

  #wabaId(): string {
    if (!this.#opts.businessAccountId) {
      throw new Error(
        'WHATSAPP_BUSINESS_ACCOUNT_ID is not set: template management needs the WhatsApp Business Account id',
      );
    }
    return this.#opts.businessAccountId;
  }
}

function buildTemplate(msg: TemplateSend): Template {
  const components: Array<BodyComponent | SkipButtonComponent | URLComponent> = [];
  const [first, ...rest] = msg.bodyParams;
  if (first !== undefined) {
    components.push(new BodyComponent(new BodyParameter(first), ...rest.map((p) => new BodyParameter(p))));
  }
  if (msg.buttonUrlParam !== undefined) {
    // Button indexes count the template's buttons in order; skips stand for the static ones before.
    for (let i = 0; i < (msg.buttonIndex ?? 0); i++) components.push(new SkipButtonComponent());
    components.push(new URLComponent(msg.buttonUrlParam));
  }
  return new Template(msg.templateName, new Language(msg.language), ...components);
}
