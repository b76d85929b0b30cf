// `lastcall doctor [--json] [--only checks]` (docs/operations.md): one line per finding,
// ✓ / ! / ✗ / -, with the fix under anything that is not fine (src/ops/doctor.ts). Exit 0 when
// nothing failed, 1 otherwise. Compose's worker healthcheck runs `doctor --only redis,postgres`.
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.ts';
import { CHECK_IDS, type DoctorReport, parseOnly, runDoctor } from '../../ops/doctor.ts';
import { printJsonOr } from '../output.ts';

const MARK = { ok: '✓', warn: '!', fail: '✗', skip: '-' } as const;

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check the configuration, PostgreSQL, Redis, SMTP, WhatsApp and its templates, EVENTS_URL')
    .option('--only <checks>', `comma-separated subset of: ${CHECK_IDS.join(', ')}`)
    .option('--json', 'machine-readable report')
    .addHelpText(
      'after',
      `
Marks: ✓ fine, ! works but deserves attention, ✗ failed (exit 1), - not in use.

Examples:
  $ lastcall doctor
  $ lastcall doctor --only redis,postgres      # the worker's healthcheck
  $ lastcall doctor --json`,
    )
    .action(async (flags: { only?: string; json?: boolean }) => {
      const only = flags.only === undefined ? undefined : parseOnly(flags.only);
      const report = await runDoctor({
        ...(only ? { only } : {}),
        loadConfig: (role) => loadConfig(role),
        now: Date.now(),
      });
      printJsonOr(flags.json, report, () => reportText(report));
      if (!report.ok) process.exitCode = 1;
    });
}

export function reportText(report: DoctorReport): string {
  const width = Math.max(...report.findings.map((f) => f.title.length));
  const lines: string[] = [];
  for (const f of report.findings) {
    const [first, ...rest] = f.detail.split('\n');
    lines.push(`${MARK[f.status]} ${f.title.padEnd(width)}  ${first}`);
    const indent = ' '.repeat(width + 4);
    for (const line of rest) lines.push(`${indent}${line}`);
    if (f.fix && (f.status === 'fail' || f.status === 'warn')) lines.push(`${indent}fix: ${f.fix}`);
  }
  const failed = report.findings.filter((f) => f.status === 'fail').length;
  lines.push(
    failed === 0 ? 'all required checks passed' : `${failed} check${failed === 1 ? '' : 's'} failed`,
  );
  return lines.join('\n');
}
