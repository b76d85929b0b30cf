// The re-import fast path (docs/subscribers.md, "How an import works"): each subscriber an
// import leaves exactly as one CSV record makes it keeps that record's digest
// (subscribers.import_digest, migration 1796560000000_import-digests.sql), and a later import
// loads them all before reading its file: a record whose digest is known is unchanged and is
// not validated, staged or merged again. Anything else that changes the subscriber or its
// channels clears the digest (triggers), so such a row is merged again by the ordinary rules.
//
// A stored digest is DIGEST_BYTES: the record's 128-bit digest, then a byte saying which of id,
// phone and email the row has, then their 64-bit hashes (seen-keys.ts's keyHash of csv.ts's
// duplicateKeys): a skipped row still claims its keys in the file's duplicate check, in file
// order, without its phone being parsed again.
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { to as copyTo } from 'pg-copy-streams';
import type { Db } from '../store/pool.ts';
import { DUPLICATE_FIELDS } from './csv.ts';

/** Bump when validation or the staging of a row changes what a record becomes: every stored
 *  digest then stops matching, and the next import validates every row again. The versions of
 *  the data validation reads (phone metadata, the zone and language data) are part of it. */
export const RULES_VERSION = [
  'lastcall-import-rules-1',
  `libphonenumber-js ${(createRequire(import.meta.url)('libphonenumber-js/package.json') as { version: string }).version}`,
  `tz ${process.versions.tz ?? ''}`,
  `icu ${process.versions.icu ?? ''}`,
].join('\n');

const KEYS = DUPLICATE_FIELDS.length;
/** Digest words (32-bit) of a record. */
export const DIGEST_WORDS = 4;
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
 *  out[at..at+3]. Four multiplicative lanes over each field's length and characters, mixed at
 *  the end: not cryptographic (a collision would only make a changed row count as unchanged,
 *  and a skipped row writes nothing), about 0.5 µs a record. */
export function digestInto(seed: Uint32Array, fields: readonly string[], out: Uint32Array, at: number): void {
  let a = seed[0]!;
  let b = seed[1]!;
  let c = seed[2]!;
  let d = seed[3]!;
  for (let f = 0; f < fields.length; f++) {
    const value = fields[f]!;
    const n = value.length;
    a = Math.imul(a ^ n, 0x9e3779b1);
    b = Math.imul(b ^ n, 0x85ebca77);
    c = Math.imul(c ^ n, 0xc2b2ae3d);
    d = Math.imul(d ^ n, 0x27d4eb2f);
    for (let i = 0; i < n; i++) {
      const ch = value.charCodeAt(i);
      a = Math.imul(a ^ ch, 2654435761);
      b = Math.imul(b ^ ch, 1597334677);
      c = Math.imul(c ^ ch, 2246822519);
      d = Math.imul(d ^ ch, 3266489917);
    }
  }
  // Every lane ends depending on every other (murmur3's finaliser after cross-adding).
  a = fmix(a + Math.imul(b, 3) + d);
  b = fmix(b + Math.imul(c, 5) + a);
  c = fmix(c + Math.imul(d, 7) + b);
  d = fmix(d + Math.imul(a, 11) + c);
  out[at] = a >>> 0;
  out[at + 1] = b >>> 0;
  out[at + 2] = c >>> 0;
  out[at + 3] = d >>> 0;
}

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** A stored digest (DIGEST_BYTES) from a record's digest and its keys, as `\x…` hex for COPY. */
export function storedDigestHex(
  digest: Uint32Array,
  at: number,
  present: number,
  keys: Uint32Array,
  keysAt: number,
): string {
  const bytes = new Uint8Array(DIGEST_BYTES);
  const view = new DataView(bytes.buffer);
  for (let w = 0; w < DIGEST_WORDS; w++) view.setUint32(w * 4, digest[at + w]!);
  bytes[DIGEST_WORDS * 4] = present;
  for (let k = 0; k < KEYS * 2; k++) view.setUint32(DIGEST_WORDS * 4 + 1 + k * 4, keys[keysAt + k]!);
  return `\\\\x${Buffer.from(bytes.buffer).toString('hex')}`;
}

/**
 * The digests stored in the database when the import began, in an open-addressed table. Backed
 * by SharedArrayBuffers: a check worker (import.worker.ts) is handed it without a copy.
 */
