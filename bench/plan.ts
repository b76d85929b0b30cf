// Benchmark of the offline planner's real code path: `lastcall plan --format ndjson` over
// synthetic subscriber files, in a child process per size, output to /dev/null.
// Prints wall and CPU seconds, throughput, NDJSON lines and peak RSS. Peak RSS should stay
// nearly flat as the file grows: rows are streamed, only the duplicate check grows (~12 bytes
// a key, three keys a row).
//
//   node bench/plan.ts                 # 100k and 1M subscribers
//   node bench/plan.ts 10000 50000     # other sizes
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import { REPORT_USAGE, usageOf, writeCsv, ZONES } from './subscriber-csv.ts';

const ROOT = join(import.meta.dirname, '..');
const CAMPAIGN = join(ROOT, 'config', 'campaigns', 'ai-assistants-leave-whatsapp.yaml');
const NOW = '2025-12-01T00:00:00Z';
interface RunResult {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly rssMb: number;
  readonly lines: number;
}

async function runPlan(csv: string): Promise<RunResult> {
  const devNull = await open('/dev/null', 'w');
  const args = ['--import', REPORT_USAGE, join(ROOT, 'bin', 'lastcall.js'), 'plan', '--campaign', CAMPAIGN];
  args.push('--subscribers', csv, '--now', NOW, '--format', 'ndjson');
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', devNull.fd, 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  const seconds = (performance.now() - started) / 1000;
  await devNull.close();
  if (code !== 0) throw new Error(`lastcall plan exited with ${code}:\n${stderr}`);
  const usage = usageOf(stderr);
  const planned = /Planned ([\d,]+) sends/.exec(stderr);
  return {
    seconds,
    cpuSeconds: usage.cpuSeconds,
    rssMb: usage.rssMb,
    lines: planned ? Number(planned[1]!.replaceAll(',', '')) : Number.NaN,
  };
}

const sizes = process.argv.slice(2).map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) {
  console.error('usage: node bench/plan.ts [subscriber counts…]');
  process.exit(2);
}
const dir = await mkdtemp(join(tmpdir(), 'lastcall-bench-'));
const table = new Table({
  head: [
    'subscribers',
    'wall s',
    'CPU s',
    'subscribers/s',
    'subscribers/CPU s',
    'NDJSON lines',
    'peak RSS MB',
  ],
  style: { head: [], border: [] },
});
try {
  for (const count of sizes.length > 0 ? sizes : [100_000, 1_000_000]) {
    const csv = join(dir, `subscribers-${count}.csv`);
    const written = performance.now();
    await writeCsv(csv, count);
    console.error(`wrote ${csv} (${((performance.now() - written) / 1000).toFixed(1)} s), planning…`);
    const result = await runPlan(csv);
    table.push([
      count.toLocaleString('en-US'),
      result.seconds.toFixed(1),
      result.cpuSeconds.toFixed(1),
      Math.round(count / result.seconds).toLocaleString('en-US'),
      Math.round(count / result.cpuSeconds).toLocaleString('en-US'),
      result.lines.toLocaleString('en-US'),
      result.rssMb.toFixed(0),
    ]);
    await rm(csv);
  }
  const [load = 0] = loadavg();
  console.log(`lastcall plan --format ndjson > /dev/null; ${ZONES.length} zones; --now ${NOW}`);
  console.log(
    `${cpus().length} CPUs, load average ${load.toFixed(1)} at the end (wall times stretch above ${cpus().length})`,
  );
  console.log(table.toString());
} finally {
  await rm(dir, { recursive: true, force: true });
}
