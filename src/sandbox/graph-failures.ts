// Failure injection for the fake Cloud API's `/messages` endpoint: per recipient, or for the
// next N calls. Recipient rules win over count rules; each rule is spent one call at a time.
import { recipientDigits } from './graph-messages.ts';

export type GraphFailure =
  /** A Graph error body for `code` (status and details default to Meta's for that code). */
  | { type: 'graph'; code: number; status?: number; details?: string; retryAfter?: string }
  /** Any status and body, e.g. a load balancer's HTML page or a non-Graph JSON error. */
  | { type: 'raw'; status: number; contentType: string; body: string; retryAfter?: string }
  /** Accept the request and never answer until the server closes. */
  | { type: 'hang' }
  /** Take the message (it counts as sent) but answer only after `delayMs`: a client with a
   *  shorter timeout cannot know that Meta has it. */
  | { type: 'late'; delayMs: number }
  /** Accept the send (200 + wamid), then report it `failed` with `code` by status webhook. */
  | { type: 'async-failed'; code: number }
  /** Accept the send with `message_status: held_for_quality_assessment` (Meta's template pacing). */
  | { type: 'held' };

export const failures = {
  /** 130429 throughput, HTTP 429; `retryAfterSeconds` adds a Retry-After header. */
  rateLimit: (retryAfterSeconds?: number): GraphFailure => ({
    type: 'graph',
    code: 130429,
    ...(retryAfterSeconds === undefined ? {} : { retryAfter: String(retryAfterSeconds) }),
  }),
  pairRate: (): GraphFailure => ({ type: 'graph', code: 131056 }),
  undeliverable: (): GraphFailure => ({ type: 'graph', code: 131026 }),
  templateMissing: (): GraphFailure => ({ type: 'graph', code: 132001 }),
  badToken: (): GraphFailure => ({ type: 'graph', code: 190 }),
  /** Graph's generic transient error (code 1, HTTP 500). */
  serverError: (): GraphFailure => ({ type: 'graph', code: 1, status: 500 }),
  /** A bare 500 whose JSON body is not a Graph error. */
  plainServerError: (): GraphFailure => ({
    type: 'raw',
    status: 500,
    contentType: 'application/json',
    body: '{"error":"Internal Server Error"}',
  }),
  /** A proxy's 502 page: text/html, not JSON. */
  badGateway: (): GraphFailure => ({
    type: 'raw',
    status: 502,
    contentType: 'text/html; charset=utf-8',
    body: '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>',
  }),
  hang: (): GraphFailure => ({ type: 'hang' }),
  lateAnswer: (delayMs: number): GraphFailure => ({ type: 'late', delayMs }),
} as const;

export interface FailureScope {
  /** Only sends to this recipient (any "+", spaces or dashes ignored). Unlimited unless `times`. */
  to?: string;
  /** How many calls the failure applies to: default 1 for count rules, unlimited for recipient rules. */
  times?: number;
}

interface Rule {
  failure: GraphFailure;
  to: string | undefined;
  remaining: number;
}

export class FailureBook {
  #rules: Rule[] = [];

  add(failure: GraphFailure, scope: FailureScope = {}): void {
    const to = scope.to === undefined ? undefined : (recipientDigits(scope.to) ?? scope.to);
    const remaining = scope.times ?? (to === undefined ? 1 : Number.POSITIVE_INFINITY);
    this.#rules.push({ failure, to, remaining });
  }

  clear(): void {
    this.#rules = [];
  }

  /** The failure for this call, if any, spending one use of its rule. */
  take(recipient: string | undefined): GraphFailure | undefined {
    const rule =
      this.#rules.find((r) => r.to !== undefined && r.to === recipient && r.remaining > 0) ??
      this.#rules.find((r) => r.to === undefined && r.remaining > 0);
    if (!rule) return undefined;
    rule.remaining -= 1;
    this.#rules = this.#rules.filter((r) => r.remaining > 0);
    return rule.failure;
  }
}
