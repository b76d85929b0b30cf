// `lastcall send-test` as an operator runs it: the real executable against a real PostgreSQL,
// the fake Graph API (templates registered and approved as the message files define them) and
// a real SMTP server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaignService } from '../src/campaigns/campaign.service.ts';
import { type LocalTemplate, readLocalTemplates } from '../src/ops/whatsapp-templates.ts';
import { type FakeGraphApi, failures, startFakeGraphApi, type TemplateSeed } from './fakes/graph-api.ts';
import { type FakeSmtp, startFakeSmtp } from './fakes/smtp.ts';
import { campaignFile, STEPS } from './support/campaign.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

/** A message file's template as the fake Graph API registers it. */
const seedOf = (l: LocalTemplate, status: TemplateSeed['status'] = 'APPROVED'): TemplateSeed => ({
  ...l.definition,
  components: l.definition.components as TemplateSeed['components'],
  status,
});

const PUBLIC_URL = 'https://lastcall.example.org';
const PHONE = '+33612345678';

let t: TestDatabase;
let graph: FakeGraphApi;
let smtp: FakeSmtp;
let env: Record<string, string>;
const sendTest = (...args: string[]) => runCli(['send-test', '--campaign', 'trial', ...args], env);

beforeAll(async () => {
  const templates = await readLocalTemplates(PUBLIC_URL);
  [t, graph, smtp] = await Promise.all([
    createTestDatabase(),
    startFakeGraphApi({
      templates: templates.map((l) => seedOf(l)),
    }),
    startFakeSmtp(),
  ]);
  env = {
    DATABASE_URL: t.url,
    LASTCALL_ENV: 'development',
    LOG_LEVEL: 'silent',
    PUBLIC_URL,
    SMTP_URL: smtp.url,
    MAIL_FROM: 'Lastcall <no-reply@lastcall.example.org>',
    WHATSAPP_TOKEN: graph.token,
    WHATSAPP_PHONE_NUMBER_ID: graph.phoneNumberId,
    WHATSAPP_APP_SECRET: 'app-secret',
    WHATSAPP_VERIFY_TOKEN: 'verify-token',
    WHATSAPP_API_URL: graph.url,
  };
  // A draft is enough: testing a message before starting the campaign is the point.
  const campaigns = createCampaignService({ db: t.db });
  await campaigns.create(
    campaignFile('trial', { deadline: '2030-01-15T00:00:00+01:00', steps: [STEPS.d7, STEPS.h6] }),
    Date.now(),
  );
});
afterAll(async () => {
  await Promise.all([t?.drop(), graph?.close(), smtp?.close()]);
});

const testRows = () =>
  t.db.query(
    `SELECT channel, step_id, kind, status, subscriber_id, attempts, provider_message_id, error_code
       FROM deliveries ORDER BY id`,
  );

// Each test spawns the CLI a few times (a second or more each on a busy machine).
describe('lastcall send-test', { timeout: 120_000 }, () => {
  it('sends a step by WhatsApp to a phone and by email to an address, recorded as test deliveries', async () => {
    const [wa, mail] = await Promise.all([
      sendTest('--step', 'd7', '--to', PHONE, '--locale', 'fr', '--assistant', 'copilot', '--json'),
      sendTest(
        '--step',
        'd7',
        '--to',
        'Me@Example.org',
        '--locale',
        'en',
        '--name',
        'Sam',
        '--attr',
        'assistant=both',
      ),
    ]);
    expect(wa.code, wa.stderr).toBe(0);
    const result = JSON.parse(wa.stdout);
    expect(result).toMatchObject({
      campaign: 'trial',
      step: 'd7',
      template: 'one-week',
      channel: 'whatsapp',
      locale: 'fr',
      attributes: { assistant: 'copilot' },
      status: 'sent',
    });
    const [message] = graph.sent();
    expect(message).toBeDefined();
    expect(JSON.stringify(message)).toContain('33612345678');
    expect(JSON.stringify(message)).toContain('lastcall_ai_assistants_one_week');
    expect(JSON.stringify(message)).toContain('Copilot');

    expect(mail.code, mail.stderr).toBe(0);
    expect(mail.stdout).toMatch(
      /^sent test trial step d7 \(one-week, en, assistant=both\) by email: provider id <delivery-\d+\.trial@lastcall\.example\.org>/,
    );
    const received = await smtp.waitFor((m) => m.envelope.rcptTo.includes('me@example.org'));
    expect(received.parsed.subject).toBeTruthy();
    expect(received.parsed.text).toContain('Sam');
    expect(received.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');

    const rows = await testRows();
    expect(rows).toHaveLength(2);
    for (const row of rows)
      expect(row).toMatchObject({
        step_id: 'd7',
        kind: 'test',
        status: 'sent',
        subscriber_id: null,
        attempts: 1,
      });
    expect(rows.find((r) => r.channel === 'whatsapp')?.provider_message_id).toBe(result.providerMessageId);

    // Never part of the campaign's figures.
    const stats = await createCampaignService({ db: t.db }).stats('trial', Date.now());
    for (const row of stats.steps) expect(row).toMatchObject({ planned: 0, sent: 0, queued: 0 });
  });

  it('exits 1 with the provider code when the provider refuses, and records the failure', async () => {
    graph.setFailure(failures.undeliverable(), { to: '+33611111111' });
    const refused = await sendTest('--step', 'h6', '--to', '+33611111111');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('131026');
    expect((await testRows()).at(-1)).toMatchObject({
      channel: 'whatsapp',
      step_id: 'h6',
      status: 'failed',
      error_code: '131026',
    });
  });

  it('exits 2 for an unknown campaign or step, a --to that is neither, or a channel the step does not use', async () => {
    const before = (await testRows()).length;
    const [campaign, step, to, channel] = await Promise.all([
      runCli(['send-test', '--campaign', 'nope', '--step', 'd7', '--to', PHONE], env),
      sendTest('--step', 'd99', '--to', PHONE),
      sendTest('--step', 'd7', '--to', '0612345678'),
      sendTest('--step', 'h6', '--to', 'me@example.org'),
    ]);
    expect([campaign.code, step.code, to.code, channel.code]).toEqual([2, 2, 2, 2]);
    expect(campaign.stderr).toContain('unknown campaign "nope"');
    expect(step.stderr).toContain('--step: must be one of: d7, h6');
    expect(to.stderr).toContain('--to: must be a phone number in E.164 form');
    expect(channel.stderr).toContain('step "h6" does not send by email');
    expect(await testRows()).toHaveLength(before);
  });
});
