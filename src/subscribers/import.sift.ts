// The re-import's shortcut past csv-parse (docs/subscribers.md, "How an import works"): before the
// CSV parser sees the file's bytes, each record that lies on one line is hashed as raw bytes (the
// rules version and the header line seed the digest) and looked up in the known digests
// (import.digest.ts). A known record reaches the parser as an empty line (which it skips), and
// the last known one of each piece of the file (or of MARK_EVERY) as a line of bare delimiters
// (as many empty fields as the header has columns: no strings to decode, nothing to validate):
// csv.ts then takes the known records up to that line from here, each with the entry it is, in
// file order. Any other one-line record is parsed as before and carries its raw digest, which
// is what the import stores for it.
//
// Only the record boundaries are looked for here, never fields: quotes are followed just far
// enough to know where a record ends. A quote that opens a field (right after a delimiter or at
// the start of a record), "" inside it and the quote closing it (right before a delimiter or
// the line's end) are understood; a record whose quoted field goes on to the next line is left
// to csv-parse whole, with no raw digest (its digest is then made from its parsed fields, as
// before). Any other quote (inside an unquoted field, spaces around a quoted one: csv-parse's
// relaxed rules) turns the shortcut off for the rest of the file, so it can never disagree with
// the parser about where a record ends.
import type { CsvBatch, RecordSifter } from './csv.ts';
import { SIFTED_NONE, SIFTED_RAW } from './csv.ts';
import { hashBytes, hashEnd, hashStart, hashString } from './hash.ts';
import { DIGEST_WORDS, findKnown, type KnownDigests, RULES_VERSION } from './import.digest.ts';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
/** tokenize(): the record ends with the line, goes on to the next one, or the shortcut stops. */
const ENDS = 0;
const GOES_ON = 1;
const UNSURE = 2;
/** Known records at most between two that reach the parser (a batch of csv.ts may hold this
 *  many more records than its size). */
const MARK_EVERY = 256;

export class RawSifter implements RecordSifter {
  readonly #known: KnownDigests | undefined;
  readonly #delimiter: number;
  /** The raw digests' seed, once the header line is read. */
  #seed: Uint32Array | undefined;
  /** The marker a known record is replaced with: the header's delimiters. */
  #marker: Buffer = Buffer.alloc(0);
  /** A known record's fields, as the batches hold them (empty, as many as the header's). */
  #empty: readonly string[] = [];
  /** Known records sent as empty lines since the last marker, and where in the output the
   *  last one's line is (a marker may still be put there). */
  #unmarked = 0;
  #unmarkedAt = 0;
  /** The shortcut is off for the rest of the file (every byte goes to the parser as it is). */
  #off = false;
  /** The physical line (LF, CRLF or a lone CR ends one) the next line read is. */
  #line = 1;
  /** Inside a quoted field that goes on past the current line. */
  #open = false;
  /** Per one-line record since the parser's last take(): its line, its kind (an entry of the
   *  known digests, or SIFTED_RAW) and its digest (4 words, for SIFTED_RAW). */
  #lines: number[] = [];
  #kinds: number[] = [];
  #digests: number[] = [];
  #head = 0;
  readonly #digest = new Uint32Array(DIGEST_WORDS);
  /** Where take() writes a SIFTED_RAW record's digest. */
  readonly digest = new Uint32Array(DIGEST_WORDS);

  /** `known` undefined: nothing is known yet (a first import), the raw digests are still made
   *  for the import to store. */
  constructor(known: KnownDigests | undefined, delimiter: string) {
    this.#known = known;
    this.#delimiter = delimiter.charCodeAt(0);
  }

  async *run(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    let carry: Buffer | undefined;
    for await (const chunk of source) {
      const bytes = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
      const { out, rest } = this.#sift(bytes, false);
      carry = rest.length > 0 ? rest : undefined;
      if (out.length > 0) yield out;
    }
    if (carry !== undefined) {
      const { out } = this.#sift(carry, true);
      if (out.length > 0) yield out;
    }
  }

