// Remembers which keys (ids, phones, emails) a CSV file has already used, and on which line,
// without keeping the keys: a million-row file holds up to three million keys, and JS strings in
// a Set would cost a few hundred bytes each. This keeps a 64-bit hash and a line number per key
// (open addressing, linear probing): 12 bytes a slot, at most 4/3 slots a key.
// The table is cut into SHARDS tables by the hash's top bits, each growing on its own: growing
// one table of 4 million slots held the old and the new array at once (25 + 50 MB at 1M rows),
// growing a shard holds 1/SHARDS of that (docs/memory.md).
// Two different keys sharing a 64-bit hash would read as a duplicate: about one chance in
// four million for a file of a million rows; the row is then reported, never silently dropped.
// The table's shape (slotOf, tableFor) is also that of the import's known digests
// (import.digest.ts): one open-addressed table of (64-bit hash, value) slots.

import { keyHash } from './hash.ts';

/** Shards, chosen by the top 8 bits of the hash's high half. */
const SHARDS = 256;
/** Slots per shard at first (a power of two). */
const INITIAL_CAPACITY = 16;
const MAX_LOAD = 0.75;
/** Words per slot: the hash's low half, its high half, the value (0: empty slot; here the line). */
export const WORDS = 3;

export class SeenKeys {
  /** Per shard, its slots as WORDS consecutive words each. */
  readonly #shards: Uint32Array[];
  readonly #sizes = new Uint32Array(SHARDS);
  #size = 0;
  readonly #h = new Uint32Array(2);

  /** `expected`: the keys the table will likely hold, so that it is made at its size rather
   *  than grown (each growth leaves the old shard as garbage until a full collection). */
  constructor(expected = 0) {
    const capacity = slotsFor(Math.ceil(expected / SHARDS), INITIAL_CAPACITY);
    this.#shards = Array.from({ length: SHARDS }, () => new Uint32Array(capacity * WORDS));
  }

  get size(): number {
    return this.#size;
  }

  /** The line `key` was added on, or 0 when it has not been. */
  lineOf(key: string): number {
    keyHash(key, this.#h);
    return this.#lineAt(this.#h[0]!, this.#h[1]!);
  }

  /**
   * All or nothing for one row: the line each key was first seen on (0 for a new key), and,
   * when every key is new, records them all as seen on `line` (>= 1). Undefined keys are skipped.
   */
  claim(keys: readonly (string | undefined)[], line: number): number[] {
    const hashes = new Uint32Array(keys.length * 2);
    let present = 0;
    keys.forEach((key, i) => {
      if (key === undefined) return;
      keyHash(key, hashes, 2 * i);
      present |= 1 << i;
    });
    return this.claimHashed(hashes, 0, keys.length, present, line);
  }

  /**
   * claim() for keys hashed beforehand (keyHash, e.g. in a worker thread): `count` keys whose
   * hashes start at hashes[at]; bit i of `present` set when key i exists.
   */
  claimHashed(hashes: Uint32Array, at: number, count: number, present: number, line: number): number[] {
    if (line < 1) throw new RangeError('line numbers start at 1');
    const earlier: number[] = [];
    let any = false;
    for (let i = 0; i < count; i++) {
      const first = present & (1 << i) ? this.#lineAt(hashes[at + 2 * i]!, hashes[at + 2 * i + 1]!) : 0;
      if (first !== 0) any = true;
      earlier.push(first);
    }
    if (any) return earlier;
    for (let i = 0; i < count; i++)
      if (present & (1 << i)) this.#insert(hashes[at + 2 * i]!, hashes[at + 2 * i + 1]!, line);
    return earlier;
  }

  /** Records `key` as seen on `line` (>= 1), unless it already was. */
  add(key: string, line: number): void {
    if (line < 1) throw new RangeError('line numbers start at 1');
    keyHash(key, this.#h);
    this.#insert(this.#h[0]!, this.#h[1]!, line);
  }

  #lineAt(low: number, high: number): number {
    const table = this.#shards[high >>> 24]!;
    return table[slotOf(table, low, high) + 2]!;
  }

  #insert(low: number, high: number, line: number): void {
    const shard = high >>> 24;
    let table = this.#shards[shard]!;
    if (this.#sizes[shard]! + 1 > (table.length / WORDS) * MAX_LOAD) {
      table = grown(table);
      this.#shards[shard] = table;
    }
    const slot = slotOf(table, low, high);
    if (table[slot + 2] !== 0) return;
    table[slot] = low;
    table[slot + 1] = high;
    table[slot + 2] = line;
    this.#sizes[shard]!++;
    this.#size++;
  }
}

/** Slots (a power of two, at least `least`) holding `count` entries within MAX_LOAD. */
export function slotsFor(count: number, least = 2): number {
  let slots = least;
  while (slots * MAX_LOAD < count + 1) slots *= 2;
  return slots;
}

/** The index of the slot holding this hash in `table`, or of the empty slot where it would go. */
export function slotOf(table: Uint32Array, low: number, high: number): number {
  const mask = table.length / WORDS - 1;
  let slot = low & mask;
  for (;;) {
    const at = slot * WORDS;
    if (table[at + 2] === 0 || (table[at] === low && table[at + 1] === high)) return at;
    slot = (slot + 1) & mask;
  }
}

/** `table` rehashed into twice as many slots. */
function grown(table: Uint32Array): Uint32Array {
  const next = new Uint32Array(table.length * 2);
  const mask = next.length / WORDS - 1;
  for (let at = 0; at < table.length; at += WORDS) {
    const line = table[at + 2]!;
    if (line === 0) continue;
    let slot = table[at]! & mask;
    while (next[slot * WORDS + 2] !== 0) slot = (slot + 1) & mask;
    next[slot * WORDS] = table[at]!;
    next[slot * WORDS + 1] = table[at + 1]!;
    next[slot * WORDS + 2] = line;
  }
  return next;
}
