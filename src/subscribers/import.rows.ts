// The import's rows, checked, in file order (docs/subscribers.md, "How an import works"). The
// importing thread reads the CSV (csv-parse, line numbers) in batches and checks them itself,
// or, when asked (`threads`), hands them to a small pool of worker threads (import.worker.ts),
// which validate them and turn the valid ones into COPY text; a few batches are in flight at
// once, and their results come back in file order. The first THREADED_FROM records are checked
// in this thread: a file of a few rows (a sign-up list, a test) does not pay for starting
// workers. A file that breaks mid-way (not CSV, not UTF-8) ends with its error after the
// batches read before the break.
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { type CsvBatch, readCsvRecords } from './csv.ts';
import { type CheckedBatch, type CheckTask, checkBatch } from './import.check.ts';
import type { KnownDigests } from './import.digest.ts';
import { RawSifter } from './import.sift.ts';

/** Worker threads of an import by default: none. Measured on 2 shared cores, a worker cost up
 *  to a third more CPU and 50–90 MB more memory, and saved no time (docs/benchmarks.md,
 *  "Import"); `--threads N` gives them to an import on a machine with cores to spare. */
export const CHECK_THREADS = 0;
/** Records checked in the importing thread before the workers start. */
export const THREADED_FROM = 20_000;

export interface RowsOptions {
  readonly now: number;
  readonly label: string;
  /** Worker threads (default CHECK_THREADS; 0: every row checked in this thread). */
  readonly threads?: number;
  /** Records checked here before the workers start (default THREADED_FROM). */
  readonly threadedFrom?: number;
  /** Records per batch (default csv.ts's RECORDS_PER_BATCH). */
  readonly batchRecords?: number;
  /** The tombstone key when addresses must be hashed, asked again every `hashKeyEvery` records. */
  readonly hashKey: () => Promise<string | undefined>;
  readonly hashKeyEvery: number;
  /** The digests stored when the import began: rows found there are not validated. */
  readonly known?: KnownDigests | undefined;
  /** One-line records are hashed as raw bytes before csv-parse (import.sift.ts): the known
   *  ones are not parsed, the others' digests are the raw ones. */
  readonly sift?: boolean;
}

/** A checked batch with the rows the CSV reader refused itself (a wrong number of fields). */
export type RowsBatch = CheckedBatch & { readonly skipped: CsvBatch['skipped'] };

export class CheckedRows {
  readonly #records: AsyncGenerator<CsvBatch>;
  readonly #options: RowsOptions;
  readonly #queue: Promise<RowsBatch>[] = [];
  #pool: CheckPool | undefined;
  #read = 0;
  #ended = false;
  #failure: { error: unknown } | undefined;
  #hashKey: string | undefined;
  #hashKeyAt = 0;

