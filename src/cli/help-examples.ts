// Examples for `--help`, for the commands whose module does not write its own (those with more
// to say, such as doctor or send-test, add theirs where they are registered). Applied once the
// commands are registered; a test walks the whole program and checks that every command that
// runs something shows examples.
import type { Command } from 'commander';

const SHIPPED = 'config/campaigns/ai-assistants-leave-whatsapp';
const ID = 'ai-assistants-leave-whatsapp';

export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  'db migrate': [
    'lastcall db migrate',
    'DATABASE_URL=postgres://lastcall@db.internal/lastcall lastcall db migrate',
  ],
  plan: [
    `lastcall plan --campaign ${SHIPPED}.yaml --subscribers ${SHIPPED}.subscribers.csv --now 2025-12-01T00:00:00Z`,
    `lastcall plan --campaign ${SHIPPED}.yaml --subscribers S.csv --now 2025-12-01T00:00:00Z --format ndjson > plan.ndjson`,
  ],
  'campaign validate': [`lastcall campaign validate --file ${SHIPPED}.yaml`],
  'campaign create': [`lastcall campaign create --file ${SHIPPED}.yaml   # again after an edit: updates it`],
  'campaign list': ['lastcall campaign list', 'lastcall campaign list --json'],
  'campaign show': [`lastcall campaign show ${ID}`, `lastcall campaign show ${ID} --json`],
  'campaign start': [`lastcall campaign start ${ID}`],
  'campaign pause': [`lastcall campaign pause ${ID}`],
  'campaign resume': [`lastcall campaign resume ${ID}`],
  'campaign cancel': [`lastcall campaign cancel ${ID}`],
  'subscribers import': [
    'lastcall subscribers import --file subscribers.csv --dry-run   # count, write nothing',
    'lastcall subscribers import --file subscribers.csv',
    'lastcall subscribers import --file subscribers.csv --strict --json',
  ],
  serve: ['lastcall serve', 'HTTP_PORT=3000 PUBLIC_URL=https://reminders.example.org lastcall serve'],
  sandbox: [
    'lastcall sandbox',
    'lastcall sandbox --port 8090 --webhook-url http://127.0.0.1:8080/webhooks/whatsapp',
  ],
  start: ['npm start', 'lastcall start --shutdown-ms 10000'],
  'demo run': ['npm run demo', 'lastcall demo --minutes 10 --tick-every 5'],
  'demo seed': ['lastcall demo seed', 'docker compose run --rm cli demo seed --minutes 20'],
};

function pathOf(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Adds the examples above to every registered command they name. */
export function addExamples(program: Command): void {
  const visit = (command: Command) => {
    const lines = EXAMPLES[pathOf(command)];
    if (lines) command.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}`);
    for (const sub of command.commands) visit(sub);
  };
  visit(program);
}
