// A whole campaign driven through the API by a plain fetch client that follows the OpenAPI
// document (each call names an operation of the document; each answer is checked against it),
// with real BullMQ workers, the fake Graph API and the SMTP fake: create the campaign, upsert
// 200 subscribers, start, watch the stats reach the sends the fakes received, erase one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningWorkers, startWorkers } from '../src/roles/work.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { type Api, person, startApi } from './support/api.ts';
import {
  type DeliveryServices,
  digits,
  inFlight,
  startDeliveryServices,
  waitFor,
} from './support/delivery.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2031-03-10T09:58:00Z');
const clock = new ManualClock(T0);
let services: DeliveryServices;
let workers: RunningWorkers;
let api: Api;

beforeAll(async () => {
  services = await startDeliveryServices();
  workers = await startWorkers(services.config(), { clock, scheduleTick: false, backoff: { baseMs: 10 } });
  api = await startApi({ env: services.env, database: services.database, clock });
});
afterAll(async () => {
  await api?.close();
  await workers?.close(5_000);
  await services?.close();
});

/** Calls the operation `METHOD /template` of the document, filling in its path parameters. */
async function operation(name: string, params: Record<string, string> = {}, body?: unknown) {
  const [method, template] = name.split(' ') as [string, string];
  const path = `/api/v1${template}`;
  expect(api.document.paths[path]?.[method.toLowerCase()], `${name} is in the document`).toBeDefined();
  const url = path.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(params[p] ?? ''));
  return api.call(method, url, body === undefined ? {} : { body });
}

describe('a campaign through the API', () => {
  const people = Array.from({ length: 200 }, (_, i) => ({ id: `run-${i}`, ...person(i) }));

  it('creates the campaign and upserts 200 subscribers', async () => {
    const campaign = {
      id: 'run',
      name: 'Run through the API',
      deadline: new Date(T0 + 5 * MINUTE).toISOString(),
      window: { start: '00:00', end: '23:59' },
      catchUp: { minGap: 'PT1M' },
      steps: [
        { id: 'm4', before: 'PT4M', channels: ['whatsapp', 'email'], template: 'first-notice' },
        { id: 'm2', before: 'PT2M', channels: ['whatsapp', 'email'], template: 'one-week' },
      ],
    };
    expect((await operation('PUT /campaigns/{id}', { id: 'run' }, campaign)).status).toBe(201);
    // Eight callers at a time, as an app syncing its users would.
    for (let i = 0; i < people.length; i += 8) {
      const answers = await Promise.all(
        people.slice(i, i + 8).map(({ id, ...fields }) => operation('PUT /subscribers/{id}', { id }, fields)),
      );
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 201));
    }
    const listed = await operation('GET /subscribers');
    expect(listed.json.items).toHaveLength(100);
    expect(listed.json.nextCursor).not.toBeNull();
  }, 120_000);

  it('starts it and the stats reach every send the fakes received', async () => {
    const started = await operation('POST /campaigns/{id}/start', { id: 'run' });
    expect(started.json).toMatchObject({ started: true, reach: 400 });
    for (const minute of [1, 3]) {
      clock.set(T0 + minute * MINUTE);
      await workers.runTick();
      await waitFor(
        `step due at minute ${minute} sent`,
        async () => {
          const stats = (await operation('GET /campaigns/{id}/stats', { id: 'run' })).json;
          const due = stats.steps.filter((s: { step: string }) => s.step === (minute === 1 ? 'm4' : 'm2'));
          return due.every((s: { sent: number }) => s.sent === 200) && (await inFlight(api.db, 'run')) === 0;
        },
        60_000,
        200,
      );
    }
    const stats = (await operation('GET /campaigns/{id}/stats', { id: 'run' })).json;
    for (const s of stats.steps) expect(s).toMatchObject({ planned: 200, sent: 200, failed: 0, queued: 0 });
    expect(services.graph.sent()).toHaveLength(400);
    expect(services.smtp.messages).toHaveLength(400);
    const phones = new Set(services.graph.sent().map((m) => m.to));
    expect(phones).toEqual(new Set(people.map((p) => digits(p.phone))));
    const deliveries = await operation('GET /campaigns/{id}/deliveries', { id: 'run' });
    expect(deliveries.json.items.every((d: { status: string }) => d.status === 'sent')).toBe(true);
  }, 120_000);

  it('erases one subscriber: gone from the API, the figures kept without them', async () => {
    const erased = await operation('DELETE /subscribers/{key}', { key: people[7]!.email });
    expect(erased.json).toMatchObject({ subscriberId: 'run-7', deliveriesAnonymised: 4 });
    expect((await operation('GET /subscribers/{key}', { key: 'run-7' })).status).toBe(404);
    const stats = (await operation('GET /campaigns/{id}/stats', { id: 'run' })).json;
    expect(stats.steps.map((s: { sent: number }) => s.sent)).toEqual([200, 200, 200, 200]);
  });
});
