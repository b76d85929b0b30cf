// `lastcall campaign stats ID --watch` as an operator runs it (a child process, stdout a pipe:
// one line per refresh) while the fan-out of a due slot runs and its messages are sent: it sees
// the rows appear and settle, stops by itself when all are settled, then prints the table.
import { type ChildProcess, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { claimDueSlots, fanOut } from '../src/delivery/fanout.service.ts';
import { createLogger } from '../src/shared/logger.ts';
import { LASTCALL_BIN, runCli } from './support/cli.ts';
import {
  makeSubscribers,
  seedSubscribers,
  startCampaign,
  startDueCampaign,
  useDeliveryServices,
  waitFor,
} from './support/delivery.ts';

const MINUTE = 60_000;
const t = useDeliveryServices();

function watch(id: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = '';
  const child = spawn(
    process.execPath,
    [LASTCALL_BIN, 'campaign', 'stats', id, '--watch', '--every', '0.2'],
    {
      env: {
        PATH: process.env.PATH ?? '',
        ...t.services.env,
        LASTCALL_ENV: 'development',
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('lastcall campaign stats --watch', { timeout: 60_000 }, () => {
  it('follows a due fan-out until every row is settled, then prints the table', async () => {
    const db = t.services.database.db;
    const now = Date.now();
    await seedSubscribers(db, makeSubscribers(30, ['Europe/Paris'], 'w'), now - 60 * MINUTE);
    const m10 = { id: 'm10', before: 'PT10M', channels: ['whatsapp'], template: 'first-notice' } as const;
    await startDueCampaign(db, 'watched', [m10], now);
    // makeSubscribers: 2 of every 3 have WhatsApp.
    const expected = 20;

    const w = watch('watched');
    try {
      await waitFor(
        'the first refresh',
        () => w.output().includes(`fan-out 0/${expected} rows, 0/0 settled`),
        30_000,
      );
      const [slot] = await claimDueSlots({ db }, Date.now());
      expect(slot).toBeDefined();
      // Pages of 8: the watcher sees rows appear a page at a time.
      await fanOut(
        { db, queues: t.queues, logger: createLogger({ logLevel: 'silent' }), pageSize: 8 },
        slot!,
        Date.now(),
      );
      await waitFor('a refresh with every row created', () =>
        w.output().includes(`fan-out ${expected}/${expected} rows, 0/${expected} settled`),
      );
      // The senders' work, as far as the record goes.
      await db.exec(`UPDATE deliveries SET status = 'sent', sent_at = now() WHERE campaign_id = 'watched'`);
      expect(await w.exited).toBe(0);
    } finally {
      w.child.kill('SIGKILL');
    }
    const out = w.output();
    expect(out).toContain(`fan-out ${expected}/${expected} rows, ${expected}/${expected} settled`);
    expect(out).toMatch(/│ m10 +│ whatsapp │ +20 │ +0 │ +20 │/);
  });

  it('says when nothing is due yet, and refuses --json with --watch', async () => {
    const db = t.services.database.db;
    const now = Date.now();
    const deadline = now + 60 * MINUTE;
    await startCampaign(
      db,
      {
        id: 'later',
        deadline,
        steps: [{ id: 'm30', before: 'PT30M', channels: ['whatsapp'], template: 'first-notice' }],
      },
      now,
    );
    const env = { ...t.services.env, LASTCALL_ENV: 'development', LOG_LEVEL: 'silent' };
    const later = await runCli(['campaign', 'stats', 'later', '--watch'], env);
    expect(later.code, later.stderr).toBe(0);
    expect(later.stdout).toMatch(/^nothing due yet \(next at \d{4}-\d\d-\d\dT\d\d:\d\d:00Z\)$/m);
    expect(later.stdout).toContain('later (running)');
    const both = await runCli(['campaign', 'stats', 'later', '--watch', '--json'], env);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--watch and --json: choose one');
  });
});
