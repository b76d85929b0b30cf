// Property-based tests of the campaign file reader (fast-check): odd YAML and JSON, odd values
// in every key, junk text. Whatever the file, parseCampaign returns a campaign or throws an
// InvalidInput whose problems name a place (a key path, a YAML line and column) and a rule; it
// never throws anything else, and an odd value in a key is reported at that key.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { InvalidInput, type Problem } from '../shared/errors.ts';
import { parseCampaign } from './campaign.loader.ts';

const GOOD = {
  id: 'spring-cleanup',
  name: 'Spring clean-up',
  deadline: '2030-04-01T12:00:00Z',
  sendAt: '10:00',
  window: { start: '09:00', end: '20:00' },
  catchUp: { minGap: 'PT24H' },
  audience: { tags: ['beta'] },
  steps: [
    { id: 'd7', before: 'P7D', channels: ['whatsapp', 'email'], template: 'one-week' },
    { id: 'h6', before: 'PT6H', channels: ['whatsapp'], template: 'last-hours' },
  ],
  messages: '../messages',
};
type Key = keyof typeof GOOD;
const KEYS = Object.keys(GOOD) as Key[];

/** The problems of a refusal, or undefined when the text was accepted; anything else fails. */
function problemsOf(text: string): readonly Problem[] | undefined {
  try {
    parseCampaign(text, 'fuzz.yaml');
    return undefined;
  } catch (error) {
    if (!(error instanceof InvalidInput)) throw error;
    expect(error.message).toMatch(/^Campaign file fuzz\.yaml /);
    expect(error.problems.length).toBeGreaterThan(0);
    for (const p of error.problems) {
      // A YAML position, "(top level)", or a key path ("steps[1].before") whose odd keys, the
      // ones the file made up with spaces or dots, are quoted (["sendAt "]).
      const unquoted = p.path.replace(/\["(?:[^"\\]|\\.)*"\]/g, '[]');
      expect(unquoted).toMatch(/^(line \d+, column \d+|\(YAML\)|\(top level\)|[\w$-]*(\[\d*\]|\.[\w$-]+)*)$/);
      expect(p.rule.length).toBeGreaterThan(0);
      expect((p.value ?? '').length).toBeLessThanOrEqual(80);
    }
    return error.problems;
  }
}

// Values that YAML and JSON readers trip on: types, special numbers, YAML 1.1 booleans and
// timestamps, tags, huge and empty texts, prototype-looking keys.
const oddScalar = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    1e308,
    Number.MAX_SAFE_INTEGER + 2,
    '',
    ' ',
    '\u0000',
    '\uFEFF',
    'yes',
    'no',
    '~',
    '.inf',
    '-.nan',
    '0x1F',
    '2030-04-01',
    '10:00:00',
    '25:99',
    'P-1D',
    'PT0S',
    'p7d',
    'x'.repeat(10_000),
    '👍',
    '__proto__',
    '=cmd|x!A0',
  ),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.dictionary(
    fc.constantFrom('__proto__', 'constructor', 'id', 'start', 'tags', 'x'),
    fc.jsonValue({ maxDepth: 1 }),
  ),
);

const serialise = fc.constantFrom(
  (v: unknown) => JSON.stringify(v) ?? 'null',
  (v: unknown) => stringify(v),
  (v: unknown) => stringify(v, { defaultStringType: 'QUOTE_DOUBLE' }),
);

// CPU-bound: a loaded machine (the whole suite, other work) can make them ten times slower.
describe('campaign files under fuzz', { timeout: 120_000 }, () => {
  it('refuses an odd value in any key at that key, and never throws anything but an InvalidInput', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KEYS), oddScalar, serialise, (key, odd, write) => {
        const text = write({ ...GOOD, [key]: odd });
        const problems = problemsOf(text);
        if (problems === undefined) return; // the odd value happened to be a good one
        // The problem is reported at the key changed (or, for text that is not YAML, at a line).
        expect(
          problems.some(
            (p) =>
              p.path === key ||
              p.path.startsWith(`${key}.`) ||
              p.path.startsWith(`${key}[`) ||
              /^line /.test(p.path),
          ),
        ).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses odd values deep in steps, the window and the audience at their path', () => {
    const place = fc.oneof(
      fc.tuple(
        fc.constant('steps'),
        fc.nat({ max: 1 }),
        fc.constantFrom('id', 'before', 'channels', 'template', 'extra'),
      ),
      fc.tuple(fc.constant('window'), fc.constantFrom('start', 'end')),
      fc.tuple(fc.constant('audience'), fc.constant('tags'), fc.nat({ max: 2 })),
    );
    fc.assert(
      fc.property(place, oddScalar, serialise, (path, odd, write) => {
        const doc = structuredClone(GOOD) as Record<string, unknown>;
        let node = doc as Record<string | number, unknown>;
        for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
        node[path.at(-1)!] = odd;
        const problems = problemsOf(write(doc));
        if (problems === undefined) return;
        const [top, second] = path;
        const prefix = top === 'steps' ? `steps[${second}]` : `${top}`;
        expect(problems.some((p) => p.path.startsWith(prefix) || /^line /.test(p.path))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('survives junk text, cut files and YAML oddities (anchors, tags, documents, aliases)', () => {
    const good = stringify(GOOD);
    const junk = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: fc.constantFrom(...'{}[]:-,&*!|>\'"#%@`?\n\t id'), maxLength: 200 }),
      fc.nat({ max: good.length }).map((n) => good.slice(0, n)),
      fc
        .tuple(fc.nat({ max: good.length }), fc.string({ maxLength: 8 }))
        .map(([n, s]) => good.slice(0, n) + s + good.slice(n)),
      fc.constantFrom(
        `${good}---\n${good}`,
        'a: &a [*a]\n',
        `base: &b { id: x }\n<<: *b\n${good}`,
        '!!binary aGVsbG8=',
        'id: !!int "12"\n',
        `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`,
        '',
        '\uFEFF',
        'null',
        '[]',
        '"just a string"',
      ),
    );
    fc.assert(
      fc.property(junk, (text) => {
        problemsOf(text);
      }),
      { numRuns: 700 },
    );
  });
});
