// `lastcall api-keys create --name N --scope read|write | list | revoke NAME` (docs/api.md): keys
// of the admin API. A new key is printed once (stdout, nothing else on that line, so a script can
// capture it); only its hash is stored. ADMIN_TOKEN needs no key: it has every right.
import type { Command } from 'commander';
import { printJson } from '../output.ts';
import { withServices } from './campaign-context.ts';

export function register(program: Command): void {
  const group = program
    .command('api-keys')
    .description('keys of the admin API (/api/v1): create, list, revoke');

  group
    .command('create')
    .description('make a key; it is printed once and stored as a hash')
    .requiredOption('--name <name>', 'what the key is for, e.g. shop-backend (letters, digits, . _ -)')
    .requiredOption('--scope <scope>', 'read (GET routes only) or write (every route)')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
Examples:
  $ lastcall api-keys create --name shop-backend --scope write
  $ lastcall api-keys create --name dashboard --scope read --json`,
    )
    .action(async (flags: { name: string; scope: string; json?: boolean }) => {
      const made = await withServices((s) => s.apiKeys.create(flags.name, flags.scope, Date.now()));
      if (flags.json) return printJson(made);
      console.error(`API key "${made.name}" (${made.scope}); it is shown only now, store it safely:`);
      console.log(made.key);
    });

  group
    .command('list')
    .description('keys in use: name, scope, created, last used (never the key)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ lastcall api-keys list\n  $ lastcall api-keys list --json')
    .action(async (flags: { json?: boolean }) => {
      const keys = await withServices((s) => s.apiKeys.list());
      if (flags.json) return printJson(keys);
      if (keys.length === 0) return console.log('no API keys (ADMIN_TOKEN has every right)');
      for (const k of keys)
        console.log(
          `${k.name.padEnd(24)} ${k.scope.padEnd(5)}  created ${k.createdAt}  last used ${k.lastUsedAt ?? 'never'}`,
        );
    });

  group
    .command('revoke')
    .description('revoke a key at once: its next request gets 401')
    .argument('<name>', 'the name given at create')
    .option('--json', 'machine-readable output')
    .addHelpText('after', '\nExamples:\n  $ lastcall api-keys revoke shop-backend')
    .action(async (name: string, flags: { json?: boolean }) => {
      const revoked = await withServices((s) => s.apiKeys.revoke(name, Date.now()));
      if (flags.json) return printJson(revoked);
      console.log(`revoked API key "${revoked.name}"`);
    });
}
