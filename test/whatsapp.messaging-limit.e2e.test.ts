// WhatsApp's portfolio messaging limit end to end: the sandbox reports TIER_250 and, as Meta
// does, fails template messages to more than 250 people in a rolling 24 h. Real `lastcall serve`
// and `lastcall work` processes; the worker reads the limit from the Graph API. `campaign start`
// of a 300-person WhatsApp step says that 50 will be held back; the step then reaches exactly
// 250 people (none refused by Meta), the other 50 are `skipped` with reason `messaging-limit`,
// with an outbound event each, and `campaign stats` counts them. Without WHATSAPP_RATE, the worker
// sends at the rate of the number's throughput level (HIGH: 1,000 a second); a
// `phone_number_quality_update` webhook is recorded with the limit it names.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rateGateKey } from '../src/queue/keys.ts';
import type { Sandbox } from '../src/sandbox/sandbox.service.ts';
import { webhookPayload } from '../src/sandbox/webhook-payloads.ts';
import { postWebhook } from '../src/sandbox/webhook-signing.ts';
import { runCli } from './support/cli.ts';
import type { TestDatabase } from './support/db.ts';
import { statusCounts, waitFor, writeCampaignFile } from './support/delivery.ts';
import { type SandboxStack, startSandboxStack, startUnderTier250 } from './support/sandbox-stack.ts';

const MINUTE = 60_000;
const CAMPAIGN = 'limit-250';
const APP_SECRET = 'limit-e2e-app-secret';

let stack: SandboxStack;
let database: TestDatabase;
let sandbox: Sandbox;
let env: Record<string, string>;
const now = Date.now();
/** A working directory holding config/whatsapp-prices.yaml (the operator's prices). */
const priceDir = mkdtempSync(join(tmpdir(), 'lastcall-prices-'));
mkdirSync(join(priceDir, 'config'));
writeFileSync(
  join(priceDir, 'config', 'whatsapp-prices.yaml'),
  'currency: EUR\nprices:\n  "33": { utility: 0.0305, marketing: 0.1 }\n  default: { utility: 0.01 }\n',
);

beforeAll(async () => {
  stack = await startSandboxStack({
    name: 'limit-e2e',
    appSecret: APP_SECRET,
    idSuffix: '43',
    sandbox: { throughputLevel: 'HIGH' },
    // Debug: a failed settle wait then shows each slot's pages and any page job BullMQ failed
    // (a stalled one is logged only at debug), the leads left by a stall seen under load.
    env: { LASTCALL_ENV: 'development', LOG_LEVEL: 'debug' },
  });
  ({ database, sandbox, env } = stack);
  // 300 people on WhatsApp only, in Paris (one zone: one slot, one 24 h).
  await startUnderTier250(stack, { count: 300, phoneBase: 2_000_000, consentAt: now - 60 * MINUTE });
  // Two processes started one after the other, each up to 90 s on a loaded machine (spawnLastcall).
}, 240_000);

afterAll(async () => {
  await stack?.close();
  rmSync(priceDir, { recursive: true, force: true });
});

