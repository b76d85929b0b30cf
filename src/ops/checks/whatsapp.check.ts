// WhatsApp: the token and phone number id work (GET /<phone-number-id>), and every template the
// campaigns will send is approved by Meta, in every language (GET /<WABA_ID>/message_templates).
import { listCampaigns } from '../../campaigns/campaign.repository.ts';
import type { Config } from '../../config/config.ts';
import { whatsAppChannelFor } from '../../delivery/channel-senders.ts';
import { openDb } from '../../store/pool.ts';
import { templatesNeeded } from '../whatsapp-templates.ts';
import { crashed, type Finding } from './finding.ts';

const OFF = 'WhatsApp channel off (WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID are not set)';

export async function whatsappCheck(config: Pick<Config, 'whatsapp' | 'graphApi'>): Promise<Finding[]> {
  const base = { check: 'whatsapp', title: 'WhatsApp' } as const;
  const wa = config.whatsapp;
  if (wa === undefined) return [{ ...base, status: 'skip', detail: OFF }];
  try {
    const info = await whatsAppChannelFor(wa, config.graphApi, 10_000).phoneNumberInfo();
    const detail = `token accepted; phone number ${info.displayPhoneNumber} (${info.verifiedName}), quality ${info.qualityRating}`;
    if (info.qualityRating === 'RED')
      return [
        {
          ...base,
          status: 'warn',
          detail,
          fix: 'quality RED: Meta may limit this number; review recent blocks and reports in WhatsApp Manager',
        },
      ];
    return [{ ...base, status: 'ok', detail }];
  } catch (error) {
    return [
      crashed(
        'whatsapp',
        'WhatsApp',
        error,
        'check WHATSAPP_TOKEN (a system-user token) and WHATSAPP_PHONE_NUMBER_ID',
      ),
    ];
  }
}

export async function templatesCheck(
  config: Pick<Config, 'whatsapp' | 'graphApi' | 'databaseUrl'>,
  now: number,
): Promise<Finding[]> {
  const base = { check: 'templates', title: 'WhatsApp templates' } as const;
  const wa = config.whatsapp;
  if (wa === undefined) return [{ ...base, status: 'skip', detail: OFF }];
  let needed: Awaited<ReturnType<typeof templatesNeeded>>;
  const db = openDb(config, { max: 1 });
  try {
    // Campaigns that may still send: not cancelled or finished, deadline ahead.
    const campaigns = (await listCampaigns(db)).filter(
      (c) => c.state !== 'cancelled' && c.state !== 'finished' && c.deadline > now,
    );
    needed = await templatesNeeded(campaigns);
  } catch (error) {
    return [
      crashed(
        'templates',
        base.title,
        error,
        'fix PostgreSQL first (see the postgres check), or the message files named above',
      ),
    ];
  } finally {
    await db.close().catch(() => {});
  }
  if (needed.length === 0)
    return [{ ...base, status: 'ok', detail: 'no campaign still to run sends WhatsApp templates' }];
  if (wa.businessAccountId === undefined)
    return [
      {
        ...base,
        status: 'warn',
        detail: `${needed.length} template(s) needed; their approval cannot be checked without WHATSAPP_BUSINESS_ACCOUNT_ID`,
        fix: 'set WHATSAPP_BUSINESS_ACCOUNT_ID (WhatsApp Manager → Account tools)',
      },
    ];
  try {
    const remote = await whatsAppChannelFor(wa, config.graphApi, 10_000).listTemplates();
    const status = (n: { name: string; language: string }) =>
      remote.find((r) => r.name === n.name && r.language === n.language)?.status ?? 'MISSING';
    const bad = needed.filter((n) => status(n) !== 'APPROVED');
    if (bad.length === 0)
      return [{ ...base, status: 'ok', detail: `${needed.length} needed by the campaigns, all approved` }];
    return [
      {
        ...base,
        status: 'fail',
        detail: `${bad.length} of ${needed.length} not approved: ${bad.map((n) => `${n.name} (${n.language}) ${status(n)} [${n.campaigns.join(', ')}]`).join('; ')}`,
        fix: 'run "lastcall templates push", then "lastcall templates status" until Meta approves them',
      },
    ];
  } catch (error) {
    return [crashed('templates', base.title, error, 'check WHATSAPP_TOKEN and WHATSAPP_BUSINESS_ACCOUNT_ID')];
  }
}
