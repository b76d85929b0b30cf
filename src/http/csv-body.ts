// CSV uploads, as the admin API's import and the console's import receive them: one list of
// media types, and one body parser that hands the import a stream it reads row by row as the
// upload arrives (never held whole).
//
// The import may stop reading early (a bad header line, --strict and a bad row): it destroys the
// stream it was given. That stream is a PassThrough in front of the request, so the request
// itself stays open; what is left of the upload is then read and dropped, so that the client,
// still sending, gets the answer (422 and why) rather than a connection reset.
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';

/** The media types a CSV upload may be sent as. */
export const CSV_TYPES: readonly string[] = ['text/csv', 'application/csv'];

/** Whether a Content-Type header names CSV (parameters such as charset are ignored). */
export function isCsv(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return CSV_TYPES.includes(type);
}

/** Registers the CSV body parser in this Fastify context: `request.body` is a Readable. */
export function acceptCsvBodies(app: FastifyInstance): void {
  app.addContentTypeParser([...CSV_TYPES], (_request, payload, done) => {
    const body = new PassThrough();
    payload.on('error', (error) => body.destroy(error));
    body.on('close', () => {
      if (payload.readableEnded) return;
      payload.unpipe(body);
      payload.resume();
    });
    done(null, payload.pipe(body));
  });
}
