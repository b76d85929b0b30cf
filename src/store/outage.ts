// PostgreSQL outages (a restart, a failover, a stopped server), told once and waited out.
// When the server goes away every pooled connection breaks and every query fails until it is
// back: without this, a process would log a line per idle connection and per failed job.
// `watchDatabase` turns that into two lines per outage and process: the first failure that
// means "unreachable" ("PostgreSQL is unreachable…"), then the first connection that succeeds
// afterwards ("PostgreSQL is back after N s"). The pool reports to it (pool.ts).
// `untilDatabaseAnswers` retries one write through an outage, for the writes that must not be
// dropped: the outcome of a message the provider has already taken.
import type { Logger } from '../shared/logger.ts';
import { isUnreachable } from './connection-error.ts';

export interface DatabaseWatch {
  /** True between the first failure of an outage and the first connection after it. */
  readonly down: boolean;
  /** Reports an error: true (logged the first time) when it means PostgreSQL is unreachable. */
  failed(error: unknown): boolean;
  /** A connection succeeded. */
  answered(): void;
}

export function watchDatabase(logger: Logger, now: () => number = Date.now): DatabaseWatch {
  let since: number | undefined;
  return {
    get down() {
      return since !== undefined;
    },
    failed(error) {
      if (!isUnreachable(error)) return false;
      if (since === undefined) {
        since = now();
        logger.error(
          { err: error instanceof Error ? error.message : String(error) },
          'PostgreSQL is unreachable: work waits and resumes when it answers again',
        );
      }
      return true;
    },
    answered() {
      if (since === undefined) return;
      const downForMs = now() - since;
      since = undefined;
      logger.warn({ downForMs }, `PostgreSQL is back after ${Math.round(downForMs / 1000)} s`);
    },
  };
}

export interface PersistOptions {
  /** Give up (throw the last error) after this long. Default 60 s. */
  readonly maxWaitMs?: number;
  /** First wait between tries, doubled up to 2 s. Default 200 ms. */
  readonly firstWaitMs?: number;
}

/** Runs `write`, and again while it fails because PostgreSQL is unreachable (bounded). */
export async function untilDatabaseAnswers<T>(
  write: () => Promise<T>,
  options: PersistOptions = {},
): Promise<T> {
  const end = Date.now() + (options.maxWaitMs ?? 60_000);
  let wait = options.firstWaitMs ?? 200;
  for (;;) {
    try {
      return await write();
    } catch (error) {
      if (!isUnreachable(error) || Date.now() + wait > end) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(2 * wait, 2_000);
    }
  }
}
