import { describe, expect, it } from 'vitest';
import { applyStatus, type DeliveryState, type StatusReport } from './webhook-status.ts';

const T = (s: number) => new Date(Date.UTC(2026, 4, 4, 10, 0, s));
const WAMID = 'wamid.A';

function row(over: Partial<DeliveryState> = {}): DeliveryState {
  return {
    status: 'sent',
    providerMessageId: WAMID,
    sentAt: T(0),
    deliveredAt: null,
    readAt: null,
    failedAt: null,
    errorCode: null,
    errorDetail: null,
    ...over,
  };
}

const report = (status: string, s: number, error?: StatusReport['error']): StatusReport => ({
  status,
  wamid: WAMID,
  at: T(s),
  ...(error ? { error } : {}),
});

/** Applies reports in order, keeping the row when one changes nothing. */
const replay = (start: DeliveryState, reports: StatusReport[]) =>
  reports.reduce((state, r) => applyStatus(state, r) ?? state, start);

describe('applyStatus', () => {
  it('moves forward sent → delivered → read with their timestamps', () => {
    const end = replay(row(), [report('sent', 1), report('delivered', 5), report('read', 9)]);
    expect(end).toMatchObject({ status: 'read', sentAt: T(0), deliveredAt: T(5), readAt: T(9) });
  });

  it('ends at read whatever the order, and repeats change nothing', () => {
    const orders = [
      ['read', 'delivered', 'sent'],
      ['delivered', 'read', 'sent', 'read'],
      ['sent', 'read', 'delivered', 'delivered'],
    ];
    const times: Record<string, number> = { sent: 1, delivered: 5, read: 9 };
    for (const order of orders) {
      const end = replay(row({ status: 'sending', sentAt: null, providerMessageId: null }), [
        ...order.map((s) => report(s, times[s] ?? 0)),
      ]);
      expect(end).toMatchObject({
        status: 'read',
        sentAt: T(1),
        deliveredAt: T(5),
        readAt: T(9),
        providerMessageId: WAMID,
      });
    }
  });

  it('fills delivered from a read that comes first, then refines it with the late delivered', () => {
    const afterRead = applyStatus(row(), report('read', 9));
    expect(afterRead).toMatchObject({ status: 'read', deliveredAt: T(9), readAt: T(9) });
    const afterDelivered = applyStatus(afterRead!, report('delivered', 5));
    expect(afterDelivered).toMatchObject({ status: 'read', deliveredAt: T(5), readAt: T(9) });
  });

  it('returns undefined for a duplicate or a status it does not record', () => {
    const delivered = row({ status: 'delivered', deliveredAt: T(5) });
    expect(applyStatus(delivered, report('delivered', 5))).toBeUndefined();
    expect(applyStatus(delivered, report('sent', 1))).toBeUndefined();
    expect(applyStatus(delivered, report('played', 7))).toBeUndefined();
  });

  it('fails a row not yet delivered, with Meta’s code and title', () => {
    const failed = applyStatus(
      row(),
      report('failed', 3, { code: '131026', title: 'Message undeliverable' }),
    );
    expect(failed).toMatchObject({
      status: 'failed',
      failedAt: T(3),
      errorCode: '131026',
      errorDetail: 'Message undeliverable',
    });
    // Terminal: nothing moves it on, a second failure keeps the first error.
    expect(
      replay(failed!, [report('delivered', 5), report('failed', 8, { code: '131000', title: 'x' })]),
    ).toMatchObject({
      status: 'failed',
      errorCode: '131026',
      failedAt: T(3),
    });
  });

  it('records a failure after delivery without moving the status back', () => {
    const read = row({ status: 'read', deliveredAt: T(5), readAt: T(9) });
    const after = applyStatus(read, report('failed', 12, { code: '131000', title: 'Something went wrong' }));
    expect(after).toMatchObject({ status: 'read', errorCode: '131000', failedAt: null, readAt: T(9) });
  });

  it('settles a row the sender left sending, retrying or unknown, and learns its wamid', () => {
    for (const status of ['sending', 'retrying', 'unknown']) {
      const next = applyStatus(
        row({ status, providerMessageId: null, sentAt: null }),
        report('delivered', 5),
      );
      expect(next).toMatchObject({
        status: 'delivered',
        providerMessageId: WAMID,
        sentAt: T(5),
        deliveredAt: T(5),
      });
    }
  });
});
