// `lastcall demo` (npm run demo): the whole product in one process, without Docker (README.md,
// "Quick start").
// PostgreSQL and Redis: the configured ones, or private ones in the demo's data folder
// (demo-services.ts). The sandbox on 127.0.0.1: the fake Graph API for WhatsApp (unless
// WHATSAPP_API_URL names another Graph API than Meta's) and, unless SMTP_URL is set, the mail
// catcher for email; both land in the sandbox's one inbox page. Then migrate, serve + work, and
// the demo campaign seeded and started, open for sign-up at /subscribe/demo.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Config, EMAIL_POOL_SIZE_DEFAULT, type ServeConfig } from '../config/config.ts';
import { GRAPH_ORIGIN } from '../delivery/channels/graph-fetch.ts';
import { createServices } from '../roles/services.ts';
import { type AllInOne, startAllInOne } from '../roles/start.ts';
import { SANDBOX_DEFAULTS, type Sandbox, startSandbox } from '../sandbox/sandbox.service.ts';
import { systemClock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import { type MigrateResult, migrate } from '../store/migrate.ts';
import { type Db, openDb } from '../store/pool.ts';
import { type DemoEnd, demoEnd } from './demo.repository.ts';
import {
  type DemoServices,
  demoDatabaseUrl,
  demoDataDir,
  demoSecrets,
  demoServices,
} from './demo-services.ts';
import { type SeedResult, seedDemo } from './seed.service.ts';

export interface NativeDemoOptions {
  readonly minutes: number;
  readonly sandboxPort: number;
  readonly tickEveryMs: number;
  /** The demo's data folder: private servers' files and the demo's secrets. */
  readonly dataDir: string;
  /** Was dataDir chosen (--data-dir), or is it the default (which may move: demoDataDir)? */
  readonly dataDirChosen: boolean;
  readonly logger: Logger;
  readonly now: () => number;
  /** Called once, when the deadline has finished the demo campaign. */
  readonly onEnd?: (end: DemoEnd) => void;
}

export interface NativeDemo {
  /** The configuration serve and work run with (WhatsApp and email pointed at the sandbox). */
  readonly config: ServeConfig;
  readonly services: DemoServices;
  readonly migrated: MigrateResult;
  /** Undefined when WHATSAPP_API_URL named another Graph API and SMTP_URL is set. */
  readonly sandbox: Sandbox | undefined;
  readonly running: AllInOne;
  readonly seed: SeedResult;
  /** The `.env.demo` file in the data folder: the demo's variables, for the CLI beside it. */
  readonly envFile: string;
  close(timeoutMs?: number): Promise<void>;
}

/** The demo's sender, unless SENDER_NAME names one. */
const DEMO_SENDER = 'Lastcall demo';

/**
 * The demo's configuration: development mode with the kept secrets, the servers found or
 * started, WhatsApp on the given Graph API with the configured credentials (else the sandbox's
 * defaults), and email through the given SMTP URL when SMTP_URL is not set.
 */
export function demoConfig(
  config: Config,
  at: { graphUrl: string; smtpUrl: string | undefined; databaseUrl: string; redisUrl: string },
  secrets: { secretKey: string; adminToken: string },
): ServeConfig {
  const wa = config.whatsapp;
  const senderDefaulted = config.senderName === new URL(config.publicUrl).host;
  const senderName = senderDefaulted ? DEMO_SENDER : config.senderName;
  return {
    ...config,
    env: 'development',
    databaseUrl: at.databaseUrl,
    redisUrl: at.redisUrl,
    secretKey: secrets.secretKey,
    adminToken: secrets.adminToken,
    senderName,
    email:
      config.email ??
      (at.smtpUrl === undefined
        ? undefined
        : {
            smtpUrl: at.smtpUrl,
            from: `"${senderName}" <reminders@lastcall.localhost>`,
            poolSize: EMAIL_POOL_SIZE_DEFAULT,
          }),
    whatsapp: {
      token: wa?.token ?? SANDBOX_DEFAULTS.token,
      phoneNumberId: wa?.phoneNumberId ?? SANDBOX_DEFAULTS.phoneNumberId,
      appSecret: wa?.appSecret ?? SANDBOX_DEFAULTS.appSecret,
      verifyToken: wa?.verifyToken ?? SANDBOX_DEFAULTS.verifyToken,
      businessAccountId: wa?.businessAccountId ?? SANDBOX_DEFAULTS.wabaId,
    },
    graphApi: { ...config.graphApi, url: at.graphUrl },
  };
}

/** A value the shell and dotenv both read back as written (single quotes). */
const quoted = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;

/**
 * The variables that make every CLI command (doctor, forget, send-test, campaign stats…) talk
 * to the running demo: its servers, its secrets, the sandbox's Graph API and mail catcher.
 */
export function demoEnvLines(config: Config): string[] {
  const vars: Record<string, string | undefined> = {
    LASTCALL_ENV: config.env,
    DATABASE_URL: config.databaseUrl,
    REDIS_URL: config.redisUrl,
    QUEUE_PREFIX: config.queuePrefix,
    PUBLIC_URL: config.publicUrl,
    HTTP_PORT: String(config.httpPort),
    SECRET_KEY: config.secretKey,
    ADMIN_TOKEN: config.adminToken,
    SENDER_NAME: config.senderName,
    SMTP_URL: config.email?.smtpUrl,
    MAIL_FROM: config.email?.from,
    WHATSAPP_TOKEN: config.whatsapp?.token,
    WHATSAPP_PHONE_NUMBER_ID: config.whatsapp?.phoneNumberId,
    WHATSAPP_APP_SECRET: config.whatsapp?.appSecret,
    WHATSAPP_VERIFY_TOKEN: config.whatsapp?.verifyToken,
    WHATSAPP_BUSINESS_ACCOUNT_ID: config.whatsapp?.businessAccountId,
    WHATSAPP_API_URL: config.graphApi.url,
    WHATSAPP_API_VERSION: config.graphApi.version,
  };
  return Object.entries(vars).flatMap(([name, value]) =>
    value === undefined ? [] : [`${name}=${quoted(value)}`],
  );
}

function writeEnvFile(dataDir: string, config: Config): string {
  const file = join(dataDir, '.env.demo');
  const header = [
    "# Written by `lastcall demo` at each start: the running demo's variables, for the CLI beside it.",
    `# In a shell: set -a; . ${quoted(file)}; set +a   then any lastcall command.`,
  ];
  writeFileSync(file, `${[...header, ...demoEnvLines(config)].join('\n')}\n`, { mode: 0o600 });
  return file;
}

/** Looks every few seconds whether the deadline has finished the demo campaign; says so once. */
function watchEnd(db: Db, everyMs: number, onEnd: (end: DemoEnd) => void, logger: Logger): () => void {
  const timer = setInterval(() => {
    demoEnd(db).then(
      (end) => {
        if (!end) return;
        clearInterval(timer);
        onEnd(end);
      },
      (error: unknown) => logger.warn({ err: error }, 'demo: could not read the campaign state'),
    );
  }, everyMs);
  return () => clearInterval(timer);
}

function portInUse(error: unknown, port: number): never {
  const code = (error as { code?: string }).code;
  if (code !== 'EADDRINUSE') throw error;
  throw new Error(
    `--sandbox-port ${port}: the port is in use (another demo or sandbox? pass --sandbox-port, ` +
      'or point WHATSAPP_API_URL at the running one)',
    { cause: error },
  );
}

export async function startNativeDemo(base: Config, options: NativeDemoOptions): Promise<NativeDemo> {
  const services = await demoServices(base, demoDataDir(options.dataDir, options.dataDirChosen));
  let sandbox: Sandbox | undefined;
  let running: AllInOne | undefined;
  try {
    const secrets = demoSecrets(base, services.dataDir);
    const external = base.graphApi.url !== GRAPH_ORIGIN;
    const wa = base.whatsapp;
    if (!external || base.email === undefined) {
      sandbox = await startSandbox({
        host: '127.0.0.1',
        port: options.sandboxPort,
        token: wa?.token ?? SANDBOX_DEFAULTS.token,
        appSecret: wa?.appSecret ?? SANDBOX_DEFAULTS.appSecret,
        phoneNumberId: wa?.phoneNumberId ?? SANDBOX_DEFAULTS.phoneNumberId,
        wabaId: wa?.businessAccountId ?? SANDBOX_DEFAULTS.wabaId,
        webhookUrl: `http://127.0.0.1:${base.httpPort}/webhooks/whatsapp`,
        publicUrl: base.publicUrl,
        ...(base.email === undefined ? { smtpPort: 0 } : {}),
      }).catch((error: unknown) => portInUse(error, options.sandboxPort));
    }
    const config = demoConfig(
      base,
      {
        graphUrl: external ? base.graphApi.url : (sandbox?.url ?? base.graphApi.url),
        smtpUrl: sandbox?.smtpUrl,
        databaseUrl: demoDatabaseUrl(services, base),
        redisUrl: services.redisUrl,
      },
      secrets,
    );
    const migrated = await migrate(config);
    running = await startAllInOne(config, {
      logger: options.logger,
      host: '127.0.0.1',
      workers: { tickEveryMs: options.tickEveryMs },
    });
    const db = openDb(config, { max: 2 });
    const seeding = createServices({ config, db, clock: systemClock, logger: options.logger });
    const seed = await seedDemo(
      { db, config, services: seeding },
      { now: options.now(), minutes: options.minutes },
    ).finally(() => Promise.allSettled([seeding.close(), db.close()]));
    const envFile = writeEnvFile(services.dataDir, config);
    const onEnd = options.onEnd;
    const watchDb = onEnd ? openDb(config, { max: 1 }) : undefined;
    const stopWatching =
      watchDb && onEnd
        ? watchEnd(watchDb, Math.max(options.tickEveryMs, 1_000), onEnd, options.logger)
        : () => {};
    const started = running;
    const box = sandbox;
    return {
      config,
      services,
      migrated,
      sandbox: box,
      running: started,
      seed,
      envFile,
      async close(timeoutMs = 10_000) {
        stopWatching();
        await watchDb?.close();
        await started.close(timeoutMs);
        await box?.close();
        await services.stop();
      },
    };
  } catch (error) {
    await running?.close(5_000);
    await sandbox?.close();
    await services.stop();
    throw error;
  }
}
