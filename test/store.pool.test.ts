// A connection broken while the process holds it out of the pool (the tick's advisory lock, a
// transaction between two statements) must not end the process: pg emits 'error' on such a
// client, and pg-pool listens only to idle ones (docs/operations.md, "Outages").
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchDatabase } from '../src/store/outage.ts';
import { type Db, openDb } from '../src/store/pool.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { waitFor } from './support/delivery.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('a pooled connection broken while checked out', () => {
  it('is reported to the watch once, not thrown, and the pool serves the next query', async () => {
    const lines: { msg: string }[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const db: Db = openDb(
      { databaseUrl: database.url },
      { watch: watchDatabase(pino({ level: 'info' }, sink)) },
    );
    try {
      const held = await db.pool.connect();
      const { pid } = (await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!;
      // As `pg_ctl stop -m fast` does to every session: "terminating connection due to
      // administrator command" (57P01), then the socket closes, while no query runs on it.
      await database.db.query('SELECT pg_terminate_backend($1)', [pid]);
      await waitFor('the watch to hear of it', () => lines.length > 0, 10_000, 20);
      await expect(held.query('SELECT 1')).rejects.toThrow(/not queryable|terminat/i);
      held.release(); // a client that is no longer queryable is dropped, not pooled again
      expect(await db.one<{ n: number }>('SELECT 1 AS n')).toEqual({ n: 1 });
      expect(db.pool.totalCount).toBe(1); // the broken client is gone: only the new one
      expect(lines.map((l) => l.msg)).toEqual([
        'PostgreSQL is unreachable: work waits and resumes when it answers again',
        expect.stringMatching(/^PostgreSQL is back after \d+ s$/),
      ]);
    } finally {
      await db.close();
    }
  });
});
