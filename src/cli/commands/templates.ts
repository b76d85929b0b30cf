// `lastcall templates push [--dry-run] | status [--json]` (docs/cli.md): the WhatsApp message
// templates of the message files, submitted to Meta and read back (src/ops/template-sync.service.ts).
// Needs WhatsApp configured and WHATSAPP_BUSINESS_ACCOUNT_ID (exit 2 naming what is missing);
// `push` exits 1 when Meta refused any template.

import Table from 'cli-table3';
import type { Command } from 'commander';
import type { Config } from '../../config/config.ts';
import { loadConfig } from '../../config/config.ts';
import { whatsAppChannelFor } from '../../delivery/channel-senders.ts';
import type { WhatsAppChannel } from '../../delivery/channels/whatsapp.ts';
import {
  type PushResult,
  pushTemplates,
  type StatusRow,
  storeStatuses,
  templateStatuses,
} from '../../ops/template-sync.service.ts';
import { readLocalTemplates } from '../../ops/whatsapp-templates.ts';
import { InvalidInput } from '../../shared/errors.ts';
import { printJsonOr } from '../output.ts';
import { withDb } from './campaign-context.ts';

interface Flags {
  json?: boolean;
  dryRun?: boolean;
  messages?: string;
}

export function register(program: Command): void {
  const group = program
    .command('templates')
    .description('WhatsApp message templates: push them to Meta for review, read their status')
    .addHelpText(
      'after',
      `
Templates come from the whatsapp part of config/messages/<locale>/<template>.yaml (or --messages DIR).
Needs WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN and
WHATSAPP_BUSINESS_ACCOUNT_ID.`,
    );
  group
    .command('push')
    .description('submit every template Meta does not have yet (existing ones are reported, not changed)')
    .option('--dry-run', 'show what would be submitted, submit nothing')
    .option('--messages <dir>', 'messages folder (default: the shipped config/messages)')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
Examples:
  $ lastcall templates push --dry-run
  $ lastcall templates push
  $ lastcall templates push --messages ./my-messages --json`,
    )
    .action(async (flags: Flags) => {
      const config = loadConfig('cli');
      const api = templateApi(config);
      const local = await readLocalTemplates(config.publicUrl, flags.messages);
      const results = await pushTemplates(api, local, { dryRun: flags.dryRun === true });
      if (!flags.dryRun) await withDb((db) => storeStatuses(db, results, Date.now()));
      printJsonOr(flags.json, { dryRun: flags.dryRun === true, templates: results }, () => pushText(results));
      if (results.some((r) => r.outcome === 'refused')) process.exitCode = 1;
    });
  group
    .command('status')
    .description("each template's review status at Meta (also stored in template_statuses)")
    .option('--messages <dir>', 'messages folder (default: the shipped config/messages)')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
Examples:
  $ lastcall templates status
  $ lastcall templates status --json`,
    )
    .action(async (flags: Flags) => {
      const config = loadConfig('cli');
      const api = templateApi(config);
      const local = await readLocalTemplates(config.publicUrl, flags.messages);
      const rows = await templateStatuses(api, local);
      await withDb((db) => storeStatuses(db, rows, Date.now()));
      printJsonOr(flags.json, { templates: rows }, () => statusText(rows));
    });
}

export function templateApi(config: Config): WhatsAppChannel {
  const wa = config.whatsapp;
  if (wa === undefined) {
    throw new InvalidInput(
      'WhatsApp is not configured: set WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET and WHATSAPP_VERIFY_TOKEN',
    );
  }
  if (wa.businessAccountId === undefined) {
    throw new InvalidInput(
      'WHATSAPP_BUSINESS_ACCOUNT_ID is not set: template management needs the WhatsApp Business Account id (WhatsApp Manager → Account tools)',
    );
  }
  return whatsAppChannelFor(wa, config.graphApi);
}

const plain = { head: [], border: [] as string[], compact: true };

export function pushText(results: readonly PushResult[]): string {
  const t = new Table({ head: ['template', 'language', 'outcome', 'status', 'note'], style: plain });
  for (const r of results) {
    const note = r.error
      ? `${r.error.code}: ${r.error.message}`
      : r.differs
        ? 'differs from the file: edit it in WhatsApp Manager, or rename it in the file'
        : '';
    t.push([r.name, r.language, r.outcome, r.status ?? '-', note]);
  }
  const count = (o: PushResult['outcome']) => results.filter((r) => r.outcome === o).length;
  const summary = [
    count('created') > 0 ? `${count('created')} submitted for review` : '',
    count('would-create') > 0 ? `${count('would-create')} would be submitted (dry run)` : '',
    count('exists') > 0 ? `${count('exists')} already at Meta` : '',
    count('refused') > 0 ? `${count('refused')} refused` : '',
  ].filter(Boolean);
  return `${t.toString()}\n${summary.join(', ') || 'no WhatsApp templates in the message files'}`;
}

export function statusText(rows: readonly StatusRow[]): string {
  const t = new Table({
    head: ['template', 'language', 'status', 'category', 'quality', 'reason'],
    style: plain,
  });
  for (const r of rows)
    t.push([r.name, r.language, r.status, r.category ?? '-', r.quality ?? '-', r.reason ?? '']);
  const missing = rows.filter((r) => r.status === 'MISSING').length;
  return `${t.toString()}${missing > 0 ? `\n${missing} not at Meta yet: run "lastcall templates push"` : ''}`;
}
