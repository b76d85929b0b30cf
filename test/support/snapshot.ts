// Every row of some tables, hashed: two equal snapshots mean the tables hold exactly the same
// rows. The fuzz tests take one before and after a refused input: nothing half-written.
import type { Db } from '../../src/store/pool.ts';

export async function tableSnapshot(db: Db, tables: readonly string[]): Promise<string> {
  const parts = await Promise.all(
    tables.map(async (table) => {
      const row = await db.one<{ n: number; h: string }>(
        `SELECT count(*)::int AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM ${table} t`,
      );
      return `${table}:${row?.n}:${row?.h}`;
    }),
  );
  return parts.join(' ');
}
