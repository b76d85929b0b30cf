// Time-zone data (docs/timezones.md): the tzdata release this process plans with, and the ones the
// running workers report (worker_heartbeats). Workers on different releases are a rolling upgrade
// half done: the newest re-plans pending sends and older ones never undo it, but a send an old
// worker claims before the new one re-plans it goes out by the old rules. Worth a warning.
import type { Config } from '../../config/config.ts';
import { tzDataVersion } from '../../planning/tz-data.ts';
import { openDb } from '../../store/pool.ts';
import { HEARTBEAT_STALE_MS, liveWorkers } from '../worker-heartbeats.ts';
import type { Finding } from './finding.ts';

export async function timezonesCheck(config: Pick<Config, 'databaseUrl'>, now: number): Promise<Finding[]> {
  const own = tzDataVersion();
  const here: Finding = {
    check: 'timezones',
    title: 'time-zone data',
    status: 'ok',
    detail: `tzdata ${own} in this process (Node ${process.versions.node}, ICU ${process.versions.icu ?? '?'})`,
  };
  const db = openDb(config, { max: 1 });
  try {
    const workers = await liveWorkers(db, now);
    if (workers.length === 0)
      return [
        here,
        {
          check: 'timezones',
          title: 'workers’ time-zone data',
          status: 'skip',
          detail: `no worker heard from in the last ${HEARTBEAT_STALE_MS / 60_000} minutes`,
        },
      ];
    const byVersion = new Map<string, string[]>();
    for (const w of workers)
      byVersion.set(w.tzVersion, [...(byVersion.get(w.tzVersion) ?? []), `${w.host}:${w.pid}`]);
    const list = [...byVersion].map(([v, who]) => `${v} (${who.join(', ')})`).join('; ');
    if (byVersion.size === 1) {
      return [
        here,
        {
          check: 'timezones',
          title: 'workers’ time-zone data',
          status: 'ok',
          detail: `${workers.length} worker(s), all on tzdata ${list}`,
        },
      ];
    }
    return [
      here,
      {
        check: 'timezones',
        title: 'workers’ time-zone data',
        status: 'warn',
        detail: `workers run different tzdata releases: ${list}`,
        fix:
          'finish the upgrade: run every worker on the same Node (or ICU_TIMEZONE_FILES_DIR); the newest re-plans pending sends, ' +
          'but a send an older worker claims first goes out by its older rules (docs/timezones.md)',
      },
    ];
  } catch (error) {
    return [
      here,
      {
        check: 'timezones',
        title: 'workers’ time-zone data',
        status: 'warn',
        detail: `cannot read the workers' heartbeats: ${(error as Error).message}`,
        fix: 'check PostgreSQL (lastcall doctor --only postgres) and run "lastcall db migrate"',
      },
    ];
  } finally {
    await db.close();
  }
}
