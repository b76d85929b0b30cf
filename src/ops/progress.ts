// Progress bars for long CLI work (import, export, fan-out watch): counts, rate and ETA on stderr,
// only when stderr is a terminal and the output is not --json, so pipes, scripts and CI logs
// get clean output. The clock is read here, in the CLI edge, never in domain code.
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** `done` of `total` so far (total may grow); `note` is shown after the ETA. */
  update(done: number, total?: number, note?: string): void;
  stop(): void;
}

const silent: Progress = { update: () => {}, stop: () => {} };

export function progressBar(
  label: string,
  unit: string,
  options: { json?: boolean; stream?: NodeJS.WriteStream } = {},
): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.json === true || !stream.isTTY) return silent;
  const bar = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted}{note}`,
    stream,
    clearOnComplete: true,
    hideCursor: true,
    etaBuffer: 50,
  });
  const started = Date.now();
  let running = false;
  return {
    update(done, total, note) {
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      const payload = { rate: Math.round(done / seconds), note: note ? ` | ${note}` : '' };
      if (!running) {
        bar.start(Math.max(total ?? done, 1), done, payload);
        running = true;
        return;
      }
      if (total !== undefined && total !== bar.getTotal()) bar.setTotal(Math.max(total, 1));
      bar.update(done, payload);
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
