// `lastcall send-test --campaign ID --step STEP --to PHONE_OR_EMAIL [--locale fr|en]
// [--attr NAME=VALUE]… [--assistant chatgpt|copilot|both]` (docs/cli.md): one step's message, sent
// now to the operator's own phone or mailbox (src/ops/send-test.service.ts). Exit 2 for an unknown
// campaign or step or a --to that is neither; exit 1, with the provider's code, when the provider
// refuses.
import { type Command, Option } from 'commander';
import { createChannelSenders } from '../../delivery/channel-senders.ts';
import { type SendTestResult, sendTest } from '../../ops/send-test.service.ts';
import { canonicalZone } from '../../planning/planner.ts';
import { InvalidInput } from '../../shared/errors.ts';
import { LOCALES, type Locale } from '../../shared/vocabulary.ts';
import { ASSISTANTS, ATTRIBUTE_NAME, ATTRIBUTE_NAME_RULE } from '../../subscribers/subscriber.schema.ts';
import { withDb } from './campaign-context.ts';

interface Flags {
  campaign: string;
  step: string;
  to: string;
  locale: Locale;
  assistant?: string;
  attr: string[];
  timezone: string;
  name?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('send-test')
    .description("send one step's message now, to your own phone or mailbox (never counted in stats)")
    .requiredOption('--campaign <id>', 'campaign id (see "lastcall campaign list")')
    .requiredOption('--step <step>', 'step id in that campaign, e.g. d7')
    .requiredOption(
      '--to <phone-or-email>',
      'E.164 phone (sends by WhatsApp) or email address (sends by email)',
    )
    .addOption(new Option('--locale <locale>', 'message language').choices(LOCALES).default('fr'))
    .option(
      '--attr <name=value>',
      'an attribute of the test subscriber, as templates read it (attr.<name>); repeatable',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .addOption(
      new Option(
        '--assistant <assistant>',
        'the attribute assistant (the same as --attr assistant=…)',
      ).choices(ASSISTANTS),
    )
    .option('--timezone <zone>', 'IANA zone the deadline is written in', 'Europe/Paris')
    .option('--name <name>', 'name to greet (default: none, as for a subscriber without one)')
    .option('--json', 'machine-readable result')
    .addHelpText(
      'after',
      `
The message goes out at once through the channel --to implies, rendered exactly as a subscriber
would get it. It is recorded as a test delivery: not counted in "campaign stats". The links in
it are signed for a test subscriber that does not exist.

Examples:
  $ lastcall send-test --campaign ai-assistants-leave-whatsapp --step d7 --to +33612345678
  $ lastcall send-test --campaign ai-assistants-leave-whatsapp --step d1 --to me@example.org --locale en --attr assistant=copilot
  $ lastcall send-test --campaign spring --step h6 --to +33612345678 --json`,
    )
    .action(async (flags: Flags) => {
      const timezone = canonicalZone(flags.timezone);
      if (timezone === undefined) {
        throw new InvalidInput('Invalid --timezone', [
          {
            path: '--timezone',
            value: flags.timezone,
            rule: 'must be an IANA time zone name like Europe/Paris',
          },
        ]);
      }
      const attributes = attributesOf(flags);
      const result = await withDb(async (db, config) => {
        const channels = createChannelSenders(config);
        try {
          return await sendTest(
            { db, config, channels: channels.senders },
            {
              campaignId: flags.campaign,
              stepId: flags.step,
              to: flags.to,
              locale: flags.locale,
              attributes,
              timezone,
              name: flags.name ?? '',
            },
            Date.now(),
          );
        } finally {
          await channels.close();
        }
      });
      console.log(flags.json ? JSON.stringify(result, null, 2) : resultText(result));
      if (result.status === 'failed') {
        console.error(
          `error: the provider refused the message: ${result.error?.code}: ${result.error?.detail}`,
        );
        process.exitCode = 1;
      }
    });
}

function attributesOf(flags: Flags): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const pair of flags.attr) {
    const at = pair.indexOf('=');
    const name = at < 0 ? pair : pair.slice(0, at);
    if (at < 0 || !ATTRIBUTE_NAME.test(name)) {
      throw new InvalidInput('Invalid --attr', [
        { path: '--attr', value: pair, rule: `must be NAME=VALUE, where ${ATTRIBUTE_NAME_RULE}` },
      ]);
    }
    attributes[name] = pair.slice(at + 1);
  }
  if (flags.assistant !== undefined) attributes.assistant = flags.assistant;
  return attributes;
}

export function resultText(r: SendTestResult): string {
  const attributes = Object.entries(r.attributes).map(([name, value]) => `${name}=${value}`);
  const what = `${r.campaign} step ${r.step} (${[r.template, r.locale, ...attributes].join(', ')}) by ${r.channel}`;
  return r.status === 'sent'
    ? `sent test ${what}: provider id ${r.providerMessageId} (test delivery ${r.deliveryId})`
    : `test ${what} failed: ${r.error?.code} (test delivery ${r.deliveryId})`;
}