  take(line: number, batch: CsvBatch): number {
    const lines = this.#lines;
    for (; this.#head < lines.length && lines[this.#head]! < line; this.#head++) {
      // A known record sent as an empty line (a record the parser skipped had SIFTED_RAW).
      const kind = this.#kinds[this.#head]!;
      if (kind < 0) continue;
      batch.lines.push(lines[this.#head]!);
      batch.fields.push(this.#empty as string[]);
      batch.sifted!.kinds.push(kind);
      batch.sifted!.digests.push(0, 0, 0, 0);
    }
    let kind = SIFTED_NONE;
    if (this.#head < lines.length && lines[this.#head] === line) {
      const h = this.#head++;
      kind = this.#kinds[h]!;
      if (kind === SIFTED_RAW)
        for (let w = 0; w < DIGEST_WORDS; w++) this.digest[w] = this.#digests[h * 4 + w]!;
    }
    if (this.#head > 4096 && this.#head * 2 > lines.length) {
      lines.splice(0, this.#head);
      this.#kinds.splice(0, this.#head);
      this.#digests.splice(0, this.#head * 4);
      this.#head = 0;
    }
    return kind;
  }

  /** The bytes for the parser from the whole lines of `bytes`, and the unfinished last line
   *  (`last`: there is none, the file ends). */
  #sift(bytes: Buffer, last: boolean): { out: Buffer; rest: Buffer } {
    if (this.#off) return { out: bytes, rest: bytes.subarray(bytes.length) };
    let out: Buffer | undefined;
    let outAt = 0;
    let copied = 0;
    let at = 0;
    let lf = -2;
    let cr = -2;
    let quote = -2;
    while (at < bytes.length) {
      if (lf !== -1 && lf < at) lf = bytes.indexOf(LF, at);
      if (cr !== -1 && cr < at) cr = bytes.indexOf(CR, at);
      let end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      let after: number;
      if (end === -1 || (end === bytes.length - 1 && bytes[end] === CR)) {
        // No line end yet (or a CR whose LF may come next): wait for more, unless the file ends.
        if (!last) break;
        if (end === -1) end = bytes.length;
        after = bytes.length;
      } else after = bytes[end] === CR && bytes[end + 1] === LF ? end + 2 : end + 1;
      if (quote !== -1 && quote < at) quote = bytes.indexOf(QUOTE, at);
      const quoted = quote !== -1 && quote < end;
      const line = this.#line++;
      if (this.#open) {
        const state = tokenize(bytes, at, end, this.#delimiter, true);
        if (state === UNSURE) return this.#stop(bytes, out, outAt, copied);
        this.#open = state === GOES_ON;
      } else if (end === at) {
        // An empty line: the parser skips it.
      } else if (this.#seed === undefined) {
        if (quoted) return this.#stop(bytes, out, outAt, copied);
        this.#header(bytes, at, end);
      } else {
        const state = quoted ? tokenize(bytes, at, end, this.#delimiter, false) : ENDS;
        if (state === UNSURE) return this.#stop(bytes, out, outAt, copied);
        if (state === GOES_ON) this.#open = true;
        else {
          hashStart(this.#seed);
          hashBytes(bytes, at, end);
          hashEnd(this.#digest, 0, DIGEST_WORDS);
          const index = this.#known === undefined ? -1 : findKnown(this.#known, this.#digest, 0);
          this.#lines.push(line);
          if (index >= 0) {
            this.#kinds.push(index);
            this.#digests.push(0, 0, 0, 0);
            // Known: the parser gets an empty line, or the marker (never longer than the record).
            out ??= Buffer.allocUnsafe(bytes.length);
            outAt += bytes.copy(out, outAt, copied, at);
            copied = end;
            this.#unmarkedAt = outAt;
            if (++this.#unmarked >= MARK_EVERY) outAt = this.#mark(out, outAt);
          } else {
            this.#kinds.push(SIFTED_RAW);
            const d = this.#digest;
            this.#digests.push(d[0]!, d[1]!, d[2]!, d[3]!);
          }
        }
      }
      at = after;
    }
    if (this.#unmarked > 0) outAt = this.#mark(out!, outAt);
    return { out: this.#output(bytes, out, outAt, copied, at), rest: bytes.subarray(at) };
  }

  /** Puts the marker on the line of the last known record sent as an empty line (the output is
   *  filled up to outAt); returns the new end of the output. */
  #mark(out: Buffer, outAt: number): number {
    const marker = this.#marker;
    out.copyWithin(this.#unmarkedAt + marker.length, this.#unmarkedAt, outAt);
    marker.copy(out, this.#unmarkedAt);
    this.#unmarked = 0;
    return outAt + marker.length;
  }

  /** The header line: the raw digests' seed and the known records' marker. */
  #header(bytes: Buffer, from: number, to: number): void {
    // A UTF-8 byte order mark is no part of the header line.
    if (bytes[from] === 0xef && bytes[from + 1] === 0xbb && bytes[from + 2] === 0xbf) from += 3;
    let delimiters = 0;
    for (let i = from; i < to; i++) if (bytes[i] === this.#delimiter) delimiters++;
    this.#marker = Buffer.alloc(delimiters, this.#delimiter);
    this.#empty = Object.freeze(Array.from({ length: delimiters + 1 }, () => ''));
    this.#seed = rawSeed(bytes.subarray(from, to));
  }

  /** The shortcut off from here on: every byte from the current line passes as it is. */
  #stop(bytes: Buffer, out: Buffer | undefined, outAt: number, copied: number) {
    this.#off = true;
    if (this.#unmarked > 0) outAt = this.#mark(out!, outAt);
    return { out: this.#output(bytes, out, outAt, copied, bytes.length), rest: bytes.subarray(bytes.length) };
  }

  /** bytes[0..to) with the known records replaced (out, filled to outAt, copied up to `copied`). */
  #output(bytes: Buffer, out: Buffer | undefined, outAt: number, copied: number, to: number): Buffer {
    if (out === undefined) return bytes.subarray(0, to);
    outAt += bytes.copy(out, outAt, copied, to);
    return out.subarray(0, outAt);
  }
}

/** The seed of a file's raw record digests: the rules (`rules`: RULES_VERSION, given by tests)
 *  and the header line's bytes. */
export function rawSeed(header: Uint8Array, rules = RULES_VERSION): Uint32Array {
  const seed = new Uint32Array(DIGEST_WORDS);
  hashStart([0x452821e6, 0x38d01377, 0xbe5466cf, 0x34e90c6c]);
  hashString('raw record');
  hashString(rules);
  hashBytes(header, 0, header.length);
  hashEnd(seed, 0, DIGEST_WORDS);
  return seed;
}

/**
 * Follows the quotes of bytes[from..to) (one line of a record, `quoted` when it starts inside a
 * quoted field): whether the record ends with the line, goes on (a quoted field is still open),
 * or has a quote csv-parse reads by its relaxed rules (UNSURE).
 */
function tokenize(bytes: Buffer, from: number, to: number, delimiter: number, quoted: boolean): number {
  let fieldStart = !quoted;
  let closed = false;
  for (let i = from; i < to; i++) {
    const b = bytes[i]!;
    if (quoted) {
      if (b !== QUOTE) continue;
      if (i + 1 < to && bytes[i + 1] === QUOTE) i++;
      else {
        quoted = false;
        closed = true;
      }
    } else if (b === delimiter) {
      fieldStart = true;
      closed = false;
    } else if (closed) return UNSURE;
    else if (b === QUOTE) {
      if (!fieldStart) return UNSURE;
      quoted = true;
      fieldStart = false;
    } else fieldStart = false;
  }
  return quoted ? GOES_ON : ENDS;
}
