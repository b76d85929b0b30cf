// Synthetic subscriber files for the benchmarks (bench/plan.ts, bench/import.ts): row i is
// always the same, over 42 zones, both channels (a third each: both, WhatsApp only, email only),
// fr and en, every fifth row tagged; with `attributes`, up to two attribute columns (attr.plan:
// free, pro or team; attr.region: one of 50).

/** The attribute columns a file may add, in order. */
export const ATTRIBUTE_COLUMNS = ['attr.plan', 'attr.region'] as const;

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

export const HEADER =
  'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags\n';

export const ZONES = [
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

/** The header of a file with `attributes` attribute columns (0 to 2). */
export function headerOf(attributes = 0): string {
  return attributes === 0
    ? HEADER
    : `${HEADER.trimEnd()},${ATTRIBUTE_COLUMNS.slice(0, attributes).join(',')}\n`;
}

const PLANS = ['free', 'pro', 'team'] as const;

export function row(i: number, attributes = 0): string {
  const zone = ZONES[i % ZONES.length];
  const channels = CHANNELS[i % CHANNELS.length]!;
  const phone = channels.includes('whatsapp') ? `+336${10_000_000 + i}` : '';
  const email = channels.includes('email') ? `s${i}@example.org` : '';
  const locale = i % 2 === 0 ? 'fr-FR' : 'en';
  const assistant = i % 4 === 0 ? 'copilot' : 'chatgpt';
  const tags = i % 5 === 0 ? 'beta' : '';
  const line = `s${i},Subscriber ${i},${phone},${email},${locale},${zone},${assistant},"${channels}",2025-11-02T14:30:00Z,bench,${tags}`;
  if (attributes === 0) return `${line}\n`;
  const values = [PLANS[i % PLANS.length]!, `r${i % 50}`].slice(0, attributes);
  return `${line},${values.join(',')}\n`;
}

/** Writes the CSV in 64 KiB pieces, waiting for 'drain': the file never sits in memory. */
export async function writeCsv(path: string, count: number, attributes = 0): Promise<void> {
  const out = createWriteStream(path);
  let pending = headerOf(attributes);
  for (let i = 0; i < count; i++) {
    pending += row(i, attributes);
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
export const REPORT_USAGE = `data:text/javascript,process.on('exit',()=>{const u=process.resourceUsage();process.stderr.write('\\nbench-usage '+u.maxRSS+' '+(u.userCPUTime+u.systemCPUTime)+'\\n')})`;

/** Peak RSS (MB) and CPU seconds a child started with REPORT_USAGE printed on stderr. */
export function usageOf(stderr: string): { rssMb: number; cpuSeconds: number } {
  const usage = /bench-usage (\d+) (\d+)/.exec(stderr);
  return usage
    ? { rssMb: Number(usage[1]) / 1024, cpuSeconds: Number(usage[2]) / 1e6 }
    : { rssMb: Number.NaN, cpuSeconds: Number.NaN };
}
