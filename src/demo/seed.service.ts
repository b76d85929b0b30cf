// `lastcall demo seed`: a running demo campaign whose deadline is minutes away, with a handful of
// made-up subscribers, through the same services an operator uses (subscribers import with
// consent evidence "demo seed", campaign create from a file, campaign start). Seeding again
// replaces the demo: previous demo campaign and subscribers are deleted, then created afresh.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { StartResult } from '../campaigns/campaign.service.ts';
import type { Config } from '../config/config.ts';
import type { Services } from '../roles/services.ts';
import { InvalidInput } from '../shared/errors.ts';
import type { Db } from '../store/pool.ts';
import { campaignsDemoWouldJoin, clearDemo } from './demo.repository.ts';
import { DEMO_CAMPAIGN_ID, type DemoStep, demoCampaignYaml, demoTiming } from './demo-campaign.ts';
import { demoSubscribersCsv } from './demo-subscribers.ts';

export interface SeedDeps {
  readonly db: Db;
  readonly config: Pick<Config, 'whatsapp' | 'graphApi'>;
  readonly services: Pick<Services, 'imports' | 'campaigns'>;
}

export interface SeedOptions {
  readonly now: number;
  /** Minutes from the current minute to the deadline. */
  readonly minutes: number;
}

export interface SeedResult {
  readonly campaignId: string;
  /** A previous demo campaign was replaced. */
  readonly replaced: boolean;
  readonly startAt: number;
  readonly deadline: number;
  readonly steps: readonly DemoStep[];
  readonly subscribers: { readonly imported: number; readonly bad: number };
  readonly start: StartResult;
}

/** True when WhatsApp messages would go to Meta's real Graph API rather than a sandbox. */
export function whatsappIsReal(config: Pick<Config, 'whatsapp' | 'graphApi'>): boolean {
  if (config.whatsapp === undefined) return false;
  const host = new URL(config.graphApi.url).hostname;
  return host === 'facebook.com' || host.endsWith('.facebook.com');
}

export async function seedDemo(deps: SeedDeps, options: SeedOptions): Promise<SeedResult> {
  if (whatsappIsReal(deps.config)) {
    throw new InvalidInput(
      'demo seed: WHATSAPP_API_URL points at the real Graph API, and the demo subscribers are made-up ' +
        'numbers: point WHATSAPP_API_URL at the sandbox (e.g. http://127.0.0.1:8090), or run "lastcall demo"',
    );
  }
  const timing = demoTiming(options.now, options.minutes);
  const cleared = await deps.db.tx(async (sql) => {
    const others = await campaignsDemoWouldJoin(sql, options.now);
    if (others.length > 0) {
      throw new InvalidInput(
        `demo seed: the demo subscribers would join the running campaign${others.length === 1 ? '' : 's'} ` +
          `${others.join(', ')}: run the demo against a database of its own (DATABASE_URL)`,
      );
    }
    return clearDemo(sql);
  });

  const summary = await deps.services.imports.importFile({
    file: Readable.from([demoSubscribersCsv(timing.startAt)]),
    now: options.now,
  });

  const { campaigns } = deps.services;
  const dir = await mkdtemp(join(tmpdir(), 'lastcall-demo-'));
  try {
    const file = join(dir, `${DEMO_CAMPAIGN_ID}.yaml`);
    await writeFile(file, demoCampaignYaml(timing), 'utf8');
    await campaigns.create(file, options.now);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  // As of the current minute: the first notice, due at that minute, goes out at the next tick.
  const start = await campaigns.start(DEMO_CAMPAIGN_ID, timing.startAt);
  return {
    campaignId: DEMO_CAMPAIGN_ID,
    replaced: cleared.campaign,
    startAt: timing.startAt,
    deadline: timing.deadline,
    steps: timing.steps,
    subscribers: { imported: summary.inserted + summary.updated + summary.unchanged, bad: summary.bad },
    start,
  };
}
