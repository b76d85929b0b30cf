// TRUST_PROXY: behind a reverse proxy, the visitor's address comes from X-Forwarded-For, so the
// sign-up limit is per visitor (not one limit for everyone behind the proxy) and the consent
// evidence names the visitor (docs/docker.md, "TLS in front").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORM, formBody, GOOD_SIGN_UP, type Harness, startHarness } from './support/http.ts';

const PROXY = '10.0.0.2';

async function signUpVia(h: Harness, forwardedFor: string, n: number) {
  return h.app.inject({
    method: 'POST',
    url: '/subscribe',
    remoteAddress: PROXY,
    headers: { 'content-type': FORM, 'x-forwarded-for': forwardedFor },
    payload: formBody({
      ...GOOD_SIGN_UP,
      phone: `+336123450${String(n).padStart(2, '0')}`,
      email: `v${n}@example.org`,
    }),
  });
}

const ipsInEvidence = async (h: Harness) =>
  (
    await h.database.db.query<{ ip: string }>(
      `SELECT DISTINCT evidence->>'ip' AS ip FROM consent_events ORDER BY 1`,
    )
  ).map((r) => r.ip);

describe("TRUST_PROXY set to the proxy's range", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ env: { TRUST_PROXY: '10.0.0.0/8' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('limits each visitor behind the proxy on their own and records their address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await signUpVia(h, '198.51.100.7', i)).statusCode);
    expect(statuses).toEqual([...Array(10).fill(200), 429]);
    // Another visitor through the same proxy is not held back by the first one's limit.
    expect((await signUpVia(h, '203.0.113.9', 11)).statusCode).toBe(200);
    expect(await ipsInEvidence(h)).toEqual(['198.51.100.7', '203.0.113.9']);
  });
});

describe('TRUST_PROXY unset', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('ignores X-Forwarded-For: the connection is the visitor, whatever the header says', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await signUpVia(h, `198.51.100.${i + 1}`, i)).statusCode);
    expect(statuses).toEqual([...Array(10).fill(200), 429]);
    expect(await ipsInEvidence(h)).toEqual([PROXY]);
  });
});
