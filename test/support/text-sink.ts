// A writable stream that keeps what is written as text: a command's stdout or stderr in a test.
import { Writable } from 'node:stream';

export class TextSink extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString('utf8');
    done();
  }
}