describe('a 300-person step under a 250 messaging limit', { timeout: 90_000 }, () => {
  it("sends at the rate of the number's throughput level when WHATSAPP_RATE is not set", () => {
    const working = stack.processes[1]!.output()
      .split('\n')
      .find((line) => line.includes('"msg":"working'));
    expect(JSON.parse(working ?? '{}')).toMatchObject({ whatsappRate: 1000, whatsappRateFrom: 'throughput' });
  });

  it('campaign start says which step is over the limit and by how many', async () => {
    const file = await writeCampaignFile({
      id: CAMPAIGN,
      deadline: now + 5 * MINUTE,
      // Already due: everyone gets the catch-up of d10 at the next minute.
      steps: [{ id: 'd10', before: 'PT10M', channels: ['whatsapp'], template: 'first-notice' }],
    });
    expect((await runCli(['campaign', 'create', '--file', file], env)).code).toBe(0);
    const start = await runCli(['campaign', 'start', CAMPAIGN], env, { cwd: priceDir });
    expect(start.code).toBe(0);
    // The plan at the operator's prices: 300 French numbers × 0.0305 (held-back ones included).
    expect(start.stdout).toContain(
      'estimated WhatsApp cost of the plan: EUR 9.15 for 300 messages (your prices, config/whatsapp-prices.yaml)',
    );
    expect(start.stderr).toContain(
      "warning: step d10: 300 people on WhatsApp, 50 will be held back (messaging limit 250 people in 24 h, Meta's)",
    );
  });

  it('reaches 250 people, holds back 50 as skipped (messaging-limit), and Meta refuses none', async () => {
    // The catch-up is at the first minute after `campaign start` ran, however long the set-up took.
    await stack.tick(Date.now() + MINUTE);
    await waitFor(
      'every delivery settled',
      async () => {
        const c = await statusCounts(database.db, CAMPAIGN);
        const total = Object.values(c).reduce((a, b) => a + b, 0);
        if (total === 300 && (c.queued ?? 0) + (c.sending ?? 0) + (c.retrying ?? 0) === 0) return c;
        throw new Error(`deliveries ${JSON.stringify(c)}`);
      },
      60_000,
    ).catch((error: Error) => {
      // What the worker was doing: its log (no personal data) rides with the failure.
      throw new Error(`${error.message}\nworker log:\n${stack.processes[1]!.output().slice(-20_000)}`);
    });
    const reasons = await database.db.query<{ status: string; skip_reason: string | null; n: number }>(
      `SELECT CASE WHEN status IN ('sent', 'delivered', 'read') THEN 'sent' ELSE status END AS status,
              skip_reason, count(*)::int AS n
         FROM deliveries WHERE campaign_id = $1 GROUP BY 1, 2 ORDER BY 1`,
      [CAMPAIGN],
    );
    expect(reasons).toEqual([
      { status: 'sent', skip_reason: null, n: 250 },
      { status: 'skipped', skip_reason: 'messaging-limit', n: 50 },
    ]);
    expect(sandbox.graph.peopleIn24h()).toBe(250);
    expect(sandbox.graph.limitRefused()).toEqual([]);
    const events = await database.db.one<{ n: number }>(
      `SELECT count(*)::int AS n FROM event_outbox WHERE type = 'delivery.skipped' AND data->>'skipReason' = 'messaging-limit'`,
    );
    expect(events?.n).toBe(50);
  });

  it('records a phone_number_quality_update with the messaging limit it names, and re-reads the throughput level into the rate gate', async () => {
    // The workers send at HIGH's rate, kept in Redis with the gate for all of them.
    const redis = stack.redis.connect();
    const rateKey = `${rateGateKey(env.QUEUE_PREFIX!, 'whatsapp')}:rate`;
    try {
      expect(await redis.get(rateKey)).toBe('1000');
      // Meta moves the number down to STANDARD, and says so with a quality update.
      sandbox.graph.setThroughputLevel('STANDARD');
      await postQualityUpdate();
      await waitFor('the rate gate at STANDARD', async () => (await redis.get(rateKey)) === '80');
    } finally {
      redis.disconnect();
    }
    const account = await waitFor('the quality update recorded', () =>
      database.db.one<{ quality_event: string; messaging_limit: number; throughput_level: string }>(
        `SELECT quality_event, messaging_limit, throughput_level FROM whatsapp_account WHERE quality_event IS NOT NULL`,
      ),
    );
    expect(account).toEqual({
      quality_event: 'UPGRADE',
      messaging_limit: 2000,
      throughput_level: 'STANDARD',
    });
    expect(stack.processes[1]!.output()).toContain('WhatsApp rate follows the new throughput level');
  });

  async function postQualityUpdate(): Promise<void> {
    const payload = webhookPayload([
      {
        id: sandbox.graph.wabaId,
        changes: [
          {
            field: 'phone_number_quality_update',
            value: { display_phone_number: '15550001111', event: 'UPGRADE', current_limit: 'TIER_2K' },
          },
        ],
      },
    ]);
    const res = await postWebhook(`http://127.0.0.1:${env.HTTP_PORT}/webhooks/whatsapp`, payload, {
      appSecret: APP_SECRET,
    });
    expect(res.status).toBe(200);
  }

  it('campaign stats counts the held back by reason', async () => {
    await waitFor('every status webhook applied', async () => {
      const row = await database.db.one<{ n: number }>(
        `SELECT count(*)::int AS n FROM deliveries WHERE campaign_id = $1 AND pricing_category IS NOT NULL`,
        [CAMPAIGN],
      );
      return row?.n === 250;
    });
    const stats = await runCli(['campaign', 'stats', CAMPAIGN], env);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toContain('d10 whatsapp skipped: messaging-limit ×50');
    // Meta's pricing of the 250 messages sent, from their status webhooks (the sandbox's: utility).
    expect(stats.stdout).toContain('d10 whatsapp priced utility: 250 billable, 0 free');
    const json = JSON.parse((await runCli(['campaign', 'stats', CAMPAIGN, '--json'], env)).stdout);
    expect(JSON.stringify(json)).toContain('"messaging-limit":50');
    expect(json.whatsappPricing).toEqual([{ step: 'd10', category: 'utility', billable: 250, free: 0 }]);
    expect(json.whatsappCost).toBeNull();
    // With the operator's price table in the working directory: 250 French numbers × 0.0305.
    const withPrices = JSON.parse(
      (await runCli(['campaign', 'stats', CAMPAIGN, '--json'], env, { cwd: priceDir })).stdout,
    );
    expect(withPrices.whatsappPricing).toEqual([
      { step: 'd10', category: 'utility', billable: 250, free: 0, estimatedCost: 7.625, unpriced: 0 },
    ]);
    expect(withPrices.whatsappCost).toEqual({ currency: 'EUR', estimated: 7.625, unpriced: 0 });
  });
});
