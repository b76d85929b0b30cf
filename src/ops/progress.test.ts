import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressBar } from './progress.ts';

/** A stream that says it is a terminal and keeps what is drawn on it. */
function terminal(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, {
    isTTY: true,
    columns: 160,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
  });
  return { stream, text: () => text };
}

describe('progressBar', () => {
  it('draws counts, rate, ETA and the note on a terminal', () => {
    const { stream, text } = terminal();
    const bar = progressBar('fan-out', 'rows', { stream });
    bar.update(0, 100);
    bar.update(45, 100, '12 settled');
    bar.stop();
    expect(text()).toMatch(/fan-out \[[=-]+\] 45% \| 45\/100 rows \| \d+\/s \| ETA \S+ \| 12 settled/);
  });

  it('draws nothing on a pipe or with --json', () => {
    const { stream, text } = terminal();
    progressBar('exporting', 'subscribers', { stream, json: true }).update(5, 10);
    const pipe = terminal();
    Object.assign(pipe.stream, { isTTY: false });
    progressBar('exporting', 'subscribers', { stream: pipe.stream }).update(5, 10);
    expect(text() + pipe.text()).toBe('');
  });
});
