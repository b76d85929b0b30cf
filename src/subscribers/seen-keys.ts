// Remembers which keys (ids, phones, emails) a CSV file has already used, and on which line,
// without keeping the keys: a million-row file holds three million keys, and JS strings in a
// Set would cost a few hundred bytes each. This keeps a 64-bit hash and a line number per key
// in typed arrays (open addressing, linear probing): 12 bytes a slot, at most 4/3 slots a key.
// Two different keys sharing a 64-bit hash would read as a duplicate: about one chance in
// four million for a file of a million rows; the row is then reported, never silently dropped.

const INITIAL_CAPACITY = 1 << 12;
const MAX_LOAD = 0.75;

/** A 64-bit string hash as two 32-bit halves (cyrb53's mixing, without its truncation). */
function hash(key: string, out: Uint32Array): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  out[0] = h1 >>> 0;
  out[1] = h2 >>> 0;
}

export class SeenKeys {
  #low = new Uint32Array(INITIAL_CAPACITY);
  #high = new Uint32Array(INITIAL_CAPACITY);
  /** The line a key was first seen on; 0 marks an empty slot (lines start at 1). */
  #lines = new Uint32Array(INITIAL_CAPACITY);
  #size = 0;
  readonly #h = new Uint32Array(2);

  get size(): number {
    return this.#size;
  }

  /** The line `key` was added on, or 0 when it has not been. */
  lineOf(key: string): number {
    hash(key, this.#h);
    return this.#lines[this.#slot(this.#h[0]!, this.#h[1]!)]!;
  }

  /**
   * All or nothing for one row: the line each key was first seen on (0 for a new key), and,
   * when every key is new, records them all as seen on `line` (>= 1). Undefined keys are skipped.
   */
  claim(keys: readonly (string | undefined)[], line: number): number[] {
    if (line < 1) throw new RangeError('line numbers start at 1');
    const hashes = new Uint32Array(keys.length * 2);
    const earlier = keys.map((key, i) => {
      if (key === undefined) return 0;
      hash(key, this.#h);
      hashes[2 * i] = this.#h[0]!;
      hashes[2 * i + 1] = this.#h[1]!;
      return this.#lines[this.#slot(this.#h[0]!, this.#h[1]!)]!;
    });
    if (earlier.some((l) => l !== 0)) return earlier;
    keys.forEach((key, i) => {
      if (key !== undefined) this.#insert(hashes[2 * i]!, hashes[2 * i + 1]!, line);
    });
    return earlier;
  }

  /** Records `key` as seen on `line` (>= 1), unless it already was. */
  add(key: string, line: number): void {
    if (line < 1) throw new RangeError('line numbers start at 1');
    hash(key, this.#h);
    this.#insert(this.#h[0]!, this.#h[1]!, line);
  }

  #insert(low: number, high: number, line: number): void {
    if (this.#size + 1 > this.#lines.length * MAX_LOAD) this.#grow();
    const slot = this.#slot(low, high);
    if (this.#lines[slot] !== 0) return;
    this.#low[slot] = low;
    this.#high[slot] = high;
    this.#lines[slot] = line;
    this.#size++;
  }

  /** The slot holding this hash, or the empty slot where it would go. */
  #slot(low: number, high: number): number {
    const lows = this.#low;
    const highs = this.#high;
    const lines = this.#lines;
    const mask = lines.length - 1;
    let slot = low & mask;
    while (lines[slot] !== 0 && (lows[slot] !== low || highs[slot] !== high)) slot = (slot + 1) & mask;
    return slot;
  }

  #grow(): void {
    const low = this.#low;
    const high = this.#high;
    const lines = this.#lines;
    const capacity = lines.length * 2;
    this.#low = new Uint32Array(capacity);
    this.#high = new Uint32Array(capacity);
    this.#lines = new Uint32Array(capacity);
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] !== 0) this.#insertFresh(low[i]!, high[i]!, lines[i]!);
    }
  }

  /** Insertion of a hash known to be absent (rehashing). */
  #insertFresh(low: number, high: number, line: number): void {
    const lines = this.#lines;
    const mask = lines.length - 1;
    let slot = low & mask;
    while (lines[slot] !== 0) slot = (slot + 1) & mask;
    this.#low[slot] = low;
    this.#high[slot] = high;
    lines[slot] = line;
  }
}