export interface KnownDigests {
  /** Stored digests, DIGEST_BYTES each. */
  readonly entries: Uint8Array;
  /** Slots: 1 + an entry's index, 0 empty; a power of two of them. */
  readonly slots: Uint32Array;
}

/**
 * The entry index of the record digest at digest[at..at+3] in `known`, or -1. The slot is the
 * digest's first word: digests are uniform.
 */
export function findKnown(known: KnownDigests, digest: Uint32Array, at: number): number {
  const mask = known.slots.length - 1;
  const entries = known.entries;
  const w0 = digest[at]!;
  for (let slot = w0 & mask; ; slot = (slot + 1) & mask) {
    const index = known.slots[slot]!;
    if (index === 0) return -1;
    const e = (index - 1) * DIGEST_BYTES;
    let same = true;
    for (let w = 0; w < DIGEST_WORDS && same; w++) {
      const o = e + w * 4;
      const word =
        ((entries[o]! << 24) | (entries[o + 1]! << 16) | (entries[o + 2]! << 8) | entries[o + 3]!) >>> 0;
      same = word === digest[at + w];
    }
    if (same) return index - 1;
  }
}

/** Of entry `index`: which keys are present (bit i: DUPLICATE_FIELDS[i]); their hashes are
 *  written to keys[at..at+2*KEYS-1]. */
export function knownKeys(known: KnownDigests, index: number, keys: Uint32Array, at: number): number {
  const e = index * DIGEST_BYTES + DIGEST_WORDS * 4;
  const entries = known.entries;
  for (let k = 0; k < KEYS * 2; k++) {
    const o = e + 1 + k * 4;
    keys[at + k] =
      ((entries[o]! << 24) | (entries[o + 1]! << 16) | (entries[o + 2]! << 8) | entries[o + 3]!) >>> 0;
  }
  return entries[e]!;
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * Every digest stored in the database, in one `COPY … TO STDOUT (FORMAT binary)`: one snapshot,
 * about 41 bytes a subscriber on the wire. Undefined when there are none.
 */
export async function loadKnownDigests(db: Db): Promise<KnownDigests | undefined> {
  const client = await db.pool.connect();
  const parts: Buffer[] = [];
  try {
    const stream: Readable = client.query(
      copyTo(
        `COPY (SELECT import_digest FROM subscribers WHERE octet_length(import_digest) = ${DIGEST_BYTES})
           TO STDOUT (FORMAT binary)`,
      ),
    );
    for await (const part of stream) parts.push(part as Buffer);
  } finally {
    client.release();
  }
  const data = Buffer.concat(parts);
  if (data.length < SIGNATURE.length + 8 || !data.subarray(0, SIGNATURE.length).equals(SIGNATURE))
    throw new Error('import digests: not a binary COPY');
  let at = SIGNATURE.length + 4;
  at += 4 + data.readUInt32BE(at);
  const tuple = 2 + 4 + DIGEST_BYTES;
  const count = Math.floor((data.length - at - 2) / tuple);
  if (count === 0) return undefined;
  const entries = new Uint8Array(new SharedArrayBuffer(count * DIGEST_BYTES));
  let size = 2;
  while (size < count * 2) size *= 2;
  const slots = new Uint32Array(new SharedArrayBuffer(size * 4));
  const known = { entries, slots };
  const digest = new Uint32Array(DIGEST_WORDS);
  let stored = 0;
  for (let i = 0; i < count; i++, at += tuple) {
    if (data.readInt16BE(at) !== 1 || data.readInt32BE(at + 2) !== DIGEST_BYTES)
      throw new Error('import digests: unexpected binary COPY tuple');
    const from = at + 6;
    for (let w = 0; w < DIGEST_WORDS; w++) digest[w] = data.readUInt32BE(from + w * 4);
    // Two subscribers with one record digest cannot both be right (the digest covers the id);
    // the first is kept, and the other's row is then simply merged again.
    if (findKnown(known, digest, 0) >= 0) continue;
    entries.set(data.subarray(from, from + DIGEST_BYTES), stored * DIGEST_BYTES);
    const mask = size - 1;
    let slot = digest[0]! & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = ++stored;
  }
  return known;
}
