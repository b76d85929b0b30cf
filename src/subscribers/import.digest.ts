// The re-import fast path (docs/subscribers.md, "How an import works"): each subscriber an
// import leaves exactly as one CSV record makes it keeps that record's digest
// (subscribers.import_digest, migration 1796570000000_import-digests.sql), and a later import
// loads them all before reading its file: a record whose digest is known is unchanged and is
// not validated, staged or merged again. Anything else that changes the subscriber or its
// channels clears the digest (triggers), so such a row is merged again by the ordinary rules.
//
// A stored digest is DIGEST_BYTES: the record's 128-bit digest, then a byte saying which of id,
// phone and email the row has, then their 64-bit hashes (hash.ts's keyHash of csv.ts's
// duplicateKeys): a skipped row still claims its keys in the file's duplicate check, in file
// order, without its phone being parsed again.
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { to as copyTo } from 'pg-copy-streams';
import type { Db } from '../store/pool.ts';
import { DUPLICATE_FIELDS } from './csv.ts';
import { HASH_WORDS, hashEnd, hashStart, hashString } from './hash.ts';
import { slotOf, slotsFor, WORDS } from './seen-keys.ts';

/** Bump when validation or the staging of a row changes what a record becomes: every stored
 *  digest then stops matching, and the next import validates every row again. The versions of
 *  the data validation reads (phone metadata, the zone and language data) are part of it. */
export const RULES_VERSION = [
  'lastcall-import-rules-2',
  `libphonenumber-js ${(createRequire(import.meta.url)('libphonenumber-js/package.json') as { version: string }).version}`,
  `tz ${process.versions.tz ?? ''}`,
  `icu ${process.versions.icu ?? ''}`,
].join('\n');

const KEYS = DUPLICATE_FIELDS.length;
/** Digest words (32-bit) of a record. */
export const DIGEST_WORDS = HASH_WORDS;
/** Bytes of a stored digest: the record's digest, the keys present, their hashes. */
export const DIGEST_BYTES = DIGEST_WORDS * 4 + 1 + KEYS * 8;

/** The starting state of the digests of a file's records: the rules and the header. */
export function digestSeed(names: readonly string[]): Uint32Array {
  const seed = new Uint32Array(DIGEST_WORDS);
  seed.set([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344]);
  digestInto(seed, [RULES_VERSION, ...names], seed, 0);
  return seed;
}

/** The 128-bit digest of a record's fields (as csv-parse gave them), from `seed`, written to
 *  out[at..at+3] (hash.ts; about 0.5 µs a record). */
export function digestInto(seed: Uint32Array, fields: readonly string[], out: Uint32Array, at: number): void {
  hashStart(seed);
  for (let f = 0; f < fields.length; f++) hashString(fields[f]!);
  hashEnd(out, at, DIGEST_WORDS);
}

/** Reused by storedDigestHex: one row's stored digest at a time. */
const scratch = Buffer.alloc(DIGEST_BYTES);

/** A stored digest (DIGEST_BYTES) from a record's digest and its keys, as `\x…` hex for COPY. */
export function storedDigestHex(
  digest: Uint32Array,
  at: number,
  present: number,
  keys: Uint32Array,
  keysAt: number,
): string {
  for (let w = 0; w < DIGEST_WORDS; w++) scratch.writeUInt32BE(digest[at + w]!, w * 4);
  scratch[DIGEST_WORDS * 4] = present;
  for (let k = 0; k < KEYS * 2; k++) scratch.writeUInt32BE(keys[keysAt + k]!, DIGEST_WORDS * 4 + 1 + k * 4);
  return `\\\\x${scratch.toString('hex')}`;
}

/**
 * The digests stored in the database when the import began, in seen-keys.ts's table shape: a
 * slot holds a digest's first 64 bits and 1 + its entry's index; an entry holds the digest's
 * other 64 bits, its keys' hashes and which keys it has. Backed by SharedArrayBuffers: a check
 * worker (import.worker.ts) is handed it without a copy. Made for the planner's estimate of the
 * rows and grown if more come (loadKnownDigests).
 */
