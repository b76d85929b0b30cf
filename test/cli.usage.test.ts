// Bad usage exits 2 (a sample of commands, through the real executable), and every command of
// the operator CLI added here shows examples in its --help (checked in process: no spawn each).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.ts';
import { runCli } from './support/cli.ts';

const env = {
  LASTCALL_ENV: 'development',
  LOG_LEVEL: 'silent',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
};

async function helpOf(path: string[]): Promise<string> {
  let command: Command = await buildProgram();
  for (const name of path) {
    const next = command.commands.find((c) => c.name() === name);
    if (!next) throw new Error(`no command ${path.join(' ')}`);
    command = next;
  }
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}

// Each test spawns the CLI a few times (a second or more each on a busy machine).
describe('lastcall usage', { timeout: 120_000 }, () => {
  it.each([
    [['subscribers', 'show']],
    [['subscribers', 'export']],
    [['subscribers', 'forget']],
    [['send-test']],
    [['templates', 'push']],
    [['templates', 'status']],
    [['doctor']],
    [['work']],
  ])('%j --help has examples', async (path) => {
    const help = await helpOf(path);
    expect(help).toContain('Examples:');
    expect(help).toContain(`$ lastcall ${path.join(' ')}`);
  });

  it('shows examples in the --help of every command that runs something', async () => {
    const leaves: Command[] = [];
    const walk = (c: Command) => {
      const subs = c.commands.filter((s) => s.name() !== 'help');
      if (subs.length === 0) leaves.push(c);
      for (const s of subs) walk(s);
    };
    walk(await buildProgram());
    expect(leaves.length).toBeGreaterThanOrEqual(25);
    const missing: string[] = [];
    for (const leaf of leaves) {
      let text = '';
      leaf.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
      leaf.outputHelp();
      const path: string[] = [];
      for (let c: Command | null = leaf; c?.parent; c = c.parent) path.unshift(c.name());
      if (!/\nExamples:\n {2}\$ /.test(text)) missing.push(path.join(' '));
    }
    expect(missing).toEqual([]);
  });

  it('exits 2 for an unknown command, an unknown option, a missing option or argument, a bad choice', async () => {
    const results = await Promise.all([
      runCli(['frobnicate'], env),
      runCli(['doctor', '--bogus'], env),
      runCli(['send-test', '--campaign', 'c', '--step', 'd7'], env),
      runCli(['subscribers', 'forget'], env),
      runCli(['send-test', '--campaign', 'c', '--step', 'd7', '--to', '+33612345678', '--locale', 'de'], env),
      runCli(['doctor', '--only', 'redis,nope'], env),
    ]);
    expect(results.map((r) => r.code)).toEqual([2, 2, 2, 2, 2, 2]);
    const [command, option, required, argument, choice, only] = results.map((r) => r.stderr);
    expect(command).toContain("unknown command 'frobnicate'");
    expect(option).toContain("unknown option '--bogus'");
    expect(required).toContain("required option '--to <phone-or-email>' not specified");
    expect(argument).toContain("missing required argument 'key'");
    expect(choice).toContain("argument 'de' is invalid");
    expect(only).toContain('--only: must list checks separated by commas');
  });

  it('prints its version with --version', async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'));
    const [long, short] = await Promise.all([runCli(['--version'], env), runCli(['-V'], env)]);
    expect(long).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(short.stdout).toBe(`${version}\n`);
  });

  it('answers --help without loading any command, with the same lines as the commands themselves', async () => {
    const helpOfProgram = (program: Command) => {
      let text = '';
      program.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
      program.outputHelp();
      return text;
    };
    const light = await buildProgram(['node', 'lastcall', '--help']);
    // Only the help lines: no command has its subcommands or options.
    expect(light.commands.find((c) => c.name() === 'campaign')?.commands).toEqual([]);
    expect(light.commands.find((c) => c.name() === 'doctor')?.options).toEqual([]);
    expect(helpOfProgram(light)).toBe(helpOfProgram(await buildProgram()));
    const { code, stdout } = await runCli(['--help'], env);
    expect(code).toBe(0);
    expect(stdout).toContain('  send-test [options]  send one step');
    expect(stdout).toContain('  -V, --version        print the version of Lastcall');
  });
});
