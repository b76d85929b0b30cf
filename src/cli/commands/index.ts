// Every CLI command, in the order `lastcall --help` lists them. Each command module exports
// `register(program)`; add its loader under its top-level name here.
//
// Modules are imported on demand: `lastcall plan` loads the planner and the CSV reader, not
// Fastify, BullMQ and the Graph client. Only help (or an unknown command, to be reported)
// loads them all.
import type { Command } from 'commander';

type CommandModule = { register(program: Command): void };
type Loader = () => Promise<CommandModule>;

const COMMANDS: ReadonlyArray<readonly [name: string, loaders: readonly Loader[]]> = [
  ['db', [() => import('./db-migrate.ts')]],
  ['plan', [() => import('./plan.ts')]],
  ['campaign', [() => import('./campaign-validate.ts'), () => import('./campaign-admin.ts')]],
  [
    'subscribers',
    [
      () => import('./subscribers-import.ts'),
      () => import('./subscribers-export.ts'),
      () => import('./subscribers-show.ts'),
      () => import('./subscribers-forget.ts'),
    ],
  ],
  ['send-test', [() => import('./send-test.ts')]],
  ['templates', [() => import('./templates.ts')]],
  ['api-keys', [() => import('./api-keys.ts')]],
  ['events', [() => import('./events.ts')]],
  ['doctor', [() => import('./doctor.ts')]],
  ['serve', [() => import('./serve.ts')]],
  ['work', [() => import('./work.ts')]],
  ['sandbox', [() => import('./sandbox.ts')]],
  ['start', [() => import('./start.ts')]],
  ['demo', [() => import('./demo.ts')]],
];

/** Registers the command named by `argv` (node, script, command…), or every command. */
export async function registerCommands(program: Command, argv?: readonly string[]): Promise<void> {
  const first = argv?.slice(2).find((arg) => !arg.startsWith('-'));
  const only = COMMANDS.filter(([name]) => name === first);
  for (const [, loaders] of only.length > 0 ? only : COMMANDS) {
    const modules = await Promise.all(loaders.map((load) => load()));
    for (const module of modules) module.register(program);
  }
}
