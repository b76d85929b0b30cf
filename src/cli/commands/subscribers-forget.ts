// `lastcall subscribers forget KEY [--json]` (docs/subscribers.md, "Erasure"): erasure. Every piece
// of personal data goes in one transaction; a keyed-hash tombstone of each address blocks a later
// re-import (src/subscribers/erasure.service.ts). Exit 2 when no subscriber matches the key.
import type { Command } from 'commander';
import type { ErasureResult } from '../../subscribers/erasure.service.ts';
import { parseSubscriberKey } from '../../subscribers/subscriber-key.ts';
import { withServices } from './campaign-context.ts';
import { subscribersCommand } from './subscribers-show.ts';

export function register(program: Command): void {
  subscribersCommand(program)
    .command('forget')
    .description('erase a subscriber; a hashed tombstone blocks re-importing their phone or email')
    .argument('<key>', 'subscriber id, phone (E.164) or email')
    .option('--json', 'machine-readable summary')
    .addHelpText(
      'after',
      `
Deletes the subscriber, their channels, consent events and personal catch-up slots, keeps their
deliveries as anonymous rows for the campaign figures, and records a keyed hash (SECRET_KEY) of
each phone and email they gave. An import of those addresses is then refused; the person may
still sign up again on the web form. There is no undo.

Examples:
  $ lastcall subscribers forget s001
  $ lastcall subscribers forget +33612345678
  $ lastcall subscribers forget amelie@example.org --json`,
    )
    .action(async (text: string, flags: { json?: boolean }) => {
      const key = parseSubscriberKey(text);
      const result = await withServices((services) => services.erasures.forget(key, Date.now()));
      console.log(flags.json ? JSON.stringify(result, null, 2) : erasureText(result));
    });
}

export function erasureText(r: ErasureResult): string {
  const kinds = (['phone', 'email'] as const)
    .filter((k) => r.tombstones[k] > 0)
    .map((k) => `${r.tombstones[k]} ${k}${r.tombstones[k] > 1 ? 's' : ''}`);
  return [
    `erased subscriber ${r.subscriberId}`,
    `  removed     ${r.channels} channel${r.channels === 1 ? '' : 's'}, ${r.consentEvents} consent event${r.consentEvents === 1 ? '' : 's'}, ${r.personalSlots} personal catch-up slot${r.personalSlots === 1 ? '' : 's'}`,
    `  deliveries  ${r.deliveriesAnonymised} kept without personal data${r.deliveriesSkipped > 0 ? ` (${r.deliveriesSkipped} not yet sent: skipped)` : ''}`,
    ...(r.webhookPayloadsRedacted > 0
      ? [`  webhooks    ${r.webhookPayloadsRedacted} waiting to be processed: the person cut out`]
      : []),
    `  tombstones  ${kinds.length > 0 ? kinds.join(', ') : 'none'}: a re-import of these addresses is refused`,
  ].join('\n');
}
