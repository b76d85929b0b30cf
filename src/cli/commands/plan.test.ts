import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInput } from '../../shared/errors.ts';
import { parseNow, runPlan } from './plan.ts';

const CAMPAIGN = join(
  import.meta.dirname,
  '..',
  '..',
  '..',
  'config',
  'campaigns',
  'ai-assistants-leave-whatsapp.yaml',
);
const NOW = '2025-12-01T00:00:00Z';
const HEADER = 'id,name,phone,email,locale,timezone,assistant,channels,consent_at,consent_source,tags\n';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A CSV of `count` valid subscribers in Paris on both channels (7 sends each). */
function csvOf(count: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'lastcall-plan-'));
  dirs.push(dir);
  let text = HEADER;
  for (let i = 0; i < count; i++) {
    text += `s${i},P ${i},+3361${String(i).padStart(7, '0')},s${i}@example.org,fr,Europe/Paris,both,whatsapp;email,2025-11-01T00:00:00Z,test,\n`;
  }
  const path = join(dir, 'subscribers.csv');
  writeFileSync(path, text);
  return path;
}

/** A slow sink with a tiny buffer: every write past 1 KiB reports backpressure. */
class SlowSink extends Writable {
  text = '';
  maxBuffered = 0;
  readonly failAfter: number;
  constructor(failAfter = Number.POSITIVE_INFINITY) {
    super({ highWaterMark: 1024 });
    this.failAfter = failAfter;
  }
  override _write(chunk: Buffer, _encoding: string, done: (error?: Error | null) => void): void {
    if (this.text.length >= this.failAfter) {
      done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      return;
    }
    this.maxBuffered = Math.max(this.maxBuffered, this.writableLength);
    setImmediate(() => {
      this.text += chunk.toString('utf8');
      done();
    });
  }
}

function io(stdout: Writable, stderr = new SlowSink()) {
  return { clock: Date.UTC(2025, 11, 1), stdout, stderr, colour: false };
}

describe('runPlan', () => {
  it('waits for a full stdout to drain, never holding more than one batch', async () => {
    const subscribers = csvOf(3000);
    const stdout = new SlowSink();
    const stderr = new SlowSink();
    const code = await runPlan(
      { campaign: CAMPAIGN, subscribers, now: NOW, format: 'ndjson' },
      io(stdout, stderr),
    );
    await new Promise((resolve) => stdout.end(resolve));
    expect(code).toBe(0);
    const lines = stdout.text.trim().split('\n');
    expect(lines).toHaveLength(3000 * 7);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ subscriber: 's2999', step: 'h6', channel: 'whatsapp' });
    // One 64 KiB batch (plus the line that crossed the limit) at most is ever waiting.
    expect(stdout.maxBuffered).toBeLessThan(70 * 1024);
    expect(stderr.text).toBe(
      `Time-zone data: ${process.versions.tz}.\nSends every day 9:00–20:00 your time (each subscriber's own zone).\nPlanned 21,000 sends (0 catch-up) for 3,000 subscribers.\n`,
    );
  });

  it('stops quietly when the reader goes away (EPIPE)', async () => {
    const subscribers = csvOf(3000);
    const stdout = new SlowSink(100_000);
    const code = await runPlan({ campaign: CAMPAIGN, subscribers, now: NOW, format: 'ndjson' }, io(stdout));
    expect(code).toBe(0);
    expect(stdout.text.length).toBeGreaterThanOrEqual(100_000);
    expect(stdout.text.length).toBeLessThan(400_000);
  });
});

describe('parseNow', () => {
  it('defaults to the clock and reads instants with an offset', () => {
    expect(parseNow(undefined, 42)).toBe(42);
    expect(parseNow('2026-01-15T00:00:00+01:00', 42)).toBe(Date.UTC(2026, 0, 14, 23));
  });

  it('refuses anything else, naming the option and the rule', () => {
    expect(() => parseNow('tomorrow', 0)).toThrow(InvalidInput);
    expect(() => parseNow('2025-12-01T00:00:00', 0)).toThrow(
      /--now: must be an ISO 8601 instant with an offset or Z/,
    );
  });
});
