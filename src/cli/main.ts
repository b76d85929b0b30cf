// The CLI's one wrapper: it owns argument parsing, error reporting and exit codes
// (0 success, 1 failure at run time, 2 bad usage or invalid input). Each command lives in
// src/cli/commands/<name>.ts, parses its options and calls one service.
import { Command, CommanderError } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { ConfigError } from '../config/config.ts';
import { AppError } from '../shared/errors.ts';
import { registerCommands } from './commands/index.ts';
import { cliMessage } from './error-hints.ts';
import { addExamples } from './help-examples.ts';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** The whole program, or only the command `argv` names (faster start-up). */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command('lastcall')
    .description('Lastcall: deadline reminders over WhatsApp and email, in each subscriber’s own time zone.')
    .version(packageJson.version, '-V, --version', 'print the version of Lastcall')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  await registerCommands(program, argv);
  addExamples(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    return reportError(error);
  }
}

export function reportError(error: unknown): number {
  if (error instanceof CommanderError) {
    // Help and version are not errors; commander has already printed them.
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.exitCode === 0
    )
      return EXIT.ok;
    return EXIT.usage;
  }
  if (error instanceof AppError) {
    console.error(`error: ${cliMessage(error)}`);
    return EXIT.usage;
  }
  if (error instanceof ConfigError) {
    console.error(`error: ${error.message}`);
    return EXIT.usage;
  }
  const message = error instanceof Error ? error.message : String(error);
  console.error(`error: ${message}`);
  return EXIT.failure;
}
