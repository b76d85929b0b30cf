import { describe, expect, it } from 'vitest';
import { SIFTED_NONE, SIFTED_RAW } from './csv.ts';
import { addKnown, DIGEST_WORDS, knownDigestsFor } from './import.digest.ts';
import { RawSifter, rawSeed } from './import.sift.ts';

const HEADER = 'id,name,source';
/** Lines 1–8: a header, one-line records (one with quoted fields and "" in them), a record whose
 *  quoted field goes on over lines 4–5, an empty line, CRLF, a lone CR. */
const FILE = `${HEADER}\na,b,c\n"x, y",b,"c ""q"""\nd,"multi\nline",e\n\r\nf,g,h\r\ni,j,k\rl,m,n`;

/** The sifter's output for `text` cut into pieces of `step` bytes, and what it says of `lines`. */
async function sift(sifter: RawSifter, text: string, step: number, lines: readonly number[]) {
  const bytes = Buffer.from(text);
  async function* pieces() {
    for (let at = 0; at < bytes.length; at += step) yield bytes.subarray(at, at + step);
  }
  const out: Buffer[] = [];
  for await (const part of sifter.run(pieces())) out.push(Buffer.from(part));
  const said = lines.map((line) => {
    const kind = sifter.take(line);
    return { line, kind, digest: kind === SIFTED_RAW ? [...sifter.digest] : undefined };
  });
  return { out: Buffer.concat(out).toString(), said };
}

const LINES = [2, 3, 4, 7, 8, 9];

describe('RawSifter', () => {
  it('hashes each one-line record, leaves a multi-line one to the parser, and passes the bytes unchanged when nothing is known', async () => {
    const { out, said } = await sift(new RawSifter(undefined, ','), FILE, 1 << 16, LINES);
    expect(out).toBe(FILE);
    expect(said.map((s) => s.kind)).toEqual([
      SIFTED_RAW,
      SIFTED_RAW,
      SIFTED_NONE,
      SIFTED_RAW,
      SIFTED_RAW,
      SIFTED_RAW,
    ]);
    expect(new Set(said.map((s) => s.digest?.join())).size).toBe(6);
  });

  it('replaces known records by bare delimiters, however the file is cut into pieces', async () => {
    const first = await sift(new RawSifter(undefined, ','), FILE, 1 << 16, LINES);
    const digestOf = (line: number) => first.said.find((s) => s.line === line)!.digest!;
    const known = knownDigestsFor(2);
    [2, 8].forEach((line, index) => {
      const words = new Uint32Array(DIGEST_WORDS + 6);
      words.set(digestOf(line));
      words[DIGEST_WORDS] = 40 + index;
      addKnown(known, index, words, 1);
    });
    const expected = FILE.replace('a,b,c\n', ',,\n').replace('\ni,j,k\r', '\n,,\r');
    for (let step = 1; step <= FILE.length; step++) {
      const { out, said } = await sift(new RawSifter(known, ','), FILE, step, LINES);
      expect(out, `pieces of ${step}`).toBe(expected);
      expect(
        said.map((s) => s.kind),
        `pieces of ${step}`,
      ).toEqual([0, SIFTED_RAW, SIFTED_NONE, SIFTED_RAW, 1, SIFTED_RAW]);
      expect(said[1]!.digest).toEqual(digestOf(3));
    }
  });

  it('stops at a quote csv-parse reads by its relaxed rules: every later byte goes to the parser as it is', async () => {
    const file = `${HEADER}\na,b,c\nd,Jean "JJ",e\nf,g,h\n`;
    const first = await sift(new RawSifter(undefined, ','), file, 1 << 16, [2, 3, 4]);
    expect(first.said.map((s) => s.kind)).toEqual([SIFTED_RAW, SIFTED_NONE, SIFTED_NONE]);
    const known = knownDigestsFor(1);
    const words = new Uint32Array(DIGEST_WORDS + 6);
    words.set(first.said[0]!.digest!);
    addKnown(known, 0, words, 1);
    const { out } = await sift(new RawSifter(known, ','), `${file}a,b,c\n`, 7, []);
    // Line 2 is known; the same record after the stop is parsed.
    expect(out).toBe(`${HEADER}\n,,\nd,Jean "JJ",e\nf,g,h\na,b,c\n`);
  });

  it('stops at a quoted header, and at spaces around a quoted field', async () => {
    for (const file of [
      `"id",name,source\na,b,c\n`,
      `${HEADER}\na, "b",c\na,b,c\n`,
      `${HEADER}\na,"b" ,c\na,b,c\n`,
    ]) {
      const { out, said } = await sift(new RawSifter(undefined, ','), file, 3, [2, 3]);
      expect(out).toBe(file);
      expect(said.map((s) => s.kind)).toContain(SIFTED_NONE);
    }
  });

  it('seeds the digests with the rules version and the header', () => {
    const header = Buffer.from(HEADER);
    expect([...rawSeed(header)]).toEqual([...rawSeed(Buffer.from(HEADER))]);
    expect([...rawSeed(header, 'lastcall-import-rules-0')]).not.toEqual([...rawSeed(header)]);
    expect([...rawSeed(Buffer.from(`${HEADER},tags`))]).not.toEqual([...rawSeed(header)]);
  });
});
