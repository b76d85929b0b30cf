// `lastcall demo` (npm run demo): what the compose demo profile does, in one process and without
// Docker. Migrate; start the WhatsApp sandbox on 127.0.0.1 unless WHATSAPP_API_URL already names
// a Graph API other than Meta's; run serve + work against the configured PostgreSQL and Redis
// with WhatsApp pointed at the sandbox; seed and start the demo campaign. Email goes through
// SMTP_URL when set (a local Mailpit), and is off otherwise.
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/config.ts';
import { GRAPH_ORIGIN } from '../delivery/channels/graph-fetch.ts';
import { type AllInOne, startAllInOne } from '../roles/start.ts';
import { SANDBOX_DEFAULTS, type Sandbox, startSandbox } from '../sandbox/sandbox.service.ts';
import type { Logger } from '../shared/logger.ts';
import { type MigrateResult, migrate } from '../store/migrate.ts';
import { openDb } from '../store/pool.ts';
import { type SeedResult, seedDemo } from './seed.service.ts';

export interface NativeDemoOptions {
  readonly minutes: number;
  readonly sandboxPort: number;
  readonly tickEveryMs: number;
  readonly logger: Logger;
  readonly now: () => number;
}

export interface NativeDemo {
  /** The configuration serve and work run with (WhatsApp pointed at the sandbox). */
  readonly config: Config;
  readonly migrated: MigrateResult;
  /** Undefined when WHATSAPP_API_URL named another Graph API. */
  readonly sandbox: Sandbox | undefined;
  readonly running: AllInOne;
  readonly seed: SeedResult;
  close(timeoutMs?: number): Promise<void>;
}

/**
 * The demo's configuration: development mode (a random link key and admin token for this run
 * when none are set), and WhatsApp on the given Graph API with the configured credentials, else
 * the sandbox's defaults.
 */
export function demoConfig(config: Config, graphUrl: string): Config {
  const wa = config.whatsapp;
  return {
    ...config,
    env: 'development',
    secretKey: config.secretKey ?? randomBytes(32).toString('hex'),
    adminToken: config.adminToken ?? randomBytes(16).toString('hex'),
    whatsapp: {
      token: wa?.token ?? SANDBOX_DEFAULTS.token,
      phoneNumberId: wa?.phoneNumberId ?? SANDBOX_DEFAULTS.phoneNumberId,
      appSecret: wa?.appSecret ?? SANDBOX_DEFAULTS.appSecret,
      verifyToken: wa?.verifyToken ?? SANDBOX_DEFAULTS.verifyToken,
      businessAccountId: wa?.businessAccountId ?? SANDBOX_DEFAULTS.wabaId,
      apiUrl: graphUrl,
      apiVersion: config.whatsappApi.version,
      rate: config.whatsappApi.rate,
    },
    whatsappApi: { ...config.whatsappApi, url: graphUrl },
  };
}

export async function startNativeDemo(base: Config, options: NativeDemoOptions): Promise<NativeDemo> {
  const migrated = await migrate(base);
  const external = base.whatsappApi.url !== GRAPH_ORIGIN;
  const creds = demoConfig(base, base.whatsappApi.url).whatsapp!;
  const sandbox = external
    ? undefined
    : await startSandbox({
        host: '127.0.0.1',
        port: options.sandboxPort,
        token: creds.token,
        appSecret: creds.appSecret,
        phoneNumberId: creds.phoneNumberId,
        wabaId: creds.businessAccountId ?? SANDBOX_DEFAULTS.wabaId,
        webhookUrl: `http://127.0.0.1:${base.httpPort}/webhooks/whatsapp`,
        publicUrl: base.publicUrl,
      }).catch((error: unknown) => {
        const code = (error as { code?: string }).code;
        if (code !== 'EADDRINUSE') throw error;
        throw new Error(
          `--sandbox-port ${options.sandboxPort}: the port is in use (another sandbox? pass --sandbox-port, ` +
            'or point WHATSAPP_API_URL at the running one)',
          { cause: error },
        );
      });
  const config = demoConfig(base, sandbox?.url ?? base.whatsappApi.url);
  let running: AllInOne | undefined;
  try {
    running = await startAllInOne(config, {
      logger: options.logger,
      host: '127.0.0.1',
      workers: { tickEveryMs: options.tickEveryMs },
    });
    const db = openDb(config, { max: 2 });
    const seed = await seedDemo({ db, config }, { now: options.now(), minutes: options.minutes }).finally(
      () => db.close(),
    );
    const started = running;
    return {
      config,
      migrated,
      sandbox,
      running: started,
      seed,
      async close(timeoutMs = 10_000) {
        await started.close(timeoutMs);
        await sandbox?.close();
      },
    };
  } catch (error) {
    await running?.close(5_000);
    await sandbox?.close();
    throw error;
  }
}
