// Import: the page, and the upload the console script streams (Content-Type text/csv, the CSRF
// token in X-CSRF-Token) straight into the import service `subscribers import` uses: the file is
// read row by row as it arrives, never held whole. The answer is the summary as an HTML fragment.
import type { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { InvalidInput } from '../../shared/errors.ts';
import { acceptCsvBodies, isCsv } from '../csv-body.ts';
import type { ConsoleOptions } from './console.plugin.ts';
import { sendHtml, viewContext } from './context.ts';
import { importFailedFragment, importPage, importSummaryFragment } from './views/import.view.ts';

export const consoleImportRoutes: FastifyPluginAsync<ConsoleOptions> = async (app, opts) => {
  const { imports } = opts.services;
  acceptCsvBodies(app);

  app.get('/console/import', async (request, reply) =>
    sendHtml(reply, importPage(viewContext(request, reply))),
  );

  app.post('/console/import', { bodyLimit: 1024 * 1024 * 1024 }, async (request, reply) => {
    const query = request.query as { dryRun?: string; strict?: string };
    const ctx = viewContext(request, reply);
    if (!isCsv(request.headers['content-type']))
      return sendHtml(reply, importFailedFragment(ctx, 'Content-Type must be text/csv', []), 415);
    try {
      const summary = await imports.importFile({
        file: request.body as Readable,
        now: opts.clock.now(),
        dryRun: query.dryRun === 'true',
        strict: query.strict === 'true',
      });
      return sendHtml(reply, importSummaryFragment(ctx, { ...summary }));
    } catch (error) {
      if (!(error instanceof InvalidInput)) throw error;
      return sendHtml(reply, importFailedFragment(ctx, error.summary, error.problems), 422);
    }
  });
};
