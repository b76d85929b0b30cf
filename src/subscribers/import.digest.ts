// The re-import fast path (docs/subscribers.md, "How an import works"): each subscriber an
// import leaves exactly as one CSV record makes it keeps that record's digest
// (subscribers.import_digest, migration 1796570000000_import-digests.sql), and a later import
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
 * The digests stored in the database when the import began, in an open-addressed table. Backed
 * by SharedArrayBuffers: a check worker (import.worker.ts) is handed it without a copy.
 */
export interface KnownDigests {
  /** Per entry, the record's digest (DIGEST_WORDS words). */
  readonly digests: Uint32Array;
  /** Per entry, the hashes of its id, phone and email (2 words each). */
  readonly keys: Uint32Array;
  /** Per entry, which of those it has (bit i: DUPLICATE_FIELDS[i]). */
  readonly present: Uint8Array;
  /** Slots: 1 + an entry's index, 0 empty; a power of two of them. */
  readonly slots: Uint32Array;
}

/**
 * The entry index of the record digest at digest[at..at+3] in `known`, or -1. The slot is the
 * digest's first word: digests are uniform.
 */
export function findKnown(known: KnownDigests, digest: Uint32Array, at: number): number {
  const mask = known.slots.length - 1;
  const digests = known.digests;
  const w0 = digest[at]!;
  for (let slot = w0 & mask; ; slot = (slot + 1) & mask) {
    const index = known.slots[slot]!;
    if (index === 0) return -1;
    const e = (index - 1) * DIGEST_WORDS;
    if (
      digests[e] === w0 &&
      digests[e + 1] === digest[at + 1] &&
      digests[e + 2] === digest[at + 2] &&
      digests[e + 3] === digest[at + 3]
    )
      return index - 1;
  }
}

/** Of entry `index`: which keys are present (bit i: DUPLICATE_FIELDS[i]); their hashes are
 *  written to keys[at..at+2*KEYS-1]. */
export function knownKeys(known: KnownDigests, index: number, keys: Uint32Array, at: number): number {
  const from = index * KEYS * 2;
  for (let k = 0; k < KEYS * 2; k++) keys[at + k] = known.keys[from + k]!;
  return known.present[index]!;
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/**
 * Every digest stored in the database, in one `COPY … TO STDOUT (FORMAT binary)`: one snapshot,
 * 47 bytes a subscriber on the wire, read into the table as the stream's parts are (the parts
 * are dropped as they are read: the whole copy is never held twice). Undefined when there are
 * none.
 */
export async function loadKnownDigests(db: Db): Promise<KnownDigests | undefined> {
  const client = await db.pool.connect();
  const parts: Buffer[] = [];
  let total = 0;
  try {
    const stream: Readable = client.query(
      copyTo(
        `COPY (SELECT import_digest FROM subscribers WHERE octet_length(import_digest) = ${DIGEST_BYTES})
           TO STDOUT (FORMAT binary)`,
      ),
    );
    for await (const part of stream) {
      parts.push(part as Buffer);
      total += (part as Buffer).length;
    }
  } finally {
    client.release();
  }
  const reader = new PartsReader(parts);
  const head = reader.take(SIGNATURE.length + 8);
  if (head === undefined || !head.subarray(0, SIGNATURE.length).equals(SIGNATURE))
    throw new Error('import digests: not a binary COPY');
  const extension = head.readUInt32BE(SIGNATURE.length + 4);
  reader.take(extension);
  const tuple = 2 + 4 + DIGEST_BYTES;
  const count = Math.floor((total - SIGNATURE.length - 8 - extension - 2) / tuple);
  if (count <= 0) return undefined;
  const shared = <T>(make: new (buffer: SharedArrayBuffer) => T, bytes: number) =>
    new make(new SharedArrayBuffer(bytes));
  let size = 2;
  while (size < count * 2) size *= 2;
  const known: KnownDigests = {
    digests: shared(Uint32Array, count * DIGEST_WORDS * 4),
    keys: shared(Uint32Array, count * KEYS * 2 * 4),
    present: shared(Uint8Array, count),
    slots: shared(Uint32Array, size * 4),
  };
  const { digests, keys, present, slots } = known;
  const mask = size - 1;
  let stored = 0;
  for (let i = 0; i < count; i++) {
    const bytes = reader.take(tuple);
    if (bytes === undefined || bytes.readInt16BE(0) !== 1 || bytes.readInt32BE(2) !== DIGEST_BYTES)
      throw new Error('import digests: unexpected binary COPY tuple');
    const e = stored * DIGEST_WORDS;
    for (let w = 0; w < DIGEST_WORDS; w++) digests[e + w] = bytes.readUInt32BE(6 + w * 4);
    // Two subscribers with one record digest cannot both be right (the digest covers the id);
    // the first is kept, and the other's row is then simply merged again.
    if (findKnown(known, digests, e) >= 0) continue;
    present[stored] = bytes[6 + DIGEST_WORDS * 4]!;
    for (let k = 0; k < KEYS * 2; k++)
      keys[stored * KEYS * 2 + k] = bytes.readUInt32BE(6 + DIGEST_WORDS * 4 + 1 + k * 4);
    let slot = digests[e]! & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = ++stored;
  }
  return known;
}

/** Reads a list of buffers as one stream of bytes, letting go of each buffer once read. */
class PartsReader {
  readonly #parts: Buffer[];
  #part = 0;
  #at = 0;

  constructor(parts: Buffer[]) {
    this.#parts = parts;
  }

  /** The next `n` bytes (a view when they lie in one part), or undefined past the end. */
  take(n: number): Buffer | undefined {
    const parts = this.#parts;
    while (this.#part < parts.length && this.#at >= parts[this.#part]!.length) this.#next();
    const part = parts[this.#part];
    if (part === undefined) return n === 0 ? Buffer.alloc(0) : undefined;
    if (this.#at + n <= part.length) {
      const view = part.subarray(this.#at, this.#at + n);
      this.#at += n;
      return view;
    }
    const out = Buffer.alloc(n);
    let filled = 0;
    while (filled < n) {
      const current = parts[this.#part];
      if (current === undefined) return undefined;
      const piece = Math.min(n - filled, current.length - this.#at);
      current.copy(out, filled, this.#at, this.#at + piece);
      filled += piece;
      this.#at += piece;
      if (this.#at >= current.length) this.#next();
    }
    return out;
  }

  #next(): void {
    // A view returned earlier keeps its own reference; the list lets go of the part.
    (this.#parts as (Buffer | undefined)[])[this.#part] = undefined;
    this.#part++;
    this.#at = 0;
  }
}