export interface KnownDigests {
  /** WORDS words a slot (seen-keys.ts): digest words 0 and 1, 1 + the entry's index. */
  readonly table: Uint32Array;
  /** ENTRY_WORDS words an entry: digest words 2 and 3, the hashes of its id, phone and email
   *  (2 words each). */
  readonly entries: Uint32Array;
  /** Per entry, which keys it has (bit i: DUPLICATE_FIELDS[i]). */
  readonly present: Uint8Array;
}

const ENTRY_WORDS = DIGEST_WORDS - 2 + KEYS * 2;

/** The entry index of the record digest at digest[at..at+3] in `known`, or -1. */
export function findKnown(known: KnownDigests, digest: Uint32Array, at: number): number {
  const slot = slotOf(known.table, digest[at]!, digest[at + 1]!);
  const index = known.table[slot + 2]! - 1;
  if (index < 0) return -1;
  const e = index * ENTRY_WORDS;
  return known.entries[e] === digest[at + 2] && known.entries[e + 1] === digest[at + 3] ? index : -1;
}

/** Of entry `index`: which keys are present (bit i: DUPLICATE_FIELDS[i]); their hashes are
 *  written to keys[at..at+2*KEYS-1]. */
export function knownKeys(known: KnownDigests, index: number, keys: Uint32Array, at: number): number {
  const from = index * ENTRY_WORDS + DIGEST_WORDS - 2;
  for (let k = 0; k < KEYS * 2; k++) keys[at + k] = known.entries[from + k]!;
  return known.present[index]!;
}

/** The keys of all entries (for sizing the duplicate check's table). */
export function knownKeyCount(known: KnownDigests): number {
  let keys = 0;
  for (const bits of known.present) for (let b = bits; b !== 0; b &= b - 1) keys++;
  return keys;
}

/** An empty table for `count` digests, on SharedArrayBuffers. */
export function knownDigestsFor(count: number): KnownDigests {
  const shared = <T>(make: new (buffer: SharedArrayBuffer) => T, bytes: number) =>
    new make(new SharedArrayBuffer(bytes));
  return {
    table: shared(Uint32Array, slotsFor(count) * WORDS * 4),
    entries: shared(Uint32Array, count * ENTRY_WORDS * 4),
    present: shared(Uint8Array, count),
  };
}

/** Adds entry `index`: `words` holds the record's digest then its keys' hashes. False when the
 *  digest is there already: two subscribers with one record digest cannot both be right (the
 *  digest covers the id); the first is kept, and the other's row is then simply merged again. */
export function addKnown(known: KnownDigests, index: number, words: Uint32Array, present: number): boolean {
  const { table, entries } = known;
  const slot = slotOf(table, words[0]!, words[1]!);
  if (table[slot + 2] !== 0) return false;
  table[slot] = words[0]!;
  table[slot + 1] = words[1]!;
  table[slot + 2] = index + 1;
  entries.set(words.subarray(2, DIGEST_WORDS + KEYS * 2), index * ENTRY_WORDS);
  known.present[index] = present;
  return true;
}

const STORED = `FROM subscribers WHERE octet_length(import_digest) = ${DIGEST_BYTES}`;
const LF = 0x0a;
/** Hex digit values by byte (255: not a hex digit). */
const HEX = new Uint8Array(256).fill(255);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/**
 * Every digest stored in the database, in one `COPY … TO STDOUT` (one snapshot) of hex text, one
 * digest a line, read into the table as it arrives, so the copy is never held whole. The table
 * is made for the planner's estimate of the subscribers (`pg_class.reltuples`, which the
 * import's own ANALYZE keeps close; counting them would cost another scan of the table, 0.44 s
 * at 1M measured at load 7) and grows should more come. Undefined when there are none.
 * `capacity` (tests): the entries the table is first made for.
 */
