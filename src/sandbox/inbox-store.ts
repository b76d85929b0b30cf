// What the sandbox's inbox shows: every message the fake Graph API accepted, as the recipient's
// phone would display it, and every reply typed in the inbox, grouped into one conversation per
// recipient. Statuses come from the status webhooks the sandbox posted to Lastcall, so the ticks
// show what Lastcall was told, and a webhook Lastcall refused is flagged on its message.

import type { SentMessage } from './graph-messages.ts';
import type { WebhookDelivery } from './graph-status-emitter.ts';
import { placeholders, type TemplateDef } from './graph-templates.ts';
import type { CaughtMail } from './mail-catcher.ts';

export type Ticks = 'accepted' | 'sent' | 'delivered' | 'read' | 'failed';

export interface OutgoingView {
  readonly direction: 'out';
  readonly id: string;
  readonly at: number;
  readonly template?: { readonly name: string; readonly language: string };
  readonly header?: string;
  readonly body: string;
  readonly footer?: string;
  readonly buttons: readonly { readonly text: string; readonly url?: string }[];
  readonly status: Ticks;
  /** Set when a status webhook did not reach Lastcall or was refused by it. */
  readonly webhookProblem?: string;
}

export interface IncomingView {
  readonly direction: 'in';
  readonly id: string;
  readonly at: number;
  readonly text: string;
  /** Lastcall's answer to the signed webhook: pending until it replies. */
  readonly delivery: { readonly httpStatus?: number; readonly error?: string };
}

export interface Conversation {
  readonly kind: 'whatsapp';
  /** Recipient digits, without "+", as the Graph API records them. */
  readonly digits: string;
  readonly messages: readonly (OutgoingView | IncomingView)[];
  readonly lastAt: number;
  /** Messages from Lastcall not yet shown to the inbox's reader. */
  readonly unread: number;
}

/** The mails caught for one address: the email side of the inbox. */
export interface Mailbox {
  readonly kind: 'email';
  /** The envelope recipient, lower case. */
  readonly address: string;
  readonly mails: readonly CaughtMail[];
  readonly lastAt: number;
  readonly unread: number;
}

export interface InboundReply {
  readonly id: string;
  readonly from: string;
  readonly text: string;
  readonly at: number;
  httpStatus?: number;
  error?: string;
}

const RANK: Record<string, number> = { sent: 1, delivered: 2, read: 3, failed: 4 };

export class InboxStore {
  readonly #out: { message: SentMessage; at: number }[] = [];
  readonly #in: InboundReply[] = [];
  readonly #mails: CaughtMail[] = [];
  /** Per conversation key (digits or address): how many of Lastcall's messages were shown. */
  readonly #seen = new Map<string, number>();
  #changes = 0;

  recordMail(mail: CaughtMail): void {
    this.#mails.push(mail);
    this.#changes++;
  }

