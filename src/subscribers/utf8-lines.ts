// The subscribers CSV must be UTF-8 (docs/subscribers.md, "The CSV"). A file saved as Latin-1 or
// Windows-1252 (Excel's "CSV" on many systems) is not: read as UTF-8 its accented letters would
// silently become U+FFFD in people's names. This check refuses such a file with the line of its
// first bad byte.
//
// Bytes are checked by Node's own validator (buffer.isUtf8, the same rule as a fatal
// TextDecoder), chunk by chunk, so a file of any size costs no memory. Two protocol facts make
// the line bookkeeping simple: CR and LF bytes never occur inside a multi-byte UTF-8 sequence,
// and a sequence is at most 4 bytes, so a chunk can only end inside one in its last 3 bytes
// (carried over to the next chunk). Lines are physical lines: LF, CRLF and a lone CR each end
// one, as the CSV reader counts them.
import { isUtf8 } from 'node:buffer';
import { InvalidInput } from '../shared/errors.ts';

const SAVE_AS = 'save the file as UTF-8 (in Excel: "CSV UTF-8")';
const LF = 0x0a;
const CR = 0x0d;

/** How many bytes at the end of `bytes` start a multi-byte sequence that the next chunk ends. */
function incompleteTail(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const needs = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needs > back ? back : 0;
  }
  return 0;
}

/** Where the first undecodable byte of a line is: its value and the characters before it. */
function firstBadByte(line: Buffer): { byte: number; after: number } {
  const decoded = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(line);
  // Up to the first bad byte the decoding is exact, so byte offsets agree; a U+FFFD written in
  // the file itself (EF BF BD) is skipped.
  for (let at = decoded.indexOf('\uFFFD'); at >= 0; at = decoded.indexOf('\uFFFD', at + 1)) {
    const offset = Buffer.byteLength(decoded.slice(0, at));
    if (!(line[offset] === 0xef && line[offset + 1] === 0xbf && line[offset + 2] === 0xbd)) {
      return { byte: line[offset] ?? 0, after: [...decoded.slice(0, at)].length };
    }
  }
  return { byte: line[line.length - 1] ?? 0, after: [...decoded].length };
}

export class Utf8Lines {
  readonly #label: string;
  /** Line breaks seen before the current chunk (a CRLF counts once). */
  #breaks = 0;
  #pendingCr = false;
  /** Characters of the current line in earlier chunks (its start may lie chunks back). */
  #lineChars = 0;
  #carry: Buffer = Buffer.alloc(0);
  #first = true;

  constructor(label: string) {
    this.#label = label;
  }

  /**
   * Checks the next chunk of the file; throws an InvalidInput naming the line of a bad byte.
   * Returns the bytes checked so far and not returned before: a character cut by the end of
   * the chunk is held back until its end arrives, so what is returned is always valid UTF-8
   * (a CSV parser fed with it never sees a byte that could still turn out bad).
   */
  push(chunk: Uint8Array): Buffer {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    const bytes = this.#carry.length > 0 ? Buffer.concat([this.#carry, buffer]) : buffer;
    const keep = incompleteTail(bytes);
    // A UTF-8 byte order mark is fine and is no character of line 1.
    const bom = this.#first && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    const whole = bytes.subarray(bom, bytes.length - keep);
    if (!isUtf8(whole)) this.#refuse(whole);
    this.#countBreaks(whole);
    this.#carry = Buffer.from(bytes.subarray(bytes.length - keep));
    if (whole.length > 0 || bom > 0) this.#first = false;
    return bytes.subarray(0, bytes.length - keep);
  }

  /** The end of the file: a sequence cut short by it is refused too. */
  end(): void {
    if (this.#carry.length === 0) return;
    throw new InvalidInput(`Subscribers file ${this.#label} is not UTF-8`, [
      {
        path: `line ${this.#breaks + 1}`,
        rule: `not UTF-8: the file ends inside a multi-byte character; ${SAVE_AS}`,
      },
    ]);
  }

  #countBreaks(bytes: Buffer): void {
    if (bytes.length === 0) return;
    // A CR ending the previous chunk was counted; an LF opening this one completes its CRLF.
    const from = this.#pendingCr && bytes[0] === LF ? 1 : 0;
    for (let at = bytes.indexOf(LF, from); at >= 0; at = bytes.indexOf(LF, at + 1)) this.#breaks++;
    for (let at = bytes.indexOf(CR, from); at >= 0; at = bytes.indexOf(CR, at + 1)) {
      if (bytes[at + 1] !== LF) this.#breaks++; // a lone CR; a CRLF was counted by its LF
    }
    const last = bytes.length - 1;
    this.#pendingCr = bytes[last] === CR;
    const lineStart = Math.max(bytes.lastIndexOf(LF), bytes.lastIndexOf(CR)) + 1;
    if (lineStart > 0) this.#lineChars = 0;
    // Characters are the bytes that do not continue a sequence.
    for (let i = lineStart; i < bytes.length; i++) if ((bytes[i]! & 0xc0) !== 0x80) this.#lineChars++;
  }

  #refuse(bytes: Buffer): never {
    let line = this.#breaks + 1;
    let start = this.#pendingCr && bytes[0] === LF ? 1 : 0;
    let before = this.#lineChars;
    for (let i = start; i <= bytes.length; i++) {
      const byte = bytes[i];
      if (i < bytes.length && byte !== LF && byte !== CR) continue;
      const text = bytes.subarray(start, i);
      if (!isUtf8(text) || i === bytes.length) {
        const { byte: bad, after: inChunk } = firstBadByte(text);
        const after = before + inChunk;
        const utf16 = this.#first && line === 1 && (bytes[0] === 0xff || bytes[0] === 0xfe);
        const where = `byte 0x${bad.toString(16).toUpperCase().padStart(2, '0')} after ${after} character${after === 1 ? '' : 's'}`;
        throw new InvalidInput(`Subscribers file ${this.#label} is not UTF-8`, [
          {
            path: `line ${line}`,
            rule: `not UTF-8: ${where} cannot be read as UTF-8${utf16 ? ' (the file looks like UTF-16)' : ''}; ${SAVE_AS}`,
          },
        ]);
      }
      line++;
      before = 0;
      if (byte === CR && bytes[i + 1] === LF) i++;
      start = i + 1;
    }
    throw new Error('unreachable: a chunk failed isUtf8 but each of its lines passed');
  }
}

/** Reads a whole file once and refuses it if any byte is not UTF-8, before anything is imported. */
export async function checkUtf8File(chunks: AsyncIterable<Buffer | string>, label: string): Promise<void> {
  const check = new Utf8Lines(label);
  for await (const chunk of chunks) check.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  check.end();
}
