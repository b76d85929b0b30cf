// How a WhatsApp status report moves a delivery: every status recorded, none backwards
// (docs/architecture.md, "The path of one reminder", step 6).
// Pure: the repository locks the row, asks here, writes the answer.
//
// - Progress is monotonic: sent < delivered < read. A report below the row's status changes no
//   status (a `delivered` after `read`, a repeated `sent`); it may still refine a timestamp.
// - Timestamps keep the earliest report. A report implies the steps before it: `read` at T also
//   means delivered and sent by T, so missing earlier timestamps are filled with T (an upper
//   bound) and a later, earlier-dated `delivered` refines it. Meta skips `delivered` when a
//   message is delivered and read at once.
// - `failed` is terminal: no later report changes a failed row's status (Meta documents failed
//   as final), though the timestamps of what Meta reports are still kept. It fails a row that is not yet delivered (queued, sending, retrying, unknown,
//   skipped, sent), with Meta's error code and title. A `failed` for a row already delivered or
//   read does not move it back: the error is recorded (code and detail, first one kept) and the
//   status stays, because the person did get the message.
// - Any report proves Meta accepted the message: a row still `sending`, `retrying`, `unknown`
//   or `skipped` (the provider answered after a timeout, or before the sender wrote its result)
//   moves on, so it is never sent again, and it learns its wamid.

export interface DeliveryState {
  readonly status: string;
  readonly providerMessageId: string | null;
  readonly sentAt: Date | null;
  readonly deliveredAt: Date | null;
  readonly readAt: Date | null;
  readonly failedAt: Date | null;
  readonly errorCode: string | null;
  readonly errorDetail: string | null;
}

export interface StatusReport {
  readonly status: string;
  readonly wamid: string;
  readonly at: Date;
  readonly error?: { readonly code: string; readonly title: string | undefined } | undefined;
}

export const REPORTED_STATUSES = ['sent', 'delivered', 'read', 'failed'] as const;
export type ReportedStatus = (typeof REPORTED_STATUSES)[number];

export function isReportedStatus(status: string): status is ReportedStatus {
  return (REPORTED_STATUSES as readonly string[]).includes(status);
}

const DELIVERED = 2;
const READ = 3;
const RANK: Readonly<Record<string, number>> = { sent: 1, delivered: DELIVERED, read: READ };
const rank = (status: string): number => RANK[status] ?? 0;

const earliest = (current: Date | null, at: Date): Date =>
  current !== null && current.getTime() <= at.getTime() ? current : at;

const MAX_DETAIL = 500;

/** The row after the report, or undefined when the report changes nothing (or is not a status
 *  Lastcall records, such as `played`). */
export function applyStatus(current: DeliveryState, report: StatusReport): DeliveryState | undefined {
  if (!isReportedStatus(report.status)) return undefined;
  const { at } = report;
  const base = { ...current, providerMessageId: current.providerMessageId ?? report.wamid };
  let next: DeliveryState;
  if (report.status === 'failed') {
    const code = report.error?.code ?? 'failed';
    const detail = (report.error?.title ?? null)?.slice(0, MAX_DETAIL) ?? null;
    if (current.status === 'failed') {
      next = { ...base, failedAt: earliest(current.failedAt, at) };
    } else if (rank(current.status) >= DELIVERED) {
      next = current.errorCode === null ? { ...base, errorCode: code, errorDetail: detail } : base;
    } else {
      next = { ...base, status: 'failed', failedAt: at, errorCode: code, errorDetail: detail };
    }
  } else {
    const r = rank(report.status);
    next = {
      ...base,
      status: current.status !== 'failed' && rank(current.status) < r ? report.status : current.status,
      sentAt: earliest(current.sentAt, at),
      deliveredAt:
        r === DELIVERED
          ? earliest(current.deliveredAt, at)
          : r === READ
            ? (current.deliveredAt ?? at)
            : current.deliveredAt,
      readAt: r === READ ? earliest(current.readAt, at) : current.readAt,
    };
  }
  return sameState(current, next) ? undefined : next;
}

function sameState(a: DeliveryState, b: DeliveryState): boolean {
  const t = (d: Date | null) => d?.getTime() ?? null;
  return (
    a.status === b.status &&
    a.providerMessageId === b.providerMessageId &&
    t(a.sentAt) === t(b.sentAt) &&
    t(a.deliveredAt) === t(b.deliveredAt) &&
    t(a.readAt) === t(b.readAt) &&
    t(a.failedAt) === t(b.failedAt) &&
    a.errorCode === b.errorCode &&
    a.errorDetail === b.errorDetail
  );
}
