// What a channel adapter reports for one send attempt. The send service maps it onto the delivery
// row and the job: sent → done; retry → throw for BullMQ backoff (at least `retryAfterMs` when the
// provider said so); defer → re-queue after `delayMs` without counting an attempt failure;
// permanent → record and never retry; channel-down → stop the channel's queue and alert (the
// message itself is fine and goes out once the operator fixes the account); unknown → the
// request reached the provider and no answer came (a timeout after sending): it may have been
// accepted, so it is recorded `unknown` and never sent again (at most once);
// unavailable → the provider cannot be reached or refuses service (SMTP refusing connections or
// answering 421, the Graph API unreachable): nothing was sent and every message would get the
// same answer, so the channel's queue waits and tries again, spending no message's attempts.
// `code` is the provider's own code as text ("131026", "550") or a transport code ("timeout",
// "network", "http-502"); `detail` is the provider's explanation, never personal data.

export type SendOutcome =
  /** `held`: Meta accepted it but holds it for a quality assessment (template pacing, WhatsApp). */
  | { outcome: 'sent'; messageId: string; response?: string; held?: boolean }
  | { outcome: 'retry'; code: string; retryAfterMs?: number; detail: string }
  | { outcome: 'defer'; code: string; delayMs: number; detail: string }
  | { outcome: 'permanent'; code: string; detail: string }
  | { outcome: 'channel-down'; code: string; detail: string }
  | { outcome: 'unknown'; code: string; detail: string }
  | { outcome: 'unavailable'; code: string; detail: string; retryAfterMs?: number };

export type FailedOutcome = Exclude<SendOutcome, { outcome: 'sent' }>;

/** Milliseconds to wait from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}
