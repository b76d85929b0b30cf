// Which tz data each `lastcall work` process runs on (docs/timezones.md). A worker writes a row
// when it starts and every minute after, and deletes it when it stops; `doctor` reads the rows
// seen recently and warns when they name different releases (a rolling upgrade half done, or a
// host whose Node or ICU_TIMEZONE_FILES_DIR differs).
import { hostname } from 'node:os';
import type { Sql } from '../store/pool.ts';

export interface WorkerIdentity {
  readonly workerId: string;
  readonly host: string;
  readonly pid: number;
  readonly tzVersion: string;
  readonly node: string;
  readonly startedAt: number;
}

export function thisWorker(tzVersion: string, startedAt: number): WorkerIdentity {
  const host = hostname();
  return {
    workerId: `${host}:${process.pid}:${startedAt}`,
    host,
    pid: process.pid,
    tzVersion,
    node: process.versions.node,
    startedAt,
  };
}

/** Records that `worker` is alive at `now`, and forgets workers silent for a day (killed ones). */
export async function beat(sql: Sql, worker: WorkerIdentity, now: number): Promise<void> {
  await sql.exec('DELETE FROM worker_heartbeats WHERE seen_at < $1', [new Date(now - 24 * 3600_000)]);
  await sql.exec(
    `INSERT INTO worker_heartbeats (worker_id, host, pid, tz_version, node, started_at, seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (worker_id) DO UPDATE SET seen_at = EXCLUDED.seen_at, tz_version = EXCLUDED.tz_version`,
    [
      worker.workerId,
      worker.host,
      worker.pid,
      worker.tzVersion,
      worker.node,
      new Date(worker.startedAt),
      new Date(now),
    ],
  );
}

export async function retire(sql: Sql, worker: WorkerIdentity): Promise<void> {
  await sql.exec('DELETE FROM worker_heartbeats WHERE worker_id = $1', [worker.workerId]);
}

/** A worker not heard from for this long is taken for gone (it beats every minute). */
export const HEARTBEAT_STALE_MS = 3 * 60_000;

export interface LiveWorker {
  readonly host: string;
  readonly pid: number;
  readonly tzVersion: string;
  readonly node: string;
  readonly seenAt: number;
}

/** Workers heard from within HEARTBEAT_STALE_MS of `now`. */
export async function liveWorkers(sql: Sql, now: number): Promise<LiveWorker[]> {
  const rows = await sql.query<{
    host: string;
    pid: number;
    tz_version: string;
    node: string;
    seen_at: Date;
  }>(
    `SELECT host, pid, tz_version, node, seen_at FROM worker_heartbeats WHERE seen_at >= $1
      ORDER BY host, pid`,
    [new Date(now - HEARTBEAT_STALE_MS)],
  );
  return rows.map((r) => ({
    host: r.host,
    pid: r.pid,
    tzVersion: r.tz_version,
    node: r.node,
    seenAt: r.seen_at.getTime(),
  }));
}
