// POST /subscribe under fuzz (fast-check), through fastify.inject on a real migrated database
// and the SMTP fake: random field values, repeated and missing fields, odd bodies and content
// types. Every answer is a page: 200 (signed up, or a bot pretended to), 400 with the form and
// its field errors, 413 or 415; never a 500. A refusal writes nothing and mails no one, and no
// posted text comes back unescaped.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM, formBody, GOOD_SIGN_UP, type Harness, startHarness } from './support/http.ts';
import { tableSnapshot } from './support/snapshot.ts';

const TABLES = ['subscribers', 'subscriber_channels', 'consent_events', 'tombstones'];
const MARKER = '<x-fuzz onmouseover=alert(1)>';

let h: Harness;
let ip = 0;

beforeAll(async () => {
  h = await startHarness({ rateLimitMax: 1_000_000 });
});
afterAll(async () => {
  await h?.close();
});

const odd = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    MARKER,
    "=cmd|' /C calc'!A0",
    '\u0000',
    '\r\n',
    '%E9',
    '+',
    '+33',
    '06 12 34 56 78',
    '+33612345678',
    '@',
    'a@b',
    'x@example.org',
    'Europe/Paris',
    'Mars/Olympus_Mons',
    'whatsapp',
    'email',
    'chatgpt',
    'both',
    'fr',
    'en',
    'yes',
  ),
  fc.integer({ min: 200, max: 20_000 }).map((n) => 'é'.repeat(n)),
);
/** A field: absent, its good value, an odd value, or several values at once. */
const field = (good: string | readonly string[]) =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 10, arbitrary: fc.constant(good) },
    { weight: 3, arbitrary: odd },
    { weight: 1, arbitrary: fc.array(odd, { minLength: 2, maxLength: 3 }) },
  );
const form = fc.record({
  lang: field(GOOD_SIGN_UP.lang),
  name: field(GOOD_SIGN_UP.name),
  phone: field(GOOD_SIGN_UP.phone),
  email: field(GOOD_SIGN_UP.email),
  assistant: field(GOOD_SIGN_UP.assistant),
  channels: field(GOOD_SIGN_UP.channels),
  timezone: field(GOOD_SIGN_UP.timezone),
  consent: field(GOOD_SIGN_UP.consent),
  website: fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: odd }),
  extra: fc.option(fc.tuple(fc.string({ maxLength: 10 }), odd)),
});
/** A body that is not a well-formed form, or not a form at all. */
const oddBody = fc.record({
  contentType: fc.constantFrom(
    FORM,
    `${FORM}; charset=utf-8`,
    `${FORM}; charset=latin1`,
    'application/json',
    'text/plain',
    'multipart/form-data; boundary=x',
  ),
  payload: fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.constantFrom(
      'name=%E9%ZZ&phone=%',
      '&&&==&',
      'channels[]=x&channels[0]=y',
      '{"name":"x"}',
      'a=1&'.repeat(5000),
    ),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  ),
});

function post(contentType: string, payload: string | Buffer) {
  return h.app.inject({
    method: 'POST',
    url: '/subscribe',
    remoteAddress: `198.51.${Math.floor(++ip / 250) % 250}.${(ip % 250) + 1}`,
    headers: { 'content-type': contentType, 'user-agent': 'Fuzz/1.0' },
    payload,
  });
}

// Hundreds of requests: a loaded machine can make them many times slower than here alone.
describe('POST /subscribe under fuzz', { timeout: 120_000 }, () => {
  it('answers every random form with a page, never a 500; a refusal writes nothing and mails no one', async () => {
    const seen = { signedUp: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(form, async ({ extra, ...fields }) => {
        const values = Object.fromEntries(
          Object.entries({ ...fields, ...(extra ? { [extra[0]]: extra[1] } : {}) }).filter(
            (entry): entry is [string, string | readonly string[]] => entry[1] !== undefined,
          ),
        );
        h.smtp.reset();
        const before = await tableSnapshot(h.database.db, TABLES);
        const res = await post(FORM, formBody(values));
        expect([200, 400, 413]).toContain(res.statusCode);
        expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(res.body).not.toContain(MARKER);
        const bot = typeof fields.website === 'string' && fields.website.trim() !== '';
        if (res.statusCode === 400) {
          seen.refused++;
          expect(res.body).toContain('id="error-summary"');
          expect(res.body).toContain('class="field-error"');
        }
        if (res.statusCode !== 200 || bot) {
          expect(await tableSnapshot(h.database.db, TABLES)).toBe(before);
          expect(h.smtp.messages).toEqual([]);
        } else {
          seen.signedUp++;
          expect(res.body).toMatch(/Merci, votre inscription est enregistrée|Thank you, you are signed up/);
        }
      }),
      {
        numRuns: 150,
        // The good form and the empty one always run, so both outcomes are exercised.
        examples: [
          [{ ...GOOD_SIGN_UP, lang: 'en', extra: null }],
          [
            {
              lang: undefined,
              name: undefined,
              phone: undefined,
              email: undefined,
              assistant: undefined,
              channels: undefined,
              timezone: undefined,
              consent: undefined,
              website: '',
              extra: null,
            },
          ],
        ],
      },
    );
    expect(seen.signedUp).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it('answers odd bodies and content types with 400, 413 or 415, never a 500, and writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(oddBody, async ({ contentType, payload }) => {
        const before = await tableSnapshot(h.database.db, TABLES);
        const res = await post(contentType, payload);
        // None of these bodies carries the consent box: at best a bot's 200, which writes nothing.
        expect([200, 400, 413, 415]).toContain(res.statusCode);
        expect(await tableSnapshot(h.database.db, TABLES)).toBe(before);
      }),
      { numRuns: 100 },
    );
  });
});
