// `lastcall subscribers import` against its ceiling, on a database of its own (dropped at the
// end). Per size and run: the same synthetic file (bench/subscriber-csv.ts)
// 1. `psql \copy` into a plain table of text columns: what PostgreSQL and the machine can do;
// 2. `lastcall subscribers import --json` in a child process into empty tables: wall time,
//    rows/s, peak RSS and CPU of that process, and the ratio to (1);
// 3. the same file again (nothing changed): wall time and peak RSS.
// The subscriber tables are emptied between runs.
//
//   node bench/import.ts [--rows 200000] [--rows 1000000] [--runs 3] [--attributes 2] [--compare-attributes]
//                        [--tombstone] [--keep]
//
// --attributes N: the file has N attribute columns (attr.plan, attr.region) besides assistant.
// --compare-attributes: each run imports the file without attribute columns and the same file
// with two, one after the other, and prints both (issue 20's "within 10 %" check).
//
// --tombstone: one erased subscriber exists and SECRET_KEY is set, so every phone and email of
// the file is hashed and checked against the tombstones (the cost an operator with erasures pays).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { databaseName, migrate, withDatabase } from '../src/store/migrate.ts';
import { openDb } from '../src/store/pool.ts';
import { tombstoneHash } from '../src/subscribers/subscriber.repository.ts';
import { headerOf, REPORT_USAGE, usageOf, writeCsv } from './subscriber-csv.ts';

const { values: opts } = parseArgs({
  options: {
    rows: { type: 'string', multiple: true, default: ['200000'] },
    runs: { type: 'string', default: '3' },
    tombstone: { type: 'boolean', default: false },
    attributes: { type: 'string', default: '0' },
    'compare-attributes': { type: 'boolean', default: false },
    /** Passed to `subscribers import --threads` (its default when not given). */
    threads: { type: 'string' },
    /** Keep the benchmark database (to look at its plans); its name is printed. */
    keep: { type: 'boolean', default: false },
  },
});
const SIZES = opts.rows.map(Number);
const RUNS = Number(opts.runs);
const ATTRIBUTES = Number(opts.attributes);
/** The attribute columns of the files each run imports. */
const VARIANTS = opts['compare-attributes'] ? [0, 2] : [ATTRIBUTES];
if (
  SIZES.some((n) => !Number.isInteger(n) || n < 1) ||
  !Number.isInteger(RUNS) ||
  RUNS < 1 ||
  ![0, 1, 2].includes(ATTRIBUTES)
) {
  console.error(
    'usage: node bench/import.ts [--rows N]… [--runs K] [--attributes 0-2] [--compare-attributes] [--tombstone] [--keep]',
  );
  process.exit(2);
}

const ROOT = join(import.meta.dirname, '..');
const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE_URL = withDatabase(SERVER, `lastcall_bench_${randomBytes(3).toString('hex')}`);
const SECRET_KEY = randomBytes(32).toString('hex');
const log = (line: string) => console.error(`· ${line}`);

interface Run {
  readonly seconds: number;
  readonly rssMb: number;
  readonly cpuSeconds: number;
  readonly summary: { rows: number; inserted: number; unchanged: number; bad: number };
}

