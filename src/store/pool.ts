// The PostgreSQL pool and the two ways to talk to it: `db.query` / `db.exec` on the pool, and
// `db.tx(fn)` for a transaction whose statements all go through one client. Repositories take
// a `Sql`, so the same function runs inside or outside a transaction.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool, type PoolClient, type QueryResultRow, types } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Config } from '../config/config.ts';
import type { DatabaseWatch } from './outage.ts';

export interface Sql {
  /** Rows of a statement (`RETURNING` included). Parameters are `$1`, `$2`… never string-built. */
  query<R extends QueryResultRow = QueryResultRow>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** The first row, or undefined. */
  one<R extends QueryResultRow = QueryResultRow>(
    text: string,
    params?: readonly unknown[],
  ): Promise<R | undefined>;
  /** How many rows a statement touched: the answer to a conditional update ("did I claim it?"). */
  exec(text: string, params?: readonly unknown[]): Promise<number>;
  /**
   * `COPY … FROM STDIN` fed from `source` (COPY text format); the rows copied. Inside `tx` it
   * runs on the transaction's connection, so it can fill a temporary table the next statements read.
   */
  copyIn(statement: string, source: Readable): Promise<number>;
}

export interface Db extends Sql {
  readonly pool: Pool;
  /** Runs `fn` in a transaction: COMMIT when it resolves, ROLLBACK when it throws. */
  tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  /** Ends the pool; calling it again is harmless. */
  close(): Promise<void>;
}

export interface PoolOptions {
  /** Connections in the pool (default 10). */
  max?: number;
  /** Called when an idle connection breaks (server restart); the pool replaces it. */
  onIdleError?: (error: Error) => void;
  /** Told of every connection made or refused and every connection that breaks (outage.ts):
   *  long-running roles log an outage once through it. Replaces `onIdleError`. */
  watch?: DatabaseWatch;
}

const INT8_OID = 20;

// bigint (ids, count(*), sum()) arrives as a number instead of pg's default string. Every value
// we store stays far below 2^53; one that does not is refused rather than silently rounded.
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} does not fit a JavaScript number`);
  return value;
}

const getTypeParser = ((oid: number, format?: 'text' | 'binary') =>
  oid === INT8_OID && format !== 'binary'
    ? parseInt8
    : types.getTypeParser(oid, format ?? 'text')) as typeof types.getTypeParser;

export function createPool(databaseUrl: string, options: PoolOptions = {}): Pool {
  const pool = new Pool({
    connectionString: databaseUrl,
    max: options.max ?? 10,
    connectionTimeoutMillis: 10_000,
    application_name: 'lastcall',
    types: { getTypeParser },
  });
  // Without a listener an idle client's error would crash the process.
  const { watch } = options;
  const report = watch ? (error: Error) => void watch.failed(error) : (options.onIdleError ?? (() => {}));
  pool.on('error', report);
  // pg-pool listens only to idle clients: a client checked out (the tick's lock holder, a
  // transaction between two statements) whose connection breaks emits 'error' with no
  // listener, which ends the process (docs/operations.md, "Outages"). Each client gets one for
  // its whole life; its query rejects anyway, and pg-pool drops a client that is no longer
  // queryable when it is released.
  pool.on('connect', (client) => client.on('error', report));
  if (watch) watchConnections(pool, watch);
  return pool;
}

type ConnectCallback = (
  error: Error | undefined,
  client?: PoolClient,
  done?: (release?: unknown) => void,
) => void;

/**
 * Reports each new connection to `watch`, and each refused one. pg's pool has an event for the
 * first ('connect') but none for the second, so `connect` is wrapped in both its forms (the
 * pool's own `query` calls it with a callback).
 */
function watchConnections(pool: Pool, watch: DatabaseWatch): void {
  pool.on('connect', () => watch.answered());
  const connect = pool.connect.bind(pool) as (callback?: ConnectCallback) => Promise<PoolClient> | undefined;
  const watched = (callback?: ConnectCallback) => {
    if (callback) {
      return connect((error, client, done) => {
        if (error) watch.failed(error);
        callback(error, client, done);
      });
    }
    return (connect() as Promise<PoolClient>).catch((error: unknown) => {
      watch.failed(error);
      throw error;
    });
  };
  (pool as unknown as { connect: typeof watched }).connect = watched;
}

function sqlOn(client: Pool | PoolClient): Sql {
  return {
    async query<R extends QueryResultRow>(text: string, params: readonly unknown[] = []) {
      return (await client.query<R>(text, [...params])).rows;
    },
    async one<R extends QueryResultRow>(text: string, params: readonly unknown[] = []) {
      return (await client.query<R>(text, [...params])).rows[0];
    },
    async exec(text: string, params: readonly unknown[] = []) {
      return (await client.query(text, [...params])).rowCount ?? 0;
    },
    async copyIn(statement: string, source: Readable) {
      const run = async (on: PoolClient) => {
        const sink = on.query(copyFrom(statement));
        // An error in `source` destroys the sink, which makes pg-copy-streams send CopyFail.
        await pipeline(source, sink);
        return sink.rowCount;
      };
      if (!(client instanceof Pool)) return run(client);
      const on = await client.connect();
      try {
        return await run(on);
      } finally {
        on.release();
      }
    },
  };
}

export async function transaction<T>(pool: Pool, fn: (sql: Sql) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(sqlOn(client));
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    // A failed ROLLBACK means the connection is unusable: destroy it rather than return it.
    await client.query('ROLLBACK').then(
      () => client.release(),
      (rollbackError: unknown) => client.release(rollbackError instanceof Error ? rollbackError : true),
    );
    throw error;
  }
}

export function openDb(config: Pick<Config, 'databaseUrl'>, options: PoolOptions = {}): Db {
  const pool = createPool(config.databaseUrl, options);
  let closing: Promise<void> | undefined;
  return {
    ...sqlOn(pool),
    pool,
    tx: (fn) => transaction(pool, fn),
    // Idempotent: shutdown paths may close the same Db more than once.
    close: () => (closing ??= pool.end()),
  };
}
