// The import's one non-cryptographic string hash (docs/subscribers.md, "How an import works"):
// four multiplicative lanes (cyrb53's mixing, widened) over each string's length and
// characters, every lane finally depending on every other (murmur3's finaliser after
// cross-adding). A key of the duplicate check (seen-keys.ts) takes 64 bits of it, a record's
// digest (import.digest.ts) all 128. Not cryptographic: a collision makes two keys look the same
// (the row is then reported a duplicate, never dropped silently) or a changed record look
// unchanged (about one chance in 2^64 per pair at 128 bits).

/** Words (32-bit) of the widest hash. */
export const HASH_WORDS = 4;

/** The lanes' state between strings; one hash at a time (JavaScript is single-threaded). */
const lanes = new Int32Array(HASH_WORDS);

/** Starts a hash from `seed` (HASH_WORDS words). */
export function hashStart(seed: ArrayLike<number>): void {
  lanes[0] = seed[0]!;
  lanes[1] = seed[1]!;
  lanes[2] = seed[2]!;
  lanes[3] = seed[3]!;
}

/** Adds one string (its length, then its UTF-16 code units). */
export function hashString(value: string): void {
  const n = value.length;
  let a = Math.imul(lanes[0]! ^ n, 0x9e3779b1);
  let b = Math.imul(lanes[1]! ^ n, 0x85ebca77);
  let c = Math.imul(lanes[2]! ^ n, 0xc2b2ae3d);
  let d = Math.imul(lanes[3]! ^ n, 0x27d4eb2f);
  for (let i = 0; i < n; i++) {
    const ch = value.charCodeAt(i);
    a = Math.imul(a ^ ch, 2654435761);
    b = Math.imul(b ^ ch, 1597334677);
    c = Math.imul(c ^ ch, 2246822519);
    d = Math.imul(d ^ ch, 3266489917);
  }
  lanes[0] = a;
  lanes[1] = b;
  lanes[2] = c;
  lanes[3] = d;
}

/** Adds bytes[from..to) (its length, then its bytes): a raw CSV record (import.sift.ts). The
 *  same lanes as hashString, in a loop of its own: one loop reading either a string or bytes
 *  would be polymorphic on the import's hottest path. */
export function hashBytes(bytes: Uint8Array, from: number, to: number): void {
  const n = to - from;
  let a = Math.imul(lanes[0]! ^ n, 0x9e3779b1);
  let b = Math.imul(lanes[1]! ^ n, 0x85ebca77);
  let c = Math.imul(lanes[2]! ^ n, 0xc2b2ae3d);
  let d = Math.imul(lanes[3]! ^ n, 0x27d4eb2f);
  for (let i = from; i < to; i++) {
    const ch = bytes[i]!;
    a = Math.imul(a ^ ch, 2654435761);
    b = Math.imul(b ^ ch, 1597334677);
    c = Math.imul(c ^ ch, 2246822519);
    d = Math.imul(d ^ ch, 3266489917);
  }
  lanes[0] = a;
  lanes[1] = b;
  lanes[2] = c;
  lanes[3] = d;
}

/** Ends the hash: its first `words` words (2 or HASH_WORDS) to out[at..]. */
export function hashEnd(out: Uint32Array, at: number, words: number): void {
  let a = lanes[0]!;
  let b = lanes[1]!;
  let c = lanes[2]!;
  let d = lanes[3]!;
  a = fmix(a + Math.imul(b, 3) + d);
  b = fmix(b + Math.imul(c, 5) + a);
  out[at] = a >>> 0;
  out[at + 1] = b >>> 0;
  if (words <= 2) return;
  c = fmix(c + Math.imul(d, 7) + b);
  d = fmix(d + Math.imul(a, 11) + c);
  out[at + 2] = c >>> 0;
  out[at + 3] = d >>> 0;
}

function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const KEY_SEED = [0xdeadbeef, 0x41c6ce57, 0x9b05688c, 0x1f83d9ab];

/** A 64-bit string hash as two 32-bit halves, written to out[at] and out[at + 1]. */
export function keyHash(key: string, out: Uint32Array, at = 0): void {
  hashStart(KEY_SEED);
  hashString(key);
  hashEnd(out, at, 2);
}