async function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const started = performance.now();
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${stderr}`);
  const summary = stdout.trim().startsWith('{') ? JSON.parse(stdout) : undefined;
  return { seconds, ...usageOf(stderr), summary };
}

function importFile(csv: string): Promise<Run> {
  const args = ['--import', REPORT_USAGE, join(ROOT, 'bin', 'lastcall.js'), 'subscribers', 'import'];
  const threads = opts.threads === undefined ? [] : ['--threads', opts.threads];
  return run(process.execPath, [...args, '--file', csv, '--json', ...threads], {
    DATABASE_URL,
    LASTCALL_ENV: 'development',
    LOG_LEVEL: 'silent',
    ...(opts.tombstone ? { SECRET_KEY } : {}),
  });
}

const psqlCopy = (csv: string, table: string) =>
  run('psql', [
    DATABASE_URL,
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-c',
    `\\copy ${table} FROM '${csv}' WITH (FORMAT csv, HEADER true)`,
  ]);

const range = (xs: number[], digits: number) => {
  const lo = Math.min(...xs).toFixed(digits);
  const hi = Math.max(...xs).toFixed(digits);
  return lo === hi ? lo : `${lo}–${hi}`;
};

async function main(): Promise<void> {
  const [load = 0] = loadavg();
  console.log(
    `Import benchmark: ${cpus().length} CPUs (${cpus()[0]?.model}), load ${load.toFixed(1)}, node ${process.version}`,
  );
  await migrate({ databaseUrl: DATABASE_URL });
  const db = openDb({ databaseUrl: DATABASE_URL });
  const dir = await mkdtemp(join(tmpdir(), 'lastcall-bench-import-'));
  const table = new Table({
    head: [
      'rows',
      'psql \\copy s',
      'import s',
      'rows/s',
      'ratio',
      'peak RSS MB',
      'CPU s',
      're-import s',
      're-import RSS MB',
    ],
    style: { head: [], border: [] },
  });
  try {
    for (const attributes of VARIANTS) {
      await db.exec(
        `CREATE TABLE copy_ceiling_${attributes} (${headerOf(attributes)
          .trim()
          .split(',')
          .map((c) => `"${c}" text`)
          .join(', ')})`,
      );
    }
    for (const rows of SIZES) {
      const files = new Map<number, string>();
      for (const attributes of VARIANTS) {
        const csv = join(dir, `subscribers-${rows}-${attributes}.csv`);
        await writeCsv(csv, rows, attributes);
        files.set(attributes, csv);
      }
      const runs = new Map<number, { ceiling: Run; first: Run; again: Run }[]>(VARIANTS.map((v) => [v, []]));
      for (let i = 1; i <= RUNS; i++) {
        for (const attributes of VARIANTS) {
          const csv = files.get(attributes)!;
          const ceilingTable = `copy_ceiling_${attributes}`;
          await db.exec(`TRUNCATE ${ceilingTable}, subscribers, tombstones CASCADE`);
          if (opts.tombstone) {
            await db.exec(`INSERT INTO tombstones (hash, kind) VALUES ($1, 'phone')`, [
              tombstoneHash(SECRET_KEY, 'phone', '+33699999999'),
            ]);
          }
          await db.exec(`VACUUM ANALYZE ${ceilingTable}, subscribers, subscriber_channels, consent_events`);
          await db.exec('CHECKPOINT');
          const [load = 0] = loadavg();
          const ceiling = await psqlCopy(csv, ceilingTable);
          const first = await importFile(csv);
          const again = await importFile(csv);
          if (first.summary.inserted !== rows || again.summary.unchanged !== rows) {
            throw new Error(`unexpected summaries: ${JSON.stringify([first.summary, again.summary])}`);
          }
          log(
            `${rows} rows${attributes > 0 ? ` +${attributes} attr` : ''}, run ${i} (load ${load.toFixed(1)}): \\copy ${ceiling.seconds.toFixed(2)} s, import ${first.seconds.toFixed(1)} s (${first.rssMb.toFixed(0)} MB, ${first.cpuSeconds.toFixed(1)} CPU s), re-import ${again.seconds.toFixed(1)} s (${again.rssMb.toFixed(0)} MB, ${again.cpuSeconds.toFixed(1)} CPU s)`,
          );
          runs.get(attributes)!.push({ ceiling, first, again });
        }
      }
      for (const attributes of VARIANTS) {
        const done = runs.get(attributes)!;
        table.push([
          `${rows.toLocaleString('en-US')}${attributes > 0 ? ` +${attributes} attr` : ''}`,
          range(
            done.map((r) => r.ceiling.seconds),
            2,
          ),
          range(
            done.map((r) => r.first.seconds),
            1,
          ),
          range(
            done.map((r) => rows / r.first.seconds / 1000),
            0,
          ).replaceAll(/\d+/g, (n) => `${n}k`),
          range(
            done.map((r) => r.first.seconds / r.ceiling.seconds),
            1,
          ),
          range(
            done.map((r) => r.first.rssMb),
            0,
          ),
          range(
            done.map((r) => r.first.cpuSeconds),
            1,
          ),
          range(
            done.map((r) => r.again.seconds),
            1,
          ),
          range(
            done.map((r) => r.again.rssMb),
            0,
          ),
        ]);
      }
      if (VARIANTS.length > 1) {
        const [plain, attributed] = VARIANTS.map((v) => runs.get(v)!);
        const ratios = plain!.map((p, i) => attributed![i]!.first.seconds / p.first.seconds);
        const again = plain!.map((p, i) => attributed![i]!.again.seconds / p.again.seconds);
        console.log(
          `${rows} rows: with 2 attribute columns ÷ without, same run: import ${range(ratios, 2)}, re-import ${range(again, 2)}`,
        );
      }
      for (const csv of files.values()) await rm(csv);
    }
    const [after = 0] = loadavg();
    console.log(
      `${RUNS} run(s) per size, ranges min–max; ratio = import / psql \\copy of the same file in the same run; load ${after.toFixed(1)} at the end${opts.tombstone ? '; with a tombstone (every address hashed)' : ''}`,
    );
    console.log(table.toString());
  } finally {
    await db.close();
    await rm(dir, { recursive: true, force: true });
    if (opts.keep) console.log(`kept database ${databaseName(DATABASE_URL)}`);
    else {
      const admin = openDb({ databaseUrl: SERVER });
      await admin.exec(`DROP DATABASE IF EXISTS "${databaseName(DATABASE_URL)}" WITH (FORCE)`);
      await admin.close();
    }
  }
}

await main();
