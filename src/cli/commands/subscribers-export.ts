// `lastcall subscribers export [--file OUT.csv] [--json]` (docs/subscribers.md): the import's CSV
// format, streamed from PostgreSQL. To a file, the CSV is written beside it and renamed when
// complete (never a half-written export), readable by its owner only: it holds personal data.

import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { progressBar } from '../../ops/progress.ts';
import { type ExportSummary, exportSubscribers } from '../../subscribers/export.service.ts';
import { withDb } from './campaign-context.ts';
import { subscribersCommand } from './subscribers-show.ts';

interface ExportFlags {
  file?: string;
  json?: boolean;
}

export function register(program: Command): void {
  subscribersCommand(program)
    .command('export')
    .description('write every subscriber with consent in force as an importable CSV')
    .option('--file <file>', 'write to this file (default: standard output)')
    .option('--json', 'machine-readable summary (on stdout with --file, else on stderr)')
    .addHelpText(
      'after',
      `
Columns (the import's): id, name, phone, email, locale, timezone, channels, consent_at,
consent_source, tags, then one attr.<name> column per attribute (attr.assistant included). Only channels whose consent is in force are listed, with the
evidence of that consent; subscribers with none are left out (and counted). The file can be
imported again as it is: "lastcall subscribers import --file OUT.csv".

Examples:
  $ lastcall subscribers export --file subscribers.csv
  $ lastcall subscribers export > subscribers.csv
  $ lastcall subscribers export --file backup.csv --json`,
    )
    .action(async (flags: ExportFlags) => {
      const bar = progressBar('exporting', 'subscribers', { json: flags.json === true });
      const temp = flags.file === undefined ? undefined : `${flags.file}.partial`;
      const out: Writable = temp === undefined ? process.stdout : createWriteStream(temp, { mode: 0o600 });
      let summary: ExportSummary;
      try {
        summary = await withDb((db) =>
          exportSubscribers(db, out, { onProgress: (read, total) => bar.update(read, total) }),
        );
      } catch (error) {
        if (temp !== undefined) await rm(temp, { force: true });
        // The reader went away (`| head`): what it wanted was written; not a failure.
        if (temp === undefined && (error as NodeJS.ErrnoException).code === 'EPIPE') return;
        throw error;
      } finally {
        bar.stop();
      }
      if (temp !== undefined && flags.file !== undefined) await rename(temp, flags.file);
      const report = flags.json
        ? JSON.stringify({ file: flags.file ?? null, ...summary }, null, 2)
        : summaryText(summary, flags.file);
      // The CSV owns stdout when no file is given.
      if (flags.file === undefined) console.error(report);
      else console.log(report);
    });
}

export function summaryText(s: ExportSummary, file: string | undefined): string {
  const lines = [
    `exported ${s.exported} subscriber${s.exported === 1 ? '' : 's'}${file ? ` to ${file}` : ''}`,
  ];
  if (s.leftOut > 0)
    lines.push(
      `  left out ${s.leftOut}: no channel with consent in force (pending confirmation, unsubscribed or stopped)`,
    );
  if (s.done > 0)
    lines.push(`  note: ${s.done} of them said they are done; the CSV format has no column for it`);
  return lines.join('\n');
}
