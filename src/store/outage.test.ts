import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { untilDatabaseAnswers, watchDatabase } from './outage.ts';

function capture() {
  const lines: { level: number; msg: string; downForMs?: number }[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const shutdown = () =>
  Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });

describe('watchDatabase', () => {
  it('logs an outage once and its end once, however many failures come between', () => {
    const { logger, lines } = capture();
    let now = 1_000;
    const watch = watchDatabase(logger, () => now);
    watch.answered();
    expect(watch.failed(shutdown())).toBe(true);
    for (let i = 0; i < 50; i++) watch.failed(refused());
    expect(watch.down).toBe(true);
    now = 4_200;
    watch.answered();
    watch.answered();
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [50, 'PostgreSQL is unreachable: work waits and resumes when it answers again'],
      [40, 'PostgreSQL is back after 3 s'],
    ]);
    expect(lines[1]?.downForMs).toBe(3_200);
  });

  it('ignores errors that are not about reaching PostgreSQL', () => {
    const { logger, lines } = capture();
    const watch = watchDatabase(logger);
    expect(watch.failed(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect([watch.down, lines]).toEqual([false, []]);
  });
});

describe('untilDatabaseAnswers', () => {
  it('retries a write through an outage, and gives up on other errors at once', async () => {
    let calls = 0;
    const written = await untilDatabaseAnswers(
      async () => {
        calls += 1;
        if (calls < 3) throw refused();
        return 'written';
      },
      { firstWaitMs: 1 },
    );
    expect([written, calls]).toEqual(['written', 3]);
    let other = 0;
    const failing = untilDatabaseAnswers(async () => {
      other += 1;
      throw new Error('syntax error');
    });
    await expect(failing).rejects.toThrow('syntax error');
    expect(other).toBe(1);
  });

  it('throws the last error once the wait is over', async () => {
    await expect(
      untilDatabaseAnswers(() => Promise.reject(refused()), { maxWaitMs: 20, firstWaitMs: 5 }),
    ).rejects.toThrow('ECONNREFUSED');
  });
});
