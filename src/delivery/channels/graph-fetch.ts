// The fetch whatsapp-api-js gets as `ponyfill.fetch`. The library hard-codes
// https://graph.facebook.com and has no timeout; it also keeps only the parsed JSON body, dropping
// the HTTP status and headers. This wrapper rewrites the origin to the configured API URL (a local
// fake in tests and the demo), bounds every request (headers and body) with a timeout, and records
// the status, Retry-After and content type in the caller's `captureResponse` scope, so one adapter
// shared by concurrent sends still classifies each reply with its own status.
// It also records whether the request was written to a connected socket (`requestSent`): a
// timeout or a broken connection before that sent nothing (retry), after it the Graph API may
// have accepted the message (unknown, never re-sent). Node's fetch (undici) publishes that
// moment on the `undici:client:sendHeaders` diagnostics channel; the request is tied to the
// caller's scope when undici creates it (`undici:request:create`, inside the fetch call).
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';

export const GRAPH_ORIGIN = 'https://graph.facebook.com';

export interface ResponseMeta {
  status: number;
  retryAfter: string | null;
  contentType: string | null;
}

interface Cell {
  meta?: ResponseMeta;
  requestSent?: boolean;
}

const scope = new AsyncLocalStorage<Cell>();
const cellOfRequest = new WeakMap<object, Cell>();
subscribe('undici:request:create', (message) => {
  const cell = scope.getStore();
  if (cell) cellOfRequest.set((message as { request: object }).request, cell);
});
subscribe('undici:client:sendHeaders', (message) => {
  const cell = cellOfRequest.get((message as { request: object }).request);
  if (cell) cell.requestSent = true;
});

export function createGraphFetch(apiUrl: string, timeoutMs: number): typeof fetch {
  const base = apiUrl.replace(/\/+$/, '');
  const rewrite = (url: string) =>
    url.startsWith(GRAPH_ORIGIN) ? base + url.slice(GRAPH_ORIGIN.length) : url;
  return async (input, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const request =
      input instanceof Request
        ? new Request(rewrite(input.url), input)
        : rewrite(typeof input === 'string' ? input : input.href);
    const res = await fetch(request, { ...init, signal });
    const cell = scope.getStore();
    if (cell) {
      cell.meta = {
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        contentType: res.headers.get('content-type'),
      };
    }
    return res;
  };
}

export type Captured<T> =
  | { ok: true; value: T; meta?: ResponseMeta }
  | { ok: false; error: unknown; meta?: ResponseMeta; requestSent: boolean };

/** Runs `fn` and returns its result (or error) with the last HTTP response it saw, and on an
 *  error whether a request had reached the server. */
export async function captureResponse<T>(fn: () => Promise<T>): Promise<Captured<T>> {
  const cell: Cell = {};
  try {
    const value = await scope.run(cell, fn);
    return cell.meta ? { ok: true, value, meta: cell.meta } : { ok: true, value };
  } catch (error) {
    const requestSent = cell.requestSent === true;
    return cell.meta ? { ok: false, error, meta: cell.meta, requestSent } : { ok: false, error, requestSent };
  }
}
