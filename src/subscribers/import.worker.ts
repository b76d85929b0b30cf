// A worker thread of the import's check pool (CheckPool in import.rows.ts): validates batches of CSV records
// into COPY text (import.check.ts) and hands the bytes back without copying them.
import { parentPort } from 'node:worker_threads';
import { checkBatch } from './import.check.ts';
import { type PackedTask, unpacked } from './import.rows.ts';

const port = parentPort!;
port.on('message', (message: { readonly id: number; readonly task: PackedTask }) => {
  try {
    const result = checkBatch(unpacked(message.task));
    port.postMessage({ id: message.id, result }, [
      result.text.buffer as ArrayBuffer,
      result.ends.buffer as ArrayBuffer,
      result.keys.buffer as ArrayBuffer,
      result.present.buffer as ArrayBuffer,
      result.valid.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    port.postMessage({
      id: message.id,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
});
