// What Meta says about the WhatsApp account, read into PostgreSQL (docs/whatsapp.md): the
// portfolio's messaging limit and the number's throughput level, read from the Graph API when a
// worker starts and every hour after (the limit is also stored when a `business_capability_update`
// webhook reports a new one; both are read again on `phone_number_quality_update`). The send path's
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

/** Stores the messaging limit Meta gave; the tier, or undefined when Meta gave none (or one
 *  Lastcall does not know: the stored limit is then kept). */
async function storeTier(
  deps: { readonly db: Db; readonly logger: Logger },
  messagingTier: string | undefined,
  now: number,
): Promise<string | undefined> {
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

export interface AccountWatch {
  /** Reads the account now; `throughputOnly`: not the messaging limit (after a
   *  `phone_number_quality_update`, which names the limit itself). Failures are logged. */
  refresh(options?: { readonly throughputOnly?: boolean }): Promise<void>;
  stop(): void;
}

/**
 * Reads the number's limits now and every `everyMs` (an hour) until stopped: the messaging limit
 * is stored when `readLimit` (WHATSAPP_MESSAGING_LIMIT not set), and the throughput level goes to
 * `onThroughput` (when WHATSAPP_RATE is not set). Failures are logged.
 */
export function watchWhatsAppAccount(
  deps: {
    readonly db: Db;
    readonly account: AccountReader;
    readonly logger: Logger;
    readonly now: () => number;
    readonly readLimit: boolean;
    readonly onThroughput?: ((level: string) => Promise<void>) | undefined;
  },
  everyMs = 3_600_000,
): AccountWatch {
  const refresh = async (options: { readonly throughputOnly?: boolean } = {}) => {
    if (options.throughputOnly && !deps.onThroughput) return;
    try {
      const limits = await deps.account.numberLimits();
      if (deps.readLimit && !options.throughputOnly) await storeTier(deps, limits.messagingTier, deps.now());
      if (deps.onThroughput && limits.throughputLevel !== undefined)
        await deps.onThroughput(limits.throughputLevel);
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, 'cannot read the WhatsApp account limits');
    }
  };
  void refresh();
  const timer = setInterval(() => void refresh(), everyMs);
  timer.unref();
  return { refresh, stop: () => clearInterval(timer) };
}

/** Keeps the number's throughput level with the account (docs/whatsapp.md). */
export async function storeThroughputLevel(db: Db, level: string, now: number): Promise<void> {
  await db.exec(
    `INSERT INTO whatsapp_account (id, throughput_level, throughput_read_at, updated_at) VALUES (true, $1, $2, $2)
     ON CONFLICT (id) DO UPDATE SET throughput_level = EXCLUDED.throughput_level,
       throughput_read_at = EXCLUDED.throughput_read_at, updated_at = EXCLUDED.updated_at`,
    [level, new Date(now)],
  );
}

/** Messages per second Meta allows a number at each throughput level (docs/whatsapp.md). */
export const THROUGHPUT_RATES: Readonly<Record<string, number>> = { STANDARD: 80, HIGH: 1_000 };

/**
 * The WhatsApp rate a worker sends at: WHATSAPP_RATE when set; else the number's throughput
 * level, read from the Graph API (within `timeoutMs`) and stored; else `fallback` (the default
 * rate) when the level cannot be read or is not one Lastcall knows.
 */
export async function whatsappRateInForce(
  deps: { readonly db: Db; readonly account: AccountReader | undefined; readonly logger: Logger },
  setting: { readonly rate: number; readonly set: boolean },
  now: number,
  timeoutMs = 3_000,
): Promise<{ readonly rate: number; readonly source: 'WHATSAPP_RATE' | 'throughput' | 'default' }> {
  if (setting.set || !deps.account)
    return { rate: setting.rate, source: setting.set ? 'WHATSAPP_RATE' : 'default' };
  let timer: NodeJS.Timeout | undefined;
  try {
    const { throughputLevel } = await Promise.race([
      deps.account.numberLimits(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    if (throughputLevel === undefined) return { rate: setting.rate, source: 'default' };
    await storeThroughputLevel(deps.db, throughputLevel, now);
    const rate = THROUGHPUT_RATES[throughputLevel];
    if (rate === undefined) {
      deps.logger.warn(
        { level: throughputLevel },
        'WhatsApp throughput level not understood: default rate kept',
      );
      return { rate: setting.rate, source: 'default' };
    }
    deps.logger.info(
      { level: throughputLevel, rate },
      'WhatsApp rate set from the number’s throughput level',
    );
    return { rate, source: 'throughput' };
  } catch (err) {
    deps.logger.warn(
      { err: (err as Error).message },
      'cannot read the WhatsApp throughput level: default rate kept',
    );
    return { rate: setting.rate, source: 'default' };
  } finally {
    clearTimeout(timer);
  }
}

/** `phone_number_quality_update`: what Meta said about the number's quality, kept with the
 *  account (and the messaging limit it names, when it names one). */
export async function recordQualityUpdate(
  db: Db,
  update: { readonly event: string; readonly currentLimit: string | undefined },
  now: number,
): Promise<void> {
  await db.exec(
    `INSERT INTO whatsapp_account (id, quality_event, quality_event_at, updated_at) VALUES (true, $1, $2, $2)
     ON CONFLICT (id) DO UPDATE SET quality_event = EXCLUDED.quality_event,
       quality_event_at = EXCLUDED.quality_event_at, updated_at = EXCLUDED.updated_at`,
    [update.event, new Date(now)],
  );
  const people = update.currentLimit === undefined ? undefined : MESSAGING_TIERS[update.currentLimit];
  if (update.currentLimit !== undefined && people !== undefined)
    await storeMessagingLimit(db, { tier: update.currentLimit, people }, 'webhook', new Date(now));
}
