import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Runs the real CLI as an operator would, from the repository root. */
async function lastcall(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['bin/lastcall.js', ...args], {
      cwd: ROOT,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('lastcall campaign validate', () => {
  it('summarises the shipped campaign and exits 0', async () => {
    const run = await lastcall(
      'campaign',
      'validate',
      '--file',
      'config/campaigns/ai-assistants-leave-whatsapp.yaml',
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'Campaign ai-assistants-leave-whatsapp is valid: ChatGPT and Copilot leave WhatsApp',
    );
    expect(run.stdout).toContain(
      'deadline   2026-01-15T00:00:00+01:00 (2026-01-14T23:00:00Z), already passed',
    );
    expect(run.stdout).toMatch(/d30 +P30D +first-notice +whatsapp, email/);
    expect(run.stdout).toMatch(/h6 +PT6H +last-hours +whatsapp\n/);
  });

  it('lists every problem of a broken file and exits 2', async () => {
    const run = await lastcall('campaign', 'validate', '--file', 'test/fixtures/campaigns/broken.yaml');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toBe(
      'error: Campaign file test/fixtures/campaigns/broken.yaml is invalid (11 problems)',
    );
    expect(lines.slice(1).map((line) => line.replace(/^ {2}- /, '').replace(/:.*/, ''))).toEqual([
      'id',
      'nme',
      'deadline',
      'sendAt',
      'catchUp.minGap',
      'steps[1].before',
      'steps[1].channels[0]',
      'steps[2].id',
      'steps[2].before',
      'steps[2].channels',
      'name',
    ]);
    expect(run.stderr).toContain(
      '  - steps[1].before: must be a positive ISO 8601 duration like P7D or PT6H (got "7 days")\n',
    );
  });

  it('reports a YAML syntax error with its line', async () => {
    const run = await lastcall('campaign', 'validate', '--file', 'test/fixtures/campaigns/bad-syntax.yaml');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/is not valid YAML\n {2}- line \d+, column \d+: /);
  });

  it('checks the message templates of every step and language', async () => {
    const run = await lastcall(
      'campaign',
      'validate',
      '--file',
      'test/fixtures/campaigns/broken-templates.yaml',
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Campaign broken-templates is valid, but its message templates are not');
    expect(run.stderr).toContain(
      '  - test/fixtures/campaigns/broken-messages/en/notice.yaml: file not found\n',
    );
    expect(run.stderr).toContain(
      '  - test/fixtures/campaigns/broken-messages/fr/notice.yaml: whatsapp.params: ',
    );
  });

  it('exits 2 for a missing file or option', async () => {
    const missing = await lastcall('campaign', 'validate', '--file', 'test/fixtures/campaigns/none.yaml');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('test/fixtures/campaigns/none.yaml: file not found');
    const noOption = await lastcall('campaign', 'validate');
    expect(noOption.code).toBe(2);
    expect(noOption.stderr).toContain("required option '--file <file>' not specified");
  });
});
