// Real `lastcall serve` and `lastcall work` processes against the WhatsApp sandbox (fake Graph
// API, signed status webhooks, inbox) on a database and a Redis prefix of their own: the set-up
// the WhatsApp end-to-end tests share. Each test seeds its own subscribers and campaign, then
// spawns the processes it needs with `env`.
import { runTick } from '../../src/delivery/tick.service.ts';
import { freePort } from '../../src/ops/local-servers/probe.ts';
import { QueueSet } from '../../src/queue/connection.ts';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/sandbox.service.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { testConfig } from './config.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import {
  makeSubscribers,
  PUBLIC_URL,
  seedSubscribers,
  spawnLastcall,
  spawnWorker,
  type WorkerProcess,
  waitFor,
} from './delivery.ts';
import { createTestRedis, type TestRedis } from './redis.ts';

export interface SandboxStack {
  readonly database: TestDatabase;
  readonly redis: TestRedis;
  readonly sandbox: Sandbox;
  /** The environment of the stack's `serve` and `work` processes. */
  readonly env: Record<string, string>;
  readonly queues: QueueSet;
  /** Processes the test spawned, stopped by close(). */
  readonly processes: WorkerProcess[];
  /** One tick of the scheduler at the given instant, from the test process. */
  tick(at: number): Promise<unknown>;
  close(): Promise<void>;
}

export async function startSandboxStack(options: {
  /** Names the sandbox's token and numbers apart from other files'. */
  readonly name: string;
  readonly appSecret: string;
  /** A two-digit suffix for the phone number and WABA ids. */
  readonly idSuffix: string;
  readonly sandbox?: Partial<SandboxOptions>;
  readonly env?: Record<string, string>;
}): Promise<SandboxStack> {
  const database = await createTestDatabase();
  const redis = createTestRedis();
  const httpPort = await freePort();
  const sandbox = await startSandbox({
    token: `${options.name}-token`,
    appSecret: options.appSecret,
    phoneNumberId: `1000000000000${options.idSuffix}`,
    wabaId: `2000000000000${options.idSuffix}`,
    webhookUrl: `http://127.0.0.1:${httpPort}/webhooks/whatsapp`,
    publicUrl: PUBLIC_URL,
    statusDelayMs: 5,
    ...options.sandbox,
  });
  const env = {
    DATABASE_URL: database.url,
    ...redis.env,
    PUBLIC_URL,
    HTTP_PORT: String(httpPort),
    WHATSAPP_TOKEN: sandbox.graph.token,
    WHATSAPP_PHONE_NUMBER_ID: sandbox.graph.phoneNumberId,
    WHATSAPP_APP_SECRET: options.appSecret,
    WHATSAPP_VERIFY_TOKEN: 'verify-token',
    WHATSAPP_API_URL: sandbox.url,
    ...options.env,
  };
  const queues = new QueueSet(testConfig(env, 'work'));
  const processes: WorkerProcess[] = [];
  const logger = createLogger({ logLevel: 'silent' });
  return {
    database,
    redis,
    sandbox,
    env,
    queues,
    processes,
    tick: (at) => runTick({ db: database.db, queues, logger }, at),
    async close() {
      await Promise.all(processes.map((p) => p.stop('SIGTERM')));
      await queues.close();
      await sandbox.close();
      await redis.cleanup();
      await database.drop();
    },
  };
}

/**
 * The messaging-limit set-up: the sandbox reports TIER_250; `count` people on WhatsApp only, in
 * Paris (one zone), their phones from `phoneBase` on; a `serve` and a `work` process, the worker
 * having read the limit from the Graph API. Returns the worker.
 */
export async function startUnderTier250(
  stack: SandboxStack,
  options: { readonly count: number; readonly phoneBase: number; readonly consentAt: number },
): Promise<WorkerProcess> {
  stack.sandbox.graph.setMessagingTier('TIER_250');
  const people = makeSubscribers(options.count, ['Europe/Paris']).map((s, i) => ({
    ...s,
    channels: ['whatsapp' as const],
    phone: `+3361${String(options.phoneBase + i).padStart(7, '0')}`,
    email: null,
  }));
  await seedSubscribers(stack.database.db, people, options.consentAt);
  stack.processes.push(await spawnLastcall(['serve'], stack.env, '"msg":"listening'));
  const worker = await spawnWorker(stack.env);
  stack.processes.push(worker);
  await waitFor('the worker to read the limit', () =>
    worker.output().includes('WhatsApp messaging limit read'),
  );
  return worker;
}
