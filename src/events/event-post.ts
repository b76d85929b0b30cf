// One POST of an event to EVENTS_URL, signed, bounded in time: a receiver that hangs costs a
// worker slot for `timeoutMs`, never forever. Used by the events worker and by `doctor`'s ping.
import { SIGNATURE_HEADER, signEvent } from './signature.ts';

export interface EventEnvelope {
  readonly id: string;
  readonly type: string;
  readonly createdAt: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export type PostResult =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly reason: string };

export async function postEvent(
  target: { readonly url: string; readonly secret: string },
  event: EventEnvelope,
  nowMs: number,
  timeoutMs = 10_000,
): Promise<PostResult> {
  const body = JSON.stringify(event);
  try {
    const response = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Lastcall-Events/1',
        [SIGNATURE_HEADER]: signEvent(target.secret, body, Math.floor(nowMs / 1000)),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The body is not needed; reading it frees the connection.
    await response.arrayBuffer().catch(() => undefined);
    return response.ok
      ? { ok: true, status: response.status }
      : { ok: false, reason: `HTTP ${response.status}` };
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    return {
      ok: false,
      reason: e.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (e.cause?.code ?? e.message),
    };
  }
}