  /** The reader opened the conversation `key`: what it holds now is read. */
  markSeen(key: string): void {
    const shown =
      this.#out.filter((o) => o.message.to === key).length + this.#mails.filter((m) => m.to === key).length;
    if (shown === 0 || this.#seen.get(key) === shown) return;
    this.#seen.set(key, shown);
    this.#changes++;
  }

  /** Mailboxes, the most recently active first; mails oldest first. */
  mailboxes(): Mailbox[] {
    const byAddress = new Map<string, CaughtMail[]>();
    for (const mail of this.#mails) byAddress.set(mail.to, [...(byAddress.get(mail.to) ?? []), mail]);
    return [...byAddress.entries()]
      .map(([address, mails]) => ({
        kind: 'email' as const,
        address,
        mails,
        lastAt: mails.at(-1)?.at ?? 0,
        unread: Math.max(0, mails.length - (this.#seen.get(address) ?? 0)),
      }))
      .sort((a, b) => b.lastAt - a.lastAt || a.address.localeCompare(b.address));
  }

  /** One caught mail, by id. */
  mail(id: string): CaughtMail | undefined {
    return this.#mails.find((m) => m.id === id);
  }

  recordSent(message: SentMessage, at: number): void {
    this.#out.push({ message, at });
    this.#changes++;
  }

  recordReply(reply: InboundReply): void {
    this.#in.push(reply);
    this.#changes++;
  }

  /** Call after changing a reply recorded earlier (its webhook answered). */
  touch(): void {
    this.#changes++;
  }

  /** Grows with every change the page must show; status webhooks count through `deliveries`. */
  version(deliveries: readonly WebhookDelivery[]): number {
    return this.#changes + deliveries.length;
  }

  /** Conversations, the most recently active first; messages oldest first. */
  conversations(templates: readonly TemplateDef[], deliveries: readonly WebhookDelivery[]): Conversation[] {
    const statuses = statusByWamid(deliveries);
    const byDigits = new Map<string, (OutgoingView | IncomingView)[]>();
    const add = (digits: string, view: OutgoingView | IncomingView) => {
      const list = byDigits.get(digits) ?? [];
      list.push(view);
      byDigits.set(digits, list);
    };
    for (const { message, at } of this.#out) add(message.to, outgoing(message, at, templates, statuses));
    for (const r of this.#in) {
      const delivery = {
        ...(r.httpStatus === undefined ? {} : { httpStatus: r.httpStatus }),
        ...(r.error === undefined ? {} : { error: r.error }),
      };
      add(r.from, { direction: 'in', id: r.id, at: r.at, text: r.text, delivery });
    }
    return [...byDigits.entries()]
      .map(([digits, messages]) => {
        messages.sort((a, b) => a.at - b.at);
        const fromLastcall = messages.filter((m) => m.direction === 'out').length;
        const unread = Math.max(0, fromLastcall - (this.#seen.get(digits) ?? 0));
        return { kind: 'whatsapp' as const, digits, messages, lastAt: messages.at(-1)?.at ?? 0, unread };
      })
      .sort((a, b) => b.lastAt - a.lastAt || a.digits.localeCompare(b.digits));
  }
}

interface StatusSummary {
  status: Ticks;
  problem?: string;
}

function statusByWamid(deliveries: readonly WebhookDelivery[]): Map<string, StatusSummary> {
  const out = new Map<string, StatusSummary>();
  for (const d of deliveries) {
    const seen = out.get(d.wamid) ?? { status: 'accepted' };
    if ((RANK[d.status] ?? 0) > (RANK[seen.status] ?? 0)) seen.status = d.status;
    if (seen.problem === undefined) {
      if (d.error !== undefined)
        seen.problem = `the "${d.status}" webhook did not reach Lastcall: ${d.error}`;
      else if (d.httpStatus !== undefined && (d.httpStatus < 200 || d.httpStatus > 299))
        seen.problem = `Lastcall answered HTTP ${d.httpStatus} to the "${d.status}" webhook`;
    }
    out.set(d.wamid, seen);
  }
  return out;
}

function outgoing(
  message: SentMessage,
  at: number,
  templates: readonly TemplateDef[],
  statuses: Map<string, StatusSummary>,
): OutgoingView {
  const status = statuses.get(message.id);
  const common = {
    direction: 'out' as const,
    id: message.id,
    at,
    status: status?.status ?? ('accepted' as const),
    ...(status?.problem === undefined ? {} : { webhookProblem: status.problem }),
  };
  if (message.type !== 'template' || message.template === undefined || message.rendered === undefined) {
    return { ...common, body: message.text ?? '', buttons: [] };
  }
  const { name, language } = message.template;
  const def = templates.find((t) => t.name === name && t.language === language);
  const component = (type: string) => def?.components.find((c) => c.type === type);
  // Dynamic URL buttons were rendered in button order; static ones keep their registered link.
  const dynamicUrls = [...message.rendered.buttonUrls];
  const buttons = (component('BUTTONS')?.buttons ?? []).map((b) => {
    if (b.type !== 'URL') return { text: b.text };
    const url = placeholders(b.url).length > 0 ? dynamicUrls.shift() : b.url;
    return url === undefined ? { text: b.text } : { text: b.text, url };
  });
  const footer = component('FOOTER')?.text;
  return {
    ...common,
    template: { name, language },
    ...(message.rendered.header === undefined ? {} : { header: message.rendered.header }),
    body: message.rendered.body,
    ...(footer === undefined ? {} : { footer }),
    buttons,
  };
}
