// The composition root: every service of Lastcall, built once per process from the config, the
// database pool, the clock and the logger (and the queues, where the process has them), then
// handed to whatever edge the process runs: the CLI's commands, the admin API, the console,
// the public pages, the SMTP listener and the workers. No route plugin, command or worker builds
// a service of its own, so that caches (the activity service's zone counts) and owned resources
// (the confirmation mailer's SMTP pool) exist once and are closed once.
//
// Each service is built the first time it is asked for: a CLI command that lists campaigns
// never builds the sign-up side, and a CLI run without SECRET_KEY fails only in the command that
// needs the key, with a ConfigError naming it. Adding a service is one line in `createServices`.
import { createApiKeyService } from '../access/api-keys.ts';
import { createSessionService } from '../access/console-session.ts';
import { createActivityService } from '../campaigns/activity.service.ts';
import { createCampaignService, planSubscriber } from '../campaigns/campaign.service.ts';
import { createReplanService } from '../campaigns/replan.service.ts';
import { createSignUpPages } from '../campaigns/signup-pages.service.ts';
import { loadPriceTable, type PriceTable } from '../campaigns/whatsapp-prices.ts';
import { type Config, requireAdminToken, requireSecretKey } from '../config/config.ts';
import { createConfirmationMailer, type EmailSender } from '../http/confirmation-email.ts';
import { configuredChannels } from '../http/signup-form.ts';
import type { QueueSet } from '../queue/connection.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { Db } from '../store/pool.ts';
import { createBounceService } from '../subscribers/bounce.service.ts';
import { createDirectoryService } from '../subscribers/directory.service.ts';
import { createErasureService } from '../subscribers/erasure.service.ts';
import { createImportService } from '../subscribers/import.service.ts';
import { createSubscriptionService } from '../subscribers/subscription.service.ts';
import { createUpsertService } from '../subscribers/upsert.service.ts';

export interface ServiceDeps {
  /** The role's config (ServeConfig, WorkConfig or the CLI's). */
  readonly config: Config;
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The producer side of the queues, in the processes that have them (serve, work). */
  readonly queues?: QueueSet;
  /** After a subscriber gains an active channel (sign-up, email confirmation, WhatsApp START).
   *  Default: plan them into every running or paused campaign. */
  readonly onSubscriberActivated?: (subscriberId: string) => Promise<void> | void;
  /** The channel confirmation emails go out on. Default: one on SMTP_URL, closed by `close()`. */
  readonly confirmationChannel?: EmailSender;
  /** The WhatsApp price table; default: config/whatsapp-prices.yaml in the working directory
   *  (docs/whatsapp.md, "Pricing"); null: none. */
  readonly prices?: PriceTable | null;
}

export function createServices(deps: ServiceDeps) {
  const { config, db, clock, logger } = deps;
  const closing: (() => unknown)[] = [];
  const owned = <T extends { close?(): unknown }>(resource: T): T => {
    closing.push(() => resource.close?.());
    return resource;
  };
  const activated =
    deps.onSubscriberActivated ??
    (async (id: string) => {
      await planSubscriber(db, id, clock.now());
    });

  // Built once and shared: the console's sessions check the API keys; an upsert is an import.
  const apiKeys = once(() => createApiKeyService(db));
  const imports = once(() => createImportService({ db, secretKey: config.secretKey }));
  const prices = once(() => (deps.prices === undefined ? loadPriceTable() : (deps.prices ?? undefined)));

  const services = built({
    apiKeys,
    sessions: () =>
      createSessionService({
        sql: db,
        keys: apiKeys(),
        config: {
          secretKey: requireSecretKey(config, 'console sessions are signed with it').secretKey,
          adminToken: requireAdminToken(config).adminToken,
        },
      }),
    // The price table is read (and a bad one refused) when the campaign service is first built:
    // at the start of serve and of every `campaign` command.
    campaigns: () =>
      createCampaignService({ db, messagingLimit: config.whatsappMessagingLimit, prices: prices() }),
    activity: () =>
      createActivityService({ db, prices: prices(), messagingLimit: config.whatsappMessagingLimit }),
    signUpPages: () => createSignUpPages({ db }),
    subscriptions: () =>
      createSubscriptionService({
        db,
        secretKey: requireSecretKey(config, 'sign-ups lift tombstones keyed with it').secretKey,
        consentRecordIp: config.consentRecordIp,
        logger,
        onSubscriberActivated: activated,
        channels: configuredChannels(config),
        senderName: config.senderName,
        mailer: owned(
          createConfirmationMailer({
            config,
            secretKey: requireSecretKey(config, 'confirmation links are signed with it').secretKey,
            logger,
            ...(deps.confirmationChannel ? { channel: deps.confirmationChannel } : {}),
          }),
        ),
      }),
    imports,
    upserts: () => createUpsertService({ imports: imports() }),
    erasures: () =>
      createErasureService({
        db,
        secretKey: requireSecretKey(config, 'the tombstone that blocks a re-import is keyed with it')
          .secretKey,
      }),
    bounces: () => createBounceService({ db, logger }),
    directory: () => createDirectoryService({ db }),
    /** Re-plans pending sends planned with older tz data (docs/timezones.md): workers. */
    replans: () => createReplanService({ db, logger }),
  });

  return Object.assign(services, {
    /** Closes what the services own (the confirmation mailer's SMTP connections). */
    async close(): Promise<void> {
      await Promise.allSettled(closing.splice(0).map((close) => close()));
    },
  });
}

export type Services = ReturnType<typeof createServices>;

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}

/**
 * An object whose properties are built by their factory the first time they are read, then
 * kept: one instance per process, and nothing built that the process does not use.
 */
function built<T extends object>(factories: { [K in keyof T]: () => T[K] }): T {
  const cache = new Map<PropertyKey, unknown>();
  const target = {} as T;
  for (const key of Object.keys(factories) as (keyof T & string)[]) {
    Object.defineProperty(target, key, {
      enumerable: true,
      get() {
        if (!cache.has(key)) cache.set(key, factories[key]());
        return cache.get(key);
      },
    });
  }
  return target;
}
