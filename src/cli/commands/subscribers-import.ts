// `lastcall subscribers import --file S.csv [--dry-run] [--strict] [--json] [--threads N]` (docs/cli.md,
// docs/subscribers.md).
// Exit 0 when the file was imported (bad rows, if any, are listed and skipped); exit 2 when
// --strict refused the file because of bad rows (nothing written) or the file is unreadable.
// A progress bar (rows, rate, ETA) goes to stderr only when stderr is a terminal.
import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import { type Progress, progressBar } from '../../ops/progress.ts';
import { formatProblem, InvalidInput } from '../../shared/errors.ts';
import { CHECK_THREADS } from '../../subscribers/import.rows.ts';
import { IMPORT_CONNECTIONS, type ImportSummary } from '../../subscribers/import.service.ts';
import { printJsonOr } from '../output.ts';
import { withServices } from './campaign-context.ts';

const BAD_ROWS_SHOWN = 50;

interface ImportFlags {
  file: string;
  dryRun?: boolean;
  strict?: boolean;
  json?: boolean;
  threads?: string;
}

export function register(program: Command): void {
  const group =
    program.commands.find((c) => c.name() === 'subscribers') ??
    program.command('subscribers').description('subscribers: import, export, show, forget');
  group
    .command('import')
    .description('import subscribers from a CSV file (upsert by id; idempotent)')
    .requiredOption('--file <file>', 'subscribers CSV file')
    .option('--dry-run', 'check and count everything, write nothing')
    .option('--strict', 'import nothing if any row is bad')
    .option('--json', 'machine-readable summary')
    .option('--threads <n>', `worker threads validating rows (default ${CHECK_THREADS}: none)`)
    .action(async (flags: ImportFlags) => {
      const now = Date.now();
      const threads = flags.threads === undefined ? undefined : Number(flags.threads);
      if (threads !== undefined && !(Number.isInteger(threads) && threads >= 0 && threads <= 16))
        throw new InvalidInput('--threads must be a whole number from 0 to 16', [
          { path: '--threads', value: JSON.stringify(flags.threads), rule: 'a whole number from 0 to 16' },
        ]);
      const bar = process.stderr.isTTY && flags.json !== true ? await rowsBar(flags.file) : undefined;
      const summary = await withServices(
        (services) =>
          services.imports.importFile({
            file: flags.file,
            now,
            dryRun: flags.dryRun === true,
            strict: flags.strict === true,
            ...(threads === undefined ? {} : { threads }),
            ...(bar
              ? { onProgress: (rows: number) => bar.progress.update(Math.min(rows, bar.total), bar.total) }
              : {}),
          }),
        IMPORT_CONNECTIONS,
      ).finally(() => bar?.progress.stop());
      printJsonOr(flags.json, summary, () => summaryText(summary));
      if (summary.strict && summary.bad > 0) {
        console.error(
          `error: --strict: ${summary.bad} bad row${summary.bad === 1 ? '' : 's'}, nothing was imported`,
        );
        process.exitCode = 2;
      }
    });
}

export function summaryText(s: ImportSummary): string {
  const would = s.committed ? '' : 'would be ';
  const head = s.dryRun
    ? `dry run of ${s.file}: nothing written`
    : s.committed
      ? `imported ${s.file}`
      : `${s.file}: nothing imported (--strict and bad rows)`;
  const lines = [
    `${head}`,
    `  rows       ${s.rows}: ${s.inserted} ${would}inserted, ${s.updated} ${would}updated, ${s.unchanged} unchanged, ${s.bad} bad`,
    `  consent    ${s.consentEvents} import event${s.consentEvents === 1 ? '' : 's'} ${would || ''}recorded${s.optOutsKept > 0 ? `; ${s.optOutsKept} channel${s.optOutsKept === 1 ? '' : 's'} left off (opted out after the evidence)` : ''}`,
  ];
  if (s.planned.subscribers > 0) {
    lines.push(
      `  planned    ${s.planned.subscribers} subscribers into running campaigns, ${s.planned.slots} new slots`,
    );
  }
  if (s.notes.length > 0) {
    lines.push('imported with a note:');
    for (const row of s.notes.slice(0, BAD_ROWS_SHOWN)) {
      for (const p of row.problems) lines.push(`  line ${row.line}: ${formatProblem(p)}`);
    }
    if (s.notes.length > BAD_ROWS_SHOWN) lines.push('  … and more (--json lists them)');
  }
  if (s.bad > 0) {
    lines.push('bad rows:');
    for (const row of s.badRows.slice(0, BAD_ROWS_SHOWN)) {
      for (const p of row.problems) lines.push(`  line ${row.line}: ${formatProblem(p)}`);
    }
    if (s.bad > BAD_ROWS_SHOWN) lines.push(`  … and ${s.bad - BAD_ROWS_SHOWN} more (--json lists them)`);
  }
  return lines.join('\n');
}

/** A bar over the file's line count (a quick first pass; quoted line breaks overcount a little). */
async function rowsBar(file: string): Promise<{ progress: Progress; total: number } | undefined> {
  let lines = 0;
  try {
    for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    }
  } catch {
    return undefined; // the import itself reports an unreadable file
  }
  const total = Math.max(lines - 1, 1);
  const progress = progressBar('importing', 'rows');
  progress.update(0, total);
  return { progress, total };
}
