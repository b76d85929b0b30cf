// Output for `lastcall plan`: NDJSON (docs/campaigns.md, "Previewing a plan"; scripts rely on it)
// or tables for people, written as the subscribers are read. Nothing accumulates: lines are batched
// into 64 KiB writes, the writer waits for 'drain' when the stream is full, and a table is printed
// every few dozen rows.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import Table from 'cli-table3';
import type { FormattedSend } from '../../planning/ndjson.ts';

/** Raised when the reader of stdout has gone (`lastcall plan … | head`): stop quietly. */
export class OutputClosed extends Error {}

/** Batches text into large writes and honours backpressure. */
export class BufferedOutput {
  readonly #stream: Writable;
  #pending = '';
  #failure: Error | undefined;

  constructor(stream: Writable) {
    this.#stream = stream;
    stream.on('error', (error: Error) => {
      this.#failure = error;
    });
  }

  async write(text: string): Promise<void> {
    this.#pending += text;
    if (this.#pending.length >= 64 * 1024) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#failure) throw closedOr(this.#failure);
    if (this.#pending === '') return;
    const ok = this.#stream.write(this.#pending);
    this.#pending = '';
    if (!ok) {
      try {
        await once(this.#stream, 'drain');
      } catch (error) {
        throw closedOr(error as Error);
      }
    }
  }
}

function closedOr(error: Error): Error {
  return (error as NodeJS.ErrnoException).code === 'EPIPE' ? new OutputClosed('output closed') : error;
}

const HEAD = ['subscriber', 'zone', 'step', 'channel', 'local time', 'UTC', 'kind'];

/**
 * Prints tables of about `linesPerTable` lines, one row per subscriber (a line per send inside
 * it), so a subscriber's sends read as one block and the output never waits for the whole file.
 */
export class TableWriter {
  readonly #out: BufferedOutput;
  readonly #colour: boolean;
  readonly #linesPerTable: number;
  #rows: string[][] = [];
  #lines = 0;

  constructor(out: BufferedOutput, colour: boolean, linesPerTable = 60) {
    this.#out = out;
    this.#colour = colour;
    this.#linesPerTable = linesPerTable;
  }

  async subscriber(id: string, zone: string, sends: readonly FormattedSend[]): Promise<void> {
    const column = (cell: (s: FormattedSend) => string) => sends.map(cell).join('\n');
    this.#rows.push(
      sends.length === 0
        ? [id, zone, '—', '—', 'nothing left to send', '—', '—']
        : [
            id,
            zone,
            column((s) => s.send.step),
            column((s) => s.send.channel),
            column((s) => s.local),
            column((s) => s.utc),
            column((s) => s.send.kind),
          ],
    );
    this.#lines += Math.max(1, sends.length);
    if (this.#lines >= this.#linesPerTable) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#rows.length === 0) return;
    await this.#out.write(`${renderTable(HEAD, this.#rows, this.#colour)}\n`);
    this.#rows = [];
    this.#lines = 0;
  }
}

export function renderTable(head: readonly string[], rows: readonly string[][], colour: boolean): string {
  const table = new Table({ head: [...head], style: colour ? {} : { head: [], border: [] } });
  table.push(...rows);
  return table.toString();
}

/** Counts per step and channel, for the closing totals. */
export class PlanTotals {
  readonly #counts = new Map<string, { step: string; channel: string; scheduled: number; catchUp: number }>();
  subscribers = 0;
  sends = 0;

  add(sends: readonly FormattedSend[]): void {
    this.subscribers++;
    for (const { send } of sends) {
      const key = `${send.step}\u0000${send.channel}`;
      let count = this.#counts.get(key);
      if (count === undefined) {
        count = { step: send.step, channel: send.channel, scheduled: 0, catchUp: 0 };
        this.#counts.set(key, count);
      }
      if (send.kind === 'catch-up') count.catchUp++;
      else count.scheduled++;
      this.sends++;
    }
  }

  /** Rows in campaign step order, then channel order. */
  rows(stepOrder: readonly string[]): string[][] {
    const rank = (step: string) => stepOrder.indexOf(step);
    return [...this.#counts.values()]
      .sort((a, b) => rank(a.step) - rank(b.step) || a.channel.localeCompare(b.channel))
      .map((c) => [
        c.step,
        c.channel,
        String(c.scheduled),
        String(c.catchUp),
        String(c.scheduled + c.catchUp),
      ]);
  }

  get catchUps(): number {
    let n = 0;
    for (const c of this.#counts.values()) n += c.catchUp;
    return n;
  }
}
