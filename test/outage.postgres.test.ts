// PostgreSQL restarted in the middle of a campaign's sends (docs/operations.md, "Outages"). A
// private PostgreSQL is stopped (`pg_ctl stop -m fast`: every session ended) while `lastcall work`
// and `lastcall serve` run as child processes, then started again on the same data and port. Both
// keep running (no crash, no unhandled rejection), log the outage once and its end once, `/healthz`
// answers 503 naming PostgreSQL meanwhile, and the campaign finishes: every delivery `sent`, each
// received exactly once by the fake Graph API or SMTP server.
import { delimiter } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTick } from '../src/delivery/tick.service.ts';
import {
  type LocalPostgres,
  localPostgresBinaries,
  startLocalPostgres,
} from '../src/ops/local-servers/local.ts';
import { freePort } from '../src/ops/local-servers/probe.ts';
import { QueueSet } from '../src/queue/connection.ts';
import { createLogger } from '../src/shared/logger.ts';
import { createToken } from '../src/subscribers/tokens.ts';
import {
  type DeliveryServices,
  deliveriesOf,
  FAST_TAKEOVER_ARGS,
  makeSubscribers,
  receivedPerDelivery,
  seedSubscribers,
  spawnLastcall,
  spawnWorker,
  startDeliveryServices,
  startDueCampaign,
  statusCounts,
  type WorkerProcess,
  waitFor,
} from './support/delivery.ts';

const MINUTE = 60_000;

let postgres: LocalPostgres;
let services: DeliveryServices;
let queues: QueueSet;
const processes: WorkerProcess[] = [];

beforeAll(async () => {
  const binaries = localPostgresBinaries((process.env.PATH ?? '').split(delimiter).filter(Boolean));
  if (!binaries)
    throw new Error('this test restarts a PostgreSQL of its own: install postgresql (initdb, pg_ctl)');
  postgres = await startLocalPostgres(binaries);
  services = await startDeliveryServices({ databaseServerUrl: postgres.url });
  queues = new QueueSet(services.config());
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop('SIGKILL')));
  try {
    await queues?.close();
    await services?.close(); // fails if the test stopped while PostgreSQL was halted
  } finally {
    await postgres?.stop(); // the whole private instance goes, its data folder too
  }
});

/** The pino lines of a process with this message. */
const linesWith = (p: WorkerProcess, msg: string) =>
  p
    .output()
    .split('\n')
    .filter((line) => line.includes(`"msg":"${msg}`));

async function health(port: number): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe('PostgreSQL restarted during sends', () => {
  it('workers and serve wait it out: the campaign finishes, nothing lost, nothing twice', {
    timeout: 90_000,
  }, async () => {
    const { database } = services;
    const now = Date.now();
    const subscribers = makeSubscribers(120);
    await seedSubscribers(database.db, subscribers, now - 60 * MINUTE);
    const planned = 2 * subscribers.reduce((sum, s) => sum + s.channels.length, 0); // two steps
    await startDueCampaign(
      database.db,
      'pg-restart',
      [
        { id: 'm10', before: 'PT10M', channels: ['whatsapp', 'email'], template: 'first-notice' },
        { id: 'm8', before: 'PT8M', channels: ['whatsapp', 'email'], template: 'one-week' },
      ],
      now,
    );
    const env = { ...services.env, WHATSAPP_RATE: '40', EMAIL_RATE: '40' };
    const httpPort = await freePort();
    const [worker, serve] = await Promise.all([
      spawnWorker(env, FAST_TAKEOVER_ARGS),
      spawnLastcall(['serve'], { ...env, HTTP_PORT: String(httpPort) }, '"msg":"listening'),
    ]);
    processes.push(worker, serve);
    const outputs = () =>
      [worker, serve]
        .map((p, i) => `--- ${['work', 'serve'][i]} (running: ${p.running()}):\n${p.output().slice(-4000)}`)
        .join('\n');
    expect((await health(httpPort)).status).toBe(200);

    // The worker's scheduler ticks at its start, then once a minute; a second tick is harmless.
    await runTick({ db: database.db, queues, logger: createLogger({ logLevel: 'silent' }) }, now);
    await waitFor(
      'sending under way',
      async () => ((await statusCounts(database.db, 'pg-restart')).sent ?? 0) > 60,
      30_000,
      20,
    );

    await postgres.halt();
    const down = await waitFor('/healthz to say PostgreSQL is down', async () => {
      const h = await health(httpPort);
      return h.status === 503 ? h : undefined;
    });
    expect(down.body).toMatchObject({ status: 'unavailable', redis: 'ok' });
    expect(down.body.postgres).not.toBe('ok');
    // A link followed meanwhile: "try again in a few moments", 503 with Retry-After, no 500.
    const token = createToken(
      services.config().secretKey!,
      { action: 'confirm', subscriberId: 's00000', channel: 'email' },
      Date.now(),
    );
    const link = await fetch(`http://127.0.0.1:${httpPort}/confirm/${token}`);
    expect([link.status, link.headers.get('retry-after')]).toEqual([503, '30']);
    await waitFor('both processes to notice', () => {
      if ([worker, serve].every((p) => linesWith(p, 'PostgreSQL is unreachable').length > 0)) return true;
      throw new Error(outputs()); // for the timeout's message: what each process said
    });
    await postgres.resume();

    await waitFor('/healthz to be 200 again', async () => (await health(httpPort)).status === 200);
    await waitFor(
      'every delivery settled',
      async () => {
        const c = await statusCounts(database.db, 'pg-restart');
        const slots = await database.db.query<{ state: string }>(`SELECT DISTINCT state FROM slots`);
        if ((c.queued ?? 0) + (c.sending ?? 0) + (c.retrying ?? 0) === 0) return true;
        // What is still waiting, for the timeout's message.
        throw new Error(
          `deliveries ${JSON.stringify(c)}, slots ${slots.map((s) => s.state).join(' ')}\n${outputs()}`,
        );
      },
      60_000,
      200,
    );

    const rows = await deliveriesOf(database.db, 'pg-restart');
    expect(rows).toHaveLength(planned); // nothing lost
    expect(await statusCounts(database.db, 'pg-restart')).toEqual({ sent: planned });
    const received = receivedPerDelivery(services);
    expect(rows.filter((r) => received.get(r.id) !== 1)).toEqual([]); // each exactly once
    expect(received.size).toBe(planned);

    for (const p of [worker, serve]) {
      expect(p.running()).toBe(true); // no crash (an unhandled rejection ends a Node process)
      expect(p.output()).not.toMatch(/unhandled|uncaught|"msg":"request failed"/i);
      expect(linesWith(p, 'PostgreSQL is unreachable')).toHaveLength(1);
      expect(linesWith(p, 'PostgreSQL is back')).toHaveLength(1);
    }
  });
});
