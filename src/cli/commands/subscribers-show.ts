// `lastcall subscribers show KEY [--json]` (docs/cli.md): profile, channel states, consent events,
// deliveries and catch-up slots of one subscriber, by id, phone or email. Personal data is
// printed: that is what the command is for (an access request); nothing is logged.

import Table from 'cli-table3';
import type { Command } from 'commander';
import { parseSubscriberKey } from '../../subscribers/subscriber-key.ts';
import { DELIVERIES_LISTED, type SubscriberProfile } from '../../subscribers/subscriber-profile.ts';
import { printJsonOr } from '../output.ts';
import { withServices } from './campaign-context.ts';

/** The `subscribers` group: whichever subscribers-* module registers first creates it. */
export function subscribersCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'subscribers') ??
    program.command('subscribers').description('subscribers: import, export, show, forget')
  );
}

export function register(program: Command): void {
  subscribersCommand(program)
    .command('show')
    .description('everything held about one subscriber: profile, consent, deliveries')
    .argument('<key>', 'subscriber id, phone (E.164) or email')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
KEY is a subscriber id, a phone number in E.164 form or an email address.

Examples:
  $ lastcall subscribers show s001
  $ lastcall subscribers show +33612345678
  $ lastcall subscribers show amelie@example.org --json`,
    )
    .action(async (text: string, flags: { json?: boolean }) => {
      const key = parseSubscriberKey(text);
      const profile = await withServices((services) => services.directory.profile(key));
      printJsonOr(flags.json, profile, () => profileText(profile));
    });
}

const table = (head: string[]) => new Table({ head, style: { head: [], border: [], compact: true } });

const WIDTH = 100;
const INDENT = ' '.repeat(22);

/** "    key  value", the value wrapped at word boundaries under itself. */
function evidenceLines(key: string, value: string): string[] {
  const words = value.split(/\s+/);
  const out: string[] = [];
  let line = '';
  for (const word of words) {
    if (line !== '' && INDENT.length + line.length + 1 + word.length > WIDTH) {
      out.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  out.push(line);
  return out.map((text, i) => (i === 0 ? `    ${key.padEnd(16)}  ${text}` : `${INDENT}${text}`));
}

/** One line per attribute, `name  value`, in name order; a dash when there is none. */
function attributeLines(attributes: Readonly<Record<string, string>>): string[] {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return ['  attributes -'];
  return ['  attributes', ...names.map((name) => `    ${name.padEnd(16)}  ${attributes[name]}`)];
}

export function profileText(p: SubscriberProfile): string {
  const lines = [
    `subscriber ${p.id}`,
    `  name       ${p.name ?? '-'}`,
    `  phone      ${p.phone ?? '-'}`,
    `  email      ${p.email ?? '-'}`,
    `  locale     ${p.locale}    timezone ${p.timezone}`,
    ...attributeLines(p.attributes),
    `  tags       ${p.tags.length > 0 ? p.tags.join(', ') : '-'}`,
    `  done       ${p.doneAt ?? 'no'}`,
    `  created    ${p.createdAt}    updated ${p.updatedAt}`,
    '',
    'channels',
  ];
  if (p.channels.length === 0) lines.push('  (none)');
  else {
    const t = table(['channel', 'state', 'consent at', 'updated']);
    for (const c of p.channels) t.push([c.channel, c.state, c.consentAt ?? '-', c.updatedAt]);
    lines.push(t.toString());
    for (const c of p.channels) {
      if (c.username !== null)
        lines.push(`  ${c.channel}: uses the username ${c.username} (Meta may write without the phone)`);
      if (c.whatsappUserId !== null)
        lines.push(`  ${c.channel}: business-scoped user id ${c.whatsappUserId}`);
    }
  }
  lines.push('', `consent events (${p.consentEvents.length})`);
  // One block per event: the evidence (a consent text, a user agent) is far too wide for a table.
  for (const e of p.consentEvents) {
    lines.push(`  ${e.occurredAt}  ${e.channel ?? 'all channels'}  ${e.kind}  (source ${e.source})`);
    for (const [key, value] of Object.entries(e.evidence))
      lines.push(...evidenceLines(key, typeof value === 'string' ? value : JSON.stringify(value)));
  }
  const counts = Object.entries(p.deliveries.byStatus).map(([status, n]) => `${status} ${n}`);
  lines.push('', `deliveries (${p.deliveries.total}${counts.length > 0 ? `: ${counts.join(', ')}` : ''})`);
  if (p.deliveries.latest.length > 0) {
    const t = table([
      'id',
      'campaign',
      'step',
      'channel',
      'kind',
      'status',
      'attempts',
      'code/reason',
      'queued',
      'sent',
      'reported',
    ]);
    for (const d of p.deliveries.latest) {
      t.push([
        d.id,
        d.campaign,
        d.step,
        d.channel,
        d.kind,
        d.status,
        d.attempts,
        d.errorCode ?? d.skipReason ?? '-',
        d.queuedAt,
        d.sentAt ?? '-',
        d.reports.length > 0 ? d.reports.join(', ') : '-',
      ]);
    }
    lines.push(t.toString());
    // Why a message may or may not have gone out: an operator answering "did you send it?".
    for (const d of p.deliveries.latest)
      if (d.status === 'unknown' && d.errorDetail) lines.push(`  ${d.id} unknown: ${d.errorDetail}`);
    if (p.deliveries.total > DELIVERIES_LISTED) lines.push(`  (latest ${DELIVERIES_LISTED} shown)`);
  }
  if (p.catchUpSlots.length > 0) {
    lines.push('', 'personal catch-up slots');
    const t = table(['campaign', 'step', 'channel', 'send at', 'state']);
    for (const s of p.catchUpSlots) t.push([s.campaign, s.step, s.channel, s.sendAt, s.state]);
    lines.push(t.toString());
  }
  return lines.join('\n');
}
