// The database-backed `campaign` subcommands, registered together (validate registers itself).
import type { Command } from 'commander';
import { register as registerCreate } from './campaign-create.ts';
import { register as registerLifecycle } from './campaign-lifecycle.ts';
import { register as registerList } from './campaign-list.ts';
import { register as registerStats } from './campaign-stats.ts';

export function register(program: Command): void {
  registerCreate(program);
  registerList(program);
  registerLifecycle(program);
  registerStats(program);
}
