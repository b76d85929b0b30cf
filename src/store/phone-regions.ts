// Fills `subscribers.phone_region` for rows written before the column existed (docs/audiences.md,
// "Public holidays"): libphonenumber, which the database cannot run, reads each stored number's
// region. Run by `migrate` after the migrations; a page at a time, keyset on the id, through the
// partial index of rows still missing one, so it costs nothing once they are all filled (and a
// second `migrate` running at once only repeats the same values).
import type { Client } from 'pg';
import { phoneRegion } from '../subscribers/subscriber.schema.ts';

const PAGE = 5_000;

/** Returns how many rows it filled. */
export async function fillPhoneRegions(client: Client): Promise<number> {
  let filled = 0;
  let after = '';
  for (;;) {
    const { rows } = await client.query<{ id: string; phone: string }>(
      `SELECT id, phone FROM subscribers
        WHERE phone IS NOT NULL AND phone_region IS NULL AND id > $1
        ORDER BY id LIMIT $2`,
      [after, PAGE],
    );
    if (rows.length === 0) return filled;
    const result = await client.query(
      `UPDATE subscribers s SET phone_region = v.region
         FROM unnest($1::text[], $2::text[]) AS v (id, region)
        WHERE s.id = v.id AND s.phone_region IS NULL`,
      [rows.map((r) => r.id), rows.map((r) => phoneRegion(r.phone) ?? '')],
    );
    filled += result.rowCount ?? 0;
    after = rows.at(-1)!.id;
  }
}