export async function loadKnownDigests(db: Db, capacity?: number): Promise<KnownDigests | undefined> {
  const estimate = await db.one<{ n: number }>(
    "SELECT greatest(reltuples, 0)::float8 AS n FROM pg_class WHERE oid = 'subscribers'::regclass",
  );
  const loader = new Loader(capacity ?? Math.max(1024, Math.ceil((estimate?.n ?? 0) * 1.02)));
  const client = await db.pool.connect();
  try {
    const stream: Readable = client.query(
      copyTo(`COPY (SELECT encode(import_digest, 'hex') ${STORED}) TO STDOUT`),
    );
    for await (const part of stream) loader.push(part as Buffer);
  } finally {
    client.release();
  }
  return loader.end();
}

/** Reads the hex lines of loadKnownDigests into the table, a part of the stream at a time. */
class Loader {
  #known: KnownDigests;
  #capacity: number;
  readonly #words = new Uint32Array(DIGEST_WORDS + KEYS * 2);
  /** The start of a line cut by the end of the previous part. */
  #carry: Buffer = Buffer.alloc(0);
  #stored = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
    this.#known = knownDigestsFor(capacity);
  }

  push(part: Buffer): void {
    let from = 0;
    if (this.#carry.length > 0) {
      const lf = part.indexOf(LF);
      if (lf < 0) {
        this.#carry = Buffer.concat([this.#carry, part]);
        return;
      }
      const joined = Buffer.concat([this.#carry, part.subarray(0, lf)]);
      if (joined.length !== DIGEST_BYTES * 2) throw new Error('import digests: unexpected COPY line');
      this.#line(joined, 0);
      from = lf + 1;
    }
    const line = DIGEST_BYTES * 2;
    while (from + line < part.length) {
      if (part[from + line] !== LF) throw new Error('import digests: unexpected COPY line');
      this.#line(part, from);
      from += line + 1;
    }
    this.#carry = Buffer.from(part.subarray(from));
  }

  /** The table, or undefined when it is empty. */
  end(): KnownDigests | undefined {
    if (this.#carry.length > 0) throw new Error('import digests: the COPY ended inside a line');
    return this.#stored === 0 ? undefined : this.#known;
  }

  /** The digest in hex at bytes[at..]: its words, then into the table. */
  #line(bytes: Buffer, at: number): void {
    const words = this.#words;
    let w = 0;
    // The record's digest and the keys' hashes are whole words; the byte of present keys sits
    // between them.
    for (let i = 0; i < DIGEST_WORDS; i++, at += 8) words[w++] = hexWord(bytes, at);
    const present = hexByte(bytes, at);
    at += 2;
    for (let i = 0; i < KEYS * 2; i++, at += 8) words[w++] = hexWord(bytes, at);
    if (this.#stored === this.#capacity) this.#grow();
    if (addKnown(this.#known, this.#stored, words, present)) this.#stored++;
  }

  /** The table made for twice the entries, the ones stored moved over. */
  #grow(): void {
    const old = this.#known;
    this.#capacity *= 2;
    const known = knownDigestsFor(this.#capacity);
    known.entries.set(old.entries.subarray(0, this.#stored * ENTRY_WORDS));
    known.present.set(old.present.subarray(0, this.#stored));
    for (let at = 0; at < old.table.length; at += WORDS) {
      const value = old.table[at + 2]!;
      if (value === 0) continue;
      const slot = slotOf(known.table, old.table[at]!, old.table[at + 1]!);
      known.table[slot] = old.table[at]!;
      known.table[slot + 1] = old.table[at + 1]!;
      known.table[slot + 2] = value;
    }
    this.#known = known;
  }
}

function hexByte(bytes: Buffer, at: number): number {
  const high = HEX[bytes[at]!]!;
  const low = HEX[bytes[at + 1]!]!;
  if (high === 255 || low === 255) throw new Error('import digests: not hex');
  return (high << 4) | low;
}

function hexWord(bytes: Buffer, at: number): number {
  return (
    ((hexByte(bytes, at) << 24) |
      (hexByte(bytes, at + 2) << 16) |
      (hexByte(bytes, at + 4) << 8) |
      hexByte(bytes, at + 6)) >>>
    0
  );
}
