// The sandbox's imitation of Meta's delivery reports: after an accepted send, post signed status
// webhooks (sent → delivered → read, or failed) to the configured URL, one POST per status as
// Meta usually does. Delivery results are kept for inspection; failures never throw.
import type { IdentityBook } from './graph-identities.ts';
import type { SentMessage } from './graph-messages.ts';
import { type StatusInput, statusesChange, webhookPayload } from './webhook-payloads.ts';
import { postWebhook, type WebhookEncoding } from './webhook-signing.ts';

export interface StatusWebhookOptions {
  /** Where to POST, e.g. http://127.0.0.1:8080/webhooks/whatsapp */
  url: string;
  appSecret: string;
  /** Statuses reported after a successful send, in order. Default: sent, delivered, read. */
  statuses?: Array<'sent' | 'delivered' | 'read'>;
  /** Pause before each status. Default 50 ms. */
  delayMs?: number;
  encoding?: WebhookEncoding;
}

export interface WebhookDelivery {
  wamid: string;
  status: StatusInput['status'];
  httpStatus?: number;
  error?: string;
}

export interface EmitterContext {
  wabaId: string;
  phoneNumberId: string;
  displayPhoneNumber: string;
  clock: () => Date;
  identities?: IdentityBook;
}

export class StatusEmitter {
  readonly deliveries: WebhookDelivery[] = [];
  #timers = new Set<NodeJS.Timeout>();
  #stopped = false;
  #opts: StatusWebhookOptions;
  #ctx: EmitterContext;

  constructor(opts: StatusWebhookOptions, ctx: EmitterContext) {
    this.#opts = opts;
    this.#ctx = ctx;
  }

  /** Reports `message` as delivered (or as failed with `failedCode`). */
  report(message: SentMessage, failedCode?: number): void {
    const steps: StatusInput['status'][] =
      failedCode === undefined ? (this.#opts.statuses ?? ['sent', 'delivered', 'read']) : ['failed'];
    const delay = this.#opts.delayMs ?? 50;
    const run = (i: number) => {
      const status = steps[i];
      if (status === undefined || this.#stopped) return;
      const timer = setTimeout(async () => {
        this.#timers.delete(timer);
        await this.#post(message, status, failedCode);
        run(i + 1);
      }, delay);
      this.#timers.add(timer);
    };
    run(0);
  }

  async #post(message: SentMessage, status: StatusInput['status'], failedCode?: number): Promise<void> {
    // BSUIDs ride on every status; the phone stays unless the message went to a BSUID of
    // someone who adopted a username (a send by phone keeps the phone in its statuses).
    const identity = this.#ctx.identities?.of(message.to);
    const input: StatusInput = { id: message.id, status, at: this.#ctx.clock() };
    if (message.userId === undefined || identity?.username === undefined) input.recipientId = message.to;
    if (identity) input.recipientUserId = identity.userId;
    if (message.callbackData !== undefined) input.callbackData = message.callbackData;
    if (failedCode !== undefined) input.errors = [{ code: failedCode }];
    const meta = { phoneNumberId: this.#ctx.phoneNumberId, displayPhoneNumber: this.#ctx.displayPhoneNumber };
    const payload = webhookPayload([{ id: this.#ctx.wabaId, changes: [statusesChange(meta, [input])] }]);
    const record: WebhookDelivery = { wamid: message.id, status };
    try {
      const res = await postWebhook(this.#opts.url, payload, {
        appSecret: this.#opts.appSecret,
        ...(this.#opts.encoding ? { encoding: this.#opts.encoding } : {}),
      });
      record.httpStatus = res.status;
    } catch (err) {
      record.error = err instanceof Error ? err.message : String(err);
    }
    this.deliveries.push(record);
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }
}