  constructor(source: string | Readable, options: RowsOptions) {
    this.#options = options;
    this.#records = readCsvRecords(source, {
      now: options.now,
      label: options.label,
      ...(options.batchRecords === undefined ? {} : { batchRecords: options.batchRecords }),
      // A known record skips csv-parse too (import.sift.ts).
      ...(options.sift === true
        ? { sifter: (delimiter: ',' | ';') => new RawSifter(options.known, delimiter) }
        : {}),
    });
  }

  /** The next batch in file order, or undefined after the last. */
  async next(): Promise<RowsBatch | undefined> {
    const ahead = Math.max(2, 2 * (this.#pool?.size ?? 0) + 1);
    while (!this.#ended && this.#queue.length < ahead) await this.#readOne();
    const head = this.#queue.shift();
    if (head !== undefined) return head;
    if (this.#failure !== undefined) throw this.#failure.error;
    return undefined;
  }

  async close(): Promise<void> {
    this.#ended = true;
    await this.#records.return(undefined).catch(() => undefined);
    await this.#pool?.close();
    // Batches still in flight fail with the closed pool; nobody waits for them.
    for (const pending of this.#queue.splice(0)) pending.catch(() => undefined);
  }

  async #readOne(): Promise<void> {
    let next: IteratorResult<CsvBatch>;
    try {
      next = await this.#records.next();
    } catch (error) {
      this.#ended = true;
      this.#failure = { error };
      return;
    }
    if (next.done) {
      this.#ended = true;
      return;
    }
    const records = next.value;
    if (this.#read >= this.#hashKeyAt) {
      this.#hashKey = await this.#options.hashKey();
      this.#hashKeyAt = this.#read + this.#options.hashKeyEvery;
    }
    this.#read += records.lines.length;
    const task: CheckTask = {
      names: records.names,
      lines: records.lines,
      fields: records.fields,
      now: this.#options.now,
      hashKey: this.#hashKey,
      known: this.#options.known,
      ...(records.sifted === undefined ? {} : { sifted: records.sifted }),
    };
    const threads = this.#options.threads ?? CHECK_THREADS;
    if (this.#pool === undefined && threads > 0 && this.#read > (this.#options.threadedFrom ?? THREADED_FROM))
      this.#pool = new CheckPool(threads);
    const checked = this.#pool ? this.#pool.run(packed(task)) : Promise.resolve(checkBatch(task));
    const batch = checked.then((result) => ({ ...result, skipped: records.skipped }));
    // Awaited in order by next(); until then a failure must not count as unhandled.
    batch.catch(() => undefined);
    this.#queue.push(batch);
  }
}

/** A task as a worker receives it: every field of the batch in one string and their lengths
 *  (copying one string and one array to a thread costs far less than 20,000 small strings). */
export interface PackedTask extends Omit<CheckTask, 'fields'> {
  readonly text: string;
  readonly lengths: Uint32Array;
}

function packed(task: CheckTask): PackedTask {
  const width = task.names.length;
  const lengths = new Uint32Array(task.fields.length * width);
  const parts: string[] = [];
  let k = 0;
  for (const fields of task.fields)
    for (const value of fields) {
      parts.push(value);
      lengths[k++] = value.length;
    }
  const { fields: _, ...rest } = task;
  return { ...rest, text: parts.join(''), lengths };
}

/** The task a worker was given, as checkBatch takes it. */
export function unpacked(task: PackedTask): CheckTask {
  const width = task.names.length;
  const fields: string[][] = [];
  let at = 0;
  let k = 0;
  for (let i = 0; i < task.lines.length; i++) {
    const record: string[] = [];
    for (let f = 0; f < width; f++) {
      const end = at + task.lengths[k++]!;
      record.push(task.text.slice(at, end));
      at = end;
    }
    fields.push(record);
  }
  const { text: _, lengths: __, ...rest } = task;
  return { ...rest, fields };
}

interface Pending {
  readonly resolve: (batch: CheckedBatch) => void;
  readonly reject: (error: Error) => void;
}

/** Worker threads that check batches, each task given to the least busy one. */
class CheckPool {
  readonly size: number;
  readonly #workers: { readonly worker: Worker; readonly pending: Map<number, Pending> }[] = [];
  #nextId = 1;

  constructor(size: number) {
    this.size = size;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL('./import.worker.ts', import.meta.url));
      const pending = new Map<number, Pending>();
      const failAll = (error: Error) => {
        for (const p of pending.values()) p.reject(error);
        pending.clear();
      };
      worker.on('message', (message: { id: number; result?: CheckedBatch; error?: string }) => {
        const p = pending.get(message.id);
        if (p === undefined) return;
        pending.delete(message.id);
        if (message.result !== undefined) p.resolve(message.result);
        else p.reject(new Error(`import check worker failed: ${message.error}`));
      });
      worker.on('error', failAll);
      worker.on('exit', (code) => failAll(new Error(`import check worker exited (${code})`)));
      this.#workers.push({ worker, pending });
    }
  }

  run(task: PackedTask): Promise<CheckedBatch> {
    const least = this.#workers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.#nextId++;
    return new Promise<CheckedBatch>((resolve, reject) => {
      least.pending.set(id, { resolve, reject });
      least.worker.postMessage({ id, task }, [task.lengths.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map(({ worker }) => worker.terminate()));
  }
}
