// Every CLI command, in the order `lastcall --help` lists them. Each command module exports
// `register(program)`; add its loader under its top-level name here.
//
// Modules are imported on demand: `lastcall plan` loads the planner and the CSV reader, not
// Fastify, BullMQ and the Graph client. A command line naming no command (`lastcall --help`,
// `--version`, an unknown command) loads none: each command is then only its line of the
// program's help below (a test checks those lines against the commands' own).
import { type Command, Help } from 'commander';

type CommandModule = { register(program: Command): void };
type Loader = () => Promise<CommandModule>;

interface Entry {
  readonly name: string;
  readonly loaders: readonly Loader[];
  /** The command's line in `lastcall --help`: how it is written, and what it does. */
  readonly term: string;
  readonly description: string;
}

const COMMANDS: readonly Entry[] = [
  {
    name: 'db',
    term: 'db',
    description: 'database administration',
    loaders: [() => import('./db-migrate.ts')],
  },
  {
    name: 'plan',
    term: 'plan [options]',
    description:
      'preview when each subscriber would be messaged (offline: no database, no Redis, no templates)',
    loaders: [() => import('./plan.ts')],
  },
  {
    name: 'campaign',
    term: 'campaign',
    description: 'campaigns: validate, create, list, show, start, pause, stats…',
    loaders: [() => import('./campaign-validate.ts'), () => import('./campaign-admin.ts')],
  },
  {
    name: 'subscribers',
    term: 'subscribers',
    description: 'subscribers: import, export, show, forget',
    loaders: [
      () => import('./subscribers-import.ts'),
      () => import('./subscribers-export.ts'),
      () => import('./subscribers-show.ts'),
      () => import('./subscribers-forget.ts'),
    ],
  },
  {
    name: 'send-test',
    term: 'send-test [options]',
    description: "send one step's message now, to your own phone or mailbox (never counted in stats)",
    loaders: [() => import('./send-test.ts')],
  },
  {
    name: 'templates',
    term: 'templates',
    description: 'WhatsApp message templates: push them to Meta for review, read their status',
    loaders: [() => import('./templates.ts')],
  },
  {
    name: 'api-keys',
    term: 'api-keys',
    description: 'keys of the admin API (/api/v1): create, list, revoke',
    loaders: [() => import('./api-keys.ts')],
  },
  {
    name: 'events',
    term: 'events',
    description: 'outbound events to EVENTS_URL: replay',
    loaders: [() => import('./events.ts')],
  },
  {
    name: 'doctor',
    term: 'doctor [options]',
    description: 'check the configuration, PostgreSQL, Redis, SMTP, WhatsApp and its templates, EVENTS_URL',
    loaders: [() => import('./doctor.ts')],
  },
  {
    name: 'serve',
    term: 'serve [options]',
    description:
      'run the HTTP server: opt-in pages, links, WhatsApp webhook, /healthz, /metrics, /admin/queues',
    loaders: [() => import('./serve.ts')],
  },
  {
    name: 'work',
    term: 'work [options]',
    description:
      'run the workers: tick, fan-out, a sender per configured channel, webhooks (any number of copies)',
    loaders: [() => import('./work.ts')],
  },
  {
    name: 'sandbox',
    term: 'sandbox [options]',
    description:
      'run the WhatsApp sandbox: a fake Graph API with every template approved, and a phone-like inbox',
    loaders: [() => import('./sandbox.ts')],
  },
  {
    name: 'start',
    term: 'start [options]',
    description: 'migrate, then serve and work in one process (for a single machine; npm start)',
    loaders: [() => import('./start.ts')],
  },
  {
    name: 'demo',
    term: 'demo',
    description:
      'the demo: a campaign minutes away, with the sandbox inbox for WhatsApp and email (run, the default) or on a running stack (seed)',
    loaders: [() => import('./demo.ts')],
  },
];

/** Each command as its line of the program's help only: nothing loaded. */
function registerSummaries(program: Command): void {
  const terms = new Map(COMMANDS.map((c) => [c.name, c.term]));
  for (const entry of COMMANDS) program.command(entry.name).description(entry.description);
  const standard = new Help();
  program.configureHelp({
    subcommandTerm: (command) => terms.get(command.name()) ?? standard.subcommandTerm(command),
  });
}

/**
 * Registers the command named by `argv` (node, script, command…); with no argv, every command
 * (the tests walk them all); with an argv naming none, their help lines only.
 */
export async function registerCommands(program: Command, argv?: readonly string[]): Promise<void> {
  const words = argv?.slice(2).filter((arg) => !arg.startsWith('-')) ?? [];
  // `lastcall help demo` is `lastcall demo --help`.
  const named = words[0] === 'help' ? words[1] : words[0];
  const only = COMMANDS.filter((c) => c.name === named);
  if (argv !== undefined && only.length === 0) return registerSummaries(program);
  for (const { loaders } of only.length > 0 ? only : COMMANDS) {
    const modules = await Promise.all(loaders.map((load) => load()));
    for (const module of modules) module.register(program);
  }
}
