// Cloud API error codes → send outcomes (Meta's error code reference, plus the neighbours Meta
// documents for the same situations). Meta says to branch on `code` (+ `error_data.details`), not
// on the HTTP status, which is 400 for most business errors; the status only decides for codes
// this table doesn't know.
import type { ResponseMeta } from './graph-fetch.ts';
import { type FailedOutcome, parseRetryAfter } from './outcome.ts';

const HOUR = 3_600_000;

/** Transient: retry with backoff. The value is the least wait Meta advises, if any. */
const RETRY = new Map<number, number | undefined>([
  [1, undefined], // unknown error, is_transient
  [2, undefined], // service temporarily unavailable
  [4, 60_000], // app call rate limit
  [80007, 60_000], // WABA call rate limit
  [130429, undefined], // throughput (80 mps per number) reached
  [131000, undefined], // "Something went wrong"; the caller's attempt cap bounds it
  [131016, undefined], // service unavailable
  [131056, undefined], // pair rate: same recipient too often, the caller backs off 4^n s
  [131057, 60_000], // account in maintenance (throughput upgrade, about a minute)
]);

/** Not now, but later: re-queue after the delay without spending an attempt. */
const DEFER = new Map<number, number>([
  [131049, 24 * HOUR], // per-user marketing limit: Meta says wait at least 24 h
  [131048, 24 * HOUR], // spam rate limit on the number: back off rather than hammer
  [132015, 3 * HOUR], // template paused for low quality (3 h the first time, 6 h the second)
]);

/** The account or token is broken: every send would fail the same way until someone fixes it. */
const CHANNEL_DOWN = new Set([0, 3, 10, 190, 368, 131031, 131042, 133010]);

/** This message will never go through as it is (recipient, consent, template or payload). */
const PERMANENT = new Set([
  100, 130472, 131008, 131009, 131021, 131026, 131030, 131047, 131050, 131051, 132000, 132001, 132005, 132007,
  132012, 132016, 132018,
]);

export interface GraphError {
  code: number;
  message?: string;
  error_data?: { details?: string };
  /** Management endpoints explain refusals here rather than in error_data. */
  error_user_title?: string;
  error_user_msg?: string;
}

export function isGraphError(x: unknown): x is GraphError {
  return typeof x === 'object' && x !== null && typeof (x as { code?: unknown }).code === 'number';
}

export function describeGraphError(e: GraphError): string {
  const parts = [e.message ?? `Graph error ${e.code}`];
  for (const extra of [e.error_data?.details, e.error_user_title, e.error_user_msg]) {
    if (extra && !parts.some((p) => p.includes(extra))) parts.push(extra);
  }
  return parts.join(': ');
}

/** Outcome for an unknown code, or a reply without a Graph error body, from the HTTP status alone. */
export function classifyHttpStatus(
  status: number,
  code: string,
  detail: string,
  retryAfterMs?: number,
): FailedOutcome {
  if (status === 429 || status === 408 || status >= 500) {
    return retryAfterMs === undefined
      ? { outcome: 'retry', code, detail }
      : { outcome: 'retry', code, retryAfterMs, detail };
  }
  if (status === 401 || status === 403) return { outcome: 'channel-down', code, detail };
  return { outcome: 'permanent', code, detail };
}

export function classifyGraphError(e: GraphError, meta: ResponseMeta | undefined, now: Date): FailedOutcome {
  const code = String(e.code);
  const detail = describeGraphError(e);
  const header = parseRetryAfter(meta?.retryAfter, now);
  if (RETRY.has(e.code)) {
    const least = RETRY.get(e.code);
    const wait = header === undefined ? least : Math.max(header, least ?? 0);
    return wait === undefined
      ? { outcome: 'retry', code, detail }
      : { outcome: 'retry', code, retryAfterMs: wait, detail };
  }
  const defer = DEFER.get(e.code);
  if (defer !== undefined) return { outcome: 'defer', code, delayMs: Math.max(defer, header ?? 0), detail };
  if (CHANNEL_DOWN.has(e.code) || (e.code >= 200 && e.code <= 299))
    return { outcome: 'channel-down', code, detail };
  if (PERMANENT.has(e.code)) return { outcome: 'permanent', code, detail };
  return classifyHttpStatus(meta?.status ?? 400, code, detail, header);
}

/** The reason recorded for a send the Graph API may have taken without answering in time. */
export const MAYBE_SENT_TIMEOUT =
  'timeout: the request was sent and no answer came in time; the provider may have accepted it, so it is not sent again';

/**
 * Outcome for a send that threw: a timeout, a network failure, or a reply that wasn't JSON (a
 * proxy's HTML error page). A 2xx reply that can't be read is permanent: Meta may have accepted
 * the message, and sending it again could deliver it twice. For the same reason a timeout or a
 * broken connection after the request was written (`requestSent`) is `unknown`, never retried;
 * before it (no connection, a connect timeout) nothing reached Meta: the API is `unavailable`
 * and the queue tries again later.
 */
export function classifyThrown(
  error: unknown,
  meta: ResponseMeta | undefined,
  now: Date,
  requestSent = false,
): FailedOutcome {
  const err = error instanceof Error ? error : new Error(String(error));
  if (err.name === 'TimeoutError' && !meta) {
    return requestSent
      ? { outcome: 'unknown', code: 'timeout', detail: MAYBE_SENT_TIMEOUT }
      : { outcome: 'unavailable', code: 'connect-timeout', detail: 'could not reach the Graph API in time' };
  }
  if (meta) {
    const detail = `unreadable ${meta.contentType ?? 'untyped'} reply with HTTP ${meta.status}: ${err.message}`;
    if (meta.status >= 200 && meta.status < 300)
      return { outcome: 'permanent', code: 'bad-response', detail };
    return classifyHttpStatus(
      meta.status,
      `http-${meta.status}`,
      detail,
      parseRetryAfter(meta.retryAfter, now),
    );
  }
  if (err.name === 'AbortError')
    return { outcome: 'retry', code: 'aborted', detail: 'the request was aborted' };
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? err.message;
  if (requestSent)
    return {
      outcome: 'unknown',
      code: 'connection-lost',
      detail: `the connection broke after the request was sent (${reason}); the provider may have accepted it, so it is not sent again`,
    };
  return { outcome: 'unavailable', code: 'network', detail: `cannot reach the Graph API: ${reason}` };
}
