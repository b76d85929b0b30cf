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
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';

const ROOT = join(import.meta.dirname, '..');
const CAMPAIGN = join(ROOT, 'config', 'campaigns', 'ai-assistants-leave-whatsapp.yaml');
const NOW = '2025-12-01T00:00:00Z';
const HEADER = 'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags\n';

const ZONES = [
  'Europe/Paris',
  'Europe/London',
  'Europe/Berlin',
  'Europe/Madrid',
  'Europe/Lisbon',
  'Europe/Athens',
  'Europe/Helsinki',
  'Europe/Moscow',
  'Europe/Istanbul',
  'Africa/Casablanca',
  'Africa/Dakar',
  'Africa/Abidjan',
  'Africa/Lagos',
  'Africa/Cairo',
  'Africa/Johannesburg',
  'Africa/Nairobi',
  'Asia/Dubai',
  'Asia/Tehran',
  'Asia/Karachi',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Asia/Dhaka',
  'Asia/Bangkok',
  'Asia/Singapore',
  'Asia/Shanghai',
  'Asia/Tokyo',
  'Australia/Adelaide',
  'Australia/Sydney',
  'Pacific/Auckland',
  'Pacific/Chatham',
  'Pacific/Kiritimati',
  'Pacific/Honolulu',
  'America/Anchorage',
  'America/Los_Angeles',
  'America/Denver',
  'America/Chicago',
  'America/New_York',
  'America/Halifax',
  'America/St_Johns',
  'America/Sao_Paulo',
] as const;
const CHANNELS = ['whatsapp;email', 'whatsapp', 'email'] as const;

function row(i: number): string {
  const zone = ZONES[i % ZONES.length];
  const channels = CHANNELS[i % CHANNELS.length]!;
  const phone = channels.includes('whatsapp') ? `+336${10_000_000 + i}` : '';
  const email = channels.includes('email') ? `s${i}@example.org` : '';
  const locale = i % 2 === 0 ? 'fr-FR' : 'en';
  const assistant = i % 4 === 0 ? 'copilot' : 'chatgpt';
  const tags = i % 5 === 0 ? 'beta' : '';
  return `s${i},Subscriber ${i},${phone},${email},${locale},${zone},${assistant},"${channels}",2025-11-02T14:30:00Z,bench,${tags}\n`;
}

/** Writes the CSV in 64 KiB pieces, waiting for 'drain': the file never sits in memory. */
async function writeCsv(path: string, count: number): Promise<void> {
  const out = createWriteStream(path);
  let pending = HEADER;
  for (let i = 0; i < count; i++) {
    pending += row(i);
    if (pending.length >= 64 * 1024) {
      if (!out.write(pending)) await once(out, 'drain');
      pending = '';
    }
  }
  out.end(pending);
  await once(out, 'finish');
}

// Loaded into the child with --import: reports its peak RSS (kilobytes) and CPU time
// (microseconds) on stderr at exit. CPU time stays meaningful on a busy machine; wall time does not.
const REPORT_USAGE = `data:text/javascript,process.on('exit',()=>{const u=process.resourceUsage();process.stderr.write('\\nbench-usage '+u.maxRSS+' '+(u.userCPUTime+u.systemCPUTime)+'\\n')})`;

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
  const usage = /bench-usage (\d+) (\d+)/.exec(stderr);
  const planned = /Planned ([\d,]+) sends/.exec(stderr);
  return {
    seconds,
    cpuSeconds: usage ? Number(usage[2]) / 1e6 : Number.NaN,
    rssMb: usage ? Number(usage[1]) / 1024 : Number.NaN,
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
