// The staging table of an import chunk and the COPY text lines that fill it. Valid rows go
// into `import_rows` with COPY (one stream per chunk, no per-row statement), and the merge
// (import.merge.ts) reads them from there with set-based statements. The table is temporary
// (private to the connection, no WAL) and dropped when the chunk's transaction ends.
import type { Sql } from '../store/pool.ts';
import { tombstoneHash } from './subscriber.repository.ts';
import type { SubscriberInput } from './subscriber.schema.ts';

// Dropped and re-created per chunk: --strict and --dry-run run every chunk in one transaction.
// The merge joins tens of thousands of rows at once, on a temporary table without statistics
// (ANALYZE of each chunk cost more than it saved): enough work_mem to hash and sort in memory,
// and no JIT, which the planner's inflated estimates would otherwise switch on (measured:
// 170 ms of compiling for a 50 ms join).
const CREATE_STAGING = `
SET LOCAL jit = off;
SET LOCAL work_mem = '64MB';
SET LOCAL lastcall.importing = 'on';
DROP TABLE IF EXISTS import_rows;
CREATE TEMP TABLE import_rows (
  line           integer NOT NULL,
  id             text NOT NULL,
  name           text NOT NULL,
  phone          text,
  phone_region   text,                -- the phone's region ("FR"), from the validation's parse
  email          text,
  locale         text NOT NULL,
  timezone       text NOT NULL,
  attributes     jsonb NOT NULL,      -- the row's attributes: a value sets, null removes (an empty
                                      -- cell); merged with the stored ones once those are locked
  channels       text[] NOT NULL,
  consent_at     timestamptz NOT NULL,
  consent_source text NOT NULL,
  tags           text[] NOT NULL,     -- sorted: stored tags are, so another order is no change
  phone_hash     text,                -- tombstone hashes, only when there are tombstones
  email_hash     text,
  import_digest  bytea                -- the record's stored digest (import.digest.ts); null: none
) ON COMMIT DROP`;

export const COPY_STAGING = 'COPY import_rows FROM STDIN';

export async function createStaging(sql: Sql): Promise<void> {
  await sql.exec(CREATE_STAGING);
}

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value in COPY's text format: backslash, tab and line breaks escaped; null is \N. */
function field(value: string | undefined): string {
  if (value === undefined) return '\\N';
  return SPECIAL.test(value) ? value.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : value;
}

/** Channels and tags are validated words ([a-z0-9_-]): an array literal needs no quoting. */
const arrayLiteral = (items: readonly string[]) => `{${items.join(',')}}`;

/** One staging line. `hashKey` set: the tombstone hashes of the phone and email go with it.
 *  `digest`: the stored digest as COPY text (import.digest.ts's storedDigestHex). */
export function stagingLine(
  line: number,
  v: SubscriberInput,
  hashKey: string | undefined,
  digest?: string | undefined,
): string {
  const phoneHash =
    hashKey !== undefined && v.phone !== undefined ? tombstoneHash(hashKey, 'phone', v.phone) : undefined;
  const emailHash =
    hashKey !== undefined && v.email !== undefined ? tombstoneHash(hashKey, 'email', v.email) : undefined;
  return `${line}\t${field(v.id)}\t${field(v.name)}\t${field(v.phone)}\t${field(v.phoneRegion)}\t${field(v.email)}\t${v.locale}\t${field(v.timezone)}\t${field(JSON.stringify(v.attributes))}\t${arrayLiteral(v.channels)}\t${new Date(v.consentAt).toISOString()}\t${field(v.consentSource)}\t${arrayLiteral([...v.tags].sort())}\t${field(phoneHash)}\t${field(emailHash)}\t${digest ?? '\\N'}\n`;
}
