// `lastcall templates push | status` against the fake Graph API: what is submitted (Meta's
// management format, examples included), what already exists, and the statuses read back and
// stored in template_statuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalTemplate, readLocalTemplates } from '../src/ops/whatsapp-templates.ts';
import { type FakeGraphApi, startFakeGraphApi, type TemplateSeed } from './fakes/graph-api.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

/** A message file's template as the fake Graph API registers it. */
const seedOf = (l: LocalTemplate, status: TemplateSeed['status'] = 'APPROVED'): TemplateSeed => ({
  ...l.definition,
  components: l.definition.components as TemplateSeed['components'],
  status,
});

const PUBLIC_URL = 'https://reminders.example.org';

let t: TestDatabase;
let graph: FakeGraphApi;
let local: LocalTemplate[];
let env: Record<string, string>;
const templates = (...args: string[]) => runCli(['templates', ...args], env);

beforeAll(async () => {
  local = await readLocalTemplates(PUBLIC_URL);
  const existing = local.find((l) => l.name.endsWith('_first_notice') && l.language === 'fr')!;
  [t, graph] = await Promise.all([
    createTestDatabase(),
    // One template is already at Meta (approved); the others are new. New ones wait for review.
    startFakeGraphApi({ templates: [seedOf(existing)] }),
  ]);
  env = {
    DATABASE_URL: t.url,
    LASTCALL_ENV: 'development',
    LOG_LEVEL: 'silent',
    PUBLIC_URL,
    WHATSAPP_TOKEN: graph.token,
    WHATSAPP_PHONE_NUMBER_ID: graph.phoneNumberId,
    WHATSAPP_APP_SECRET: 'app-secret',
    WHATSAPP_VERIFY_TOKEN: 'verify-token',
    WHATSAPP_API_URL: graph.url,
    WHATSAPP_BUSINESS_ACCOUNT_ID: graph.wabaId,
  };
});
afterAll(async () => {
  await Promise.all([t?.drop(), graph?.close()]);
});

const outcomes = (stdout: string) =>
  Object.fromEntries(
    (
      JSON.parse(stdout).templates as { name: string; language: string; outcome?: string; status?: string }[]
    ).map((r) => [`${r.name}/${r.language}`, r.outcome ?? r.status]),
  );

// Each test spawns the CLI a few times (a second or more each on a busy machine).
describe('lastcall templates', { timeout: 120_000 }, () => {
  it('reads eight templates from the shipped message files: four steps in two languages', () => {
    expect(local.map((l) => `${l.name}/${l.language}`)).toEqual([
      'lastcall_ai_assistants_first_notice/en',
      'lastcall_ai_assistants_first_notice/fr',
      'lastcall_ai_assistants_last_day/en',
      'lastcall_ai_assistants_last_day/fr',
      'lastcall_ai_assistants_last_hours/en',
      'lastcall_ai_assistants_last_hours/fr',
      'lastcall_ai_assistants_one_week/en',
      'lastcall_ai_assistants_one_week/fr',
    ]);
  });

  it('push --dry-run submits nothing; push submits what Meta lacks and reports what it has', async () => {
    const dry = await templates('push', '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(outcomes(dry.stdout)).toMatchObject({
      'lastcall_ai_assistants_first_notice/fr': 'exists',
      'lastcall_ai_assistants_first_notice/en': 'would-create',
    });
    expect(graph.requests.filter((r) => r.method === 'POST')).toHaveLength(0);

    const push = await templates('push');
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toContain('7 submitted for review, 1 already at Meta');
    expect(graph.templates()).toHaveLength(8);
    const posted = graph.requests.find(
      (r) =>
        r.method === 'POST' &&
        (r.body as { name: string }).name === 'lastcall_ai_assistants_one_week' &&
        (r.body as { language: string }).language === 'fr',
    );
    const body = posted?.body as {
      category: string;
      components: {
        type: string;
        text?: string;
        example?: { body_text: string[][] };
        buttons?: { type: string; url: string; example: string[] }[];
      }[];
    };
    expect(body.category).toBe('UTILITY');
    const [bodyPart, footer, buttons] = body.components;
    expect(bodyPart?.type).toBe('BODY');
    // One example value per placeholder, one line each.
    const placeholders = bodyPart?.text?.match(/\{\{\d+\}\}/g) ?? [];
    expect(bodyPart?.example?.body_text[0]).toHaveLength(placeholders.length);
    for (const value of bodyPart?.example?.body_text[0] ?? []) expect(value).not.toMatch(/\n/);
    expect(footer).toMatchObject({ type: 'FOOTER', text: expect.stringContaining('STOP') });
    expect(buttons?.buttons?.[0]).toMatchObject({ type: 'URL', url: `${PUBLIC_URL}/done/{{1}}` });
    expect(buttons?.buttons?.[0]?.example[0]).toMatch(/^https:\/\/reminders\.example\.org\/done\/.+/);

    const rows = await t.db.query(
      'SELECT name, language, status FROM template_statuses ORDER BY name, language',
    );
    expect(rows).toHaveLength(8);
    expect(rows.filter((r) => r.status === 'PENDING')).toHaveLength(7);

    const again = await templates('push', '--json');
    expect(again.code).toBe(0);
    expect(new Set(Object.values(outcomes(again.stdout)))).toEqual(new Set(['exists']));
  });

  it('status reads each template back from Meta and stores it', async () => {
    await t.db.exec('DELETE FROM template_statuses');
    const status = await templates('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    const statuses = outcomes(status.stdout);
    expect(Object.keys(statuses)).toHaveLength(8);
    expect(statuses['lastcall_ai_assistants_first_notice/fr']).toBe('APPROVED');
    expect(statuses['lastcall_ai_assistants_last_hours/en']).toBe('PENDING');
    const stored = await t.db.query(
      'SELECT status, count(*)::int AS n FROM template_statuses GROUP BY status ORDER BY status',
    );
    expect(stored).toEqual([
      { status: 'APPROVED', n: 1 },
      { status: 'PENDING', n: 7 },
    ]);
    const table = await templates('status');
    // Each template's category and Meta's quality rating (none yet for one under review).
    expect(table.stdout).toMatch(
      /lastcall_ai_assistants_one_week\s*│\s*fr\s*│\s*PENDING\s*│\s*UTILITY\s*│\s*-/,
    );
    expect(table.stdout).toMatch(
      /lastcall_ai_assistants_first_notice\s*│\s*fr\s*│\s*APPROVED\s*│\s*UTILITY\s*│\s*GREEN/,
    );
    const json = JSON.parse(status.stdout) as {
      templates: { name: string; language: string; quality?: string }[];
    };
    expect(
      json.templates.find((r) => r.name === 'lastcall_ai_assistants_first_notice' && r.language === 'fr'),
    ).toMatchObject({
      category: 'UTILITY',
      quality: 'GREEN',
    });
  });

  it('exits 2 naming WHATSAPP_BUSINESS_ACCOUNT_ID when it is missing', async () => {
    const { WHATSAPP_BUSINESS_ACCOUNT_ID: _, ...withoutWaba } = env;
    const result = await runCli(['templates', 'status'], withoutWaba);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('WHATSAPP_BUSINESS_ACCOUNT_ID is not set');
  });
});
