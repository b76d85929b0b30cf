// Every CLI command, registered in the order `lastcall --help` lists them.
// Each command module exports `register(program)`; add one line here per module.
import type { Command } from 'commander';

export function registerCommands(program: Command): void {
  void program;
}
