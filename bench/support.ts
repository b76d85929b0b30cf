// What the benchmarks share: the loopback fakes in processes of their own (so they do not share
// an event loop with what is measured), seeded subscribers and campaign files, clean-up of a
// benchmark's database and Redis keys, a process's resident memory, and the printed table.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { databaseName } from '../src/store/migrate.ts';
import { type Db, openDb } from '../src/store/pool.ts';

export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  for await (const keys of redis.scanStream({ match: pattern, count: 1000 }) as AsyncIterable<string[]>) {
    if (keys.length > 0) await redis.unlink(...keys);
  }
}

export async function dropDatabase(server: string, databaseUrl: string): Promise<void> {
  const admin = openDb({ databaseUrl: server });
  try {
    await admin.exec(`DROP DATABASE IF EXISTS "${databaseName(databaseUrl)}" WITH (FORCE)`);
  } finally {
    await admin.close();
  }
}

/** A benchmark's end: its Redis keys deleted, its pool closed, its database dropped (or kept and
 *  named, with --keep). */
export async function cleanUp(opts: {
  readonly redis: Redis;
  readonly prefix: string;
  readonly db: { close(): Promise<void> };
  readonly server: string;
  readonly databaseUrl: string;
  readonly keep: boolean;
}): Promise<void> {
  await deleteKeys(opts.redis, `${opts.prefix}:*`);
  opts.redis.disconnect();
  await opts.db.close();
  if (opts.keep) console.log(`kept database ${databaseName(opts.databaseUrl)}`);
  else await dropDatabase(opts.server, opts.databaseUrl);
}

/** Runs a module script in a child process and resolves with the first line it prints. */
async function sandbox(script: string, what: string): Promise<{ line: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', (code) => reject(new Error(`the ${what} exited (${code})`)));
  });
  return { line, child };
}

const src = (...parts: string[]) => JSON.stringify(join(import.meta.dirname, '..', 'src', ...parts));

/** The fake Graph API in a process of its own, so it does not share the worker's event loop. */
export async function startGraphSandbox(): Promise<{ url: string; pid: number; stop(): void }> {
  const { line, child } = await sandbox(
    `
    import { startFakeGraphApi } from ${src('sandbox', 'graph-fake.ts')};
    import { loadMessageTemplates, SHIPPED_MESSAGES_DIR } from ${src('campaigns', 'messages.ts')};
    const templates = [];
    for (const name of ['first-notice', 'one-week']) for (const locale of ['fr', 'en']) {
      const wa = (await loadMessageTemplates(SHIPPED_MESSAGES_DIR, locale, name)).whatsapp;
      templates.push({ name: wa.name, language: wa.language, category: wa.category, components: [
        { type: 'BODY', text: wa.body },
        { type: 'BUTTONS', buttons: [{ type: 'URL', text: wa.button.text, url: wa.button.url.replace('{{publicUrl}}', 'http://localhost:8080') }] },
      ] });
    }
    const fake = await startFakeGraphApi({ templates });
    // Forget what it receives: a benchmark sends far more than a test.
    setInterval(() => fake.reset(), 1000).unref();
    console.log(fake.url);
  `,
    'Graph API sandbox',
  );
  return { url: line, pid: child.pid!, stop: () => child.kill() };
}

/** An SMTP server that accepts every message and keeps none (a benchmark sends millions).
 *  `acceptDelayMs`: it answers each message that long after the data ended, as a remote relay
 *  that stores it first would (loopback otherwise has no latency at all). */
export async function startSmtpSink(
  options: { acceptDelayMs?: number } = {},
): Promise<{ url: string; pid: number; stop(): void }> {
  const delay = Number(options.acceptDelayMs ?? 0);
  const { line, child } = await sandbox(
    `
    import { SMTPServer } from 'smtp-server';
    const server = new SMTPServer({
      authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], logger: false, size: 1 << 20,
      onData(stream, _session, done) {
        stream.resume();
        stream.on('end', () => (${delay} > 0 ? setTimeout(done, ${delay}) : done()));
      },
    });
    server.listen(0, '127.0.0.1', () => console.log('smtp://127.0.0.1:' + server.server.address().port));
  `,
    'SMTP sink',
  );
  return { url: line, pid: child.pid!, stop: () => child.kill() };
}

/** Resident memory of a process now (VmRSS), in bytes; 0 once it is gone. */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

/** CPU time a process has used so far (user + system, /proc, in clock ticks of 10 ms), in ms;
 *  0 once it is gone. */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (stat === '') return 0;
  const fields = stat.replace(/^.*\) /, '').split(' ');
  // utime and stime are fields 14 and 15 of stat, 12 and 13 once pid and comm are cut off.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

/** Subscribers with active WhatsApp consent, written by PostgreSQL itself. */
export async function seed(
  db: Db,
  prefix: string,
  count: number,
  zones: readonly string[],
  firstPhone: number,
  tags: readonly string[] = [],
): Promise<void> {
  await db.exec(
    `INSERT INTO subscribers (id, name, phone, locale, timezone, attributes, tags)
     SELECT $1 || lpad(i::text, 8, '0'), 'Bench ' || i, '+33' || ($2::bigint + i)::text,
            CASE WHEN i % 2 = 0 THEN 'fr' ELSE 'en' END, ($3::text[])[1 + i % cardinality($3::text[])],
            '{"assistant": "both"}', $5
       FROM generate_series(1, $4::int) AS i`,
    [prefix, firstPhone, zones, count, tags],
  );
  await insertChannels(
    db,
    `INSERT INTO subscriber_channels (subscriber_id, channel, state, consent_at)
     SELECT id, 'whatsapp', 'active', now() - interval '1 day' FROM subscribers WHERE id LIKE $1 || '%'`,
    [prefix],
  );
  await db.exec('ANALYZE subscribers; ANALYZE subscriber_channels');
}

/**
 * A bulk load of channels, as an import writes them: with the import's flag set, so the trigger
 * that clears a subscriber's import digest (docs/subscribers.md) does not update every subscriber
 * row once more, which would leave a million dead rows for the benchmark to read through.
 */
export async function insertChannels(
  db: Db,
  statement: string,
  params: readonly unknown[] = [],
): Promise<void> {
  await db.tx(async (sql) => {
    await sql.exec(`SET LOCAL lastcall.importing = 'on'`);
    await sql.exec(statement, params);
  });
}

export async function campaignFile(
  id: string,
  deadline: number,
  steps: string,
  window = '{ start: "00:00", end: "23:59" }',
  tags: readonly string[] = [],
) {
  const dir = await mkdtemp(join(tmpdir(), 'lastcall-bench-'));
  const file = join(dir, `${id}.yaml`);
  await writeFile(
    file,
    `id: ${id}\nname: "Benchmark ${id}"\ndeadline: "${new Date(deadline).toISOString()}"\nwindow: ${window}\n` +
      `audience: { tags: [${tags.join(', ')}] }\nsteps:\n${steps}\n`,
  );
  return file;
}

const BIN = join(import.meta.dirname, '..', 'bin', 'lastcall.js');

/** A `lastcall` command as a child process (its output kept), once it has printed `readyText`
 *  (at once without one). */
export async function spawnLastcall(
  args: readonly string[],
  env: Record<string, string>,
  readyText = '',
): Promise<{ readonly pid: number; output(): string; stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', LASTCALL_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    if (readyText === '') resolve();
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(readyText)) resolve();
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    void exited.then(() => reject(new Error(`lastcall ${args.join(' ')} exited at start:\n${output}`)));
  });
  return {
    pid: child.pid!,
    output: () => output,
    async stop(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
