// Outbound events: with EVENTS_URL set, POST a signed `ping` event there (the same signature as
// every event) and expect a 2xx within 10 s: the receiver is reachable and accepts our signature.
import { randomUUID } from 'node:crypto';
import type { Config } from '../../config/config.ts';
import { postEvent } from '../../events/event-post.ts';
import type { Finding } from './finding.ts';

export async function eventsCheck(config: Pick<Config, 'events'>, now: number): Promise<Finding[]> {
  const base = { check: 'events', title: 'outbound events' } as const;
  const target = config.events;
  if (!target) return [{ ...base, status: 'skip', detail: 'off (EVENTS_URL is not set)' }];
  const result = await postEvent(
    target,
    { id: randomUUID(), type: 'ping', createdAt: new Date(now).toISOString(), data: {} },
    now,
  );
  const where = new URL(target.url).origin;
  if (result.ok)
    return [{ ...base, status: 'ok', detail: `${where} answered ${result.status} to a signed ping` }];
  return [
    {
      ...base,
      status: 'fail',
      detail: `${where} did not accept a signed ping: ${result.reason}`,
      fix: 'check that EVENTS_URL is reachable from here and that the receiver verifies Lastcall-Signature with the same EVENTS_SECRET',
    },
  ];
}
