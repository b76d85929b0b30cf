// What Meta says about the WhatsApp account, read into PostgreSQL (docs/whatsapp.md): the
// portfolio's messaging limit, read from the Graph API when a worker starts and every hour after
// (and stored when a `business_capability_update` webhook reports a new one). The send path's
// gate (messaging-limit.gate.ts), `campaign start`, `plan` and the console read it from there.
// WHATSAPP_MESSAGING_LIMIT, when set, wins over all of it.
import type { Logger } from '../shared/logger.ts';
import { MESSAGING_TIERS } from '../shared/messaging-limit.ts';
import type { Db } from '../store/pool.ts';
import type { NumberLimits } from './channels/graph-admin.ts';
import { storeMessagingLimit } from './messaging-limit.gate.ts';

export interface AccountReader {
  numberLimits(): Promise<NumberLimits>;
}

/** Reads the limit from the Graph API and stores it; the tier read, or undefined when Meta gave
 *  none (or one Lastcall does not know: the stored limit is then kept). */
export async function refreshMessagingLimit(
  deps: { readonly db: Db; readonly account: AccountReader; readonly logger: Logger },
  now: number,
): Promise<string | undefined> {
  const { messagingTier } = await deps.account.numberLimits();
  const people = messagingTier === undefined ? undefined : MESSAGING_TIERS[messagingTier];
  if (messagingTier === undefined || people === undefined) {
    deps.logger.warn(
      { tier: messagingTier ?? null },
      'WhatsApp messaging limit not understood: kept as it was',
    );
    return undefined;
  }
  await storeMessagingLimit(deps.db, { tier: messagingTier, people }, 'graph', new Date(now));
  deps.logger.info({ tier: messagingTier }, 'WhatsApp messaging limit read');
  return messagingTier;
}

/** Reads the limit now and every `everyMs` (an hour) until stopped; failures are logged. */
export function watchMessagingLimit(
  deps: {
    readonly db: Db;
    readonly account: AccountReader;
    readonly logger: Logger;
    readonly now: () => number;
  },
  everyMs = 3_600_000,
): { stop(): void } {
  const read = () =>
    refreshMessagingLimit(deps, deps.now()).catch((err: Error) =>
      deps.logger.warn({ err: err.message }, 'cannot read the WhatsApp messaging limit'),
    );
  void read();
  const timer = setInterval(read, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
