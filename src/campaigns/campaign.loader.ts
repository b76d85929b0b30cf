// Reads a campaign file and refuses it with every problem at once: YAML syntax (with its
// line), then each field (zod), then the rules that tie fields together. The cross-field rules
// run on the raw document and only where their fields are individually valid, so one bad
// field never hides another problem.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { parseIsoInstant, parseLocalTime } from '../planning/planner.ts';
import { InvalidInput, type Problem } from '../shared/errors.ts';
import { type Campaign, type CampaignFile, campaignFileSchema, DEFAULTS } from './campaign.schema.ts';
import {
  formatPath,
  showValue,
  sortByDocumentOrder,
  valueAt,
  yamlProblems,
  zodProblems,
} from './input-problems.ts';

export async function loadCampaignFile(path: string): Promise<Campaign> {
  let yamlText: string;
  try {
    yamlText = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    throw new InvalidInput(`Cannot read campaign file ${path}`, [{ path, rule: reason }]);
  }
  return parseCampaign(yamlText, path);
}

export function parseCampaign(yamlText: string, source: string): Campaign {
  const doc = parseDocument(yamlText.replace(/^\uFEFF/, ''), { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new InvalidInput(`Campaign file ${source} is not valid YAML`, yamlProblems(doc));
  }
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (error) {
    // e.g. excessive alias expansion (a "billion laughs" document).
    throw new InvalidInput(`Campaign file ${source} cannot be read`, [
      { path: '(YAML)', rule: String(error) },
    ]);
  }
  return campaignFromDocument(raw, source);
}

/** A campaign from its file's document already read (YAML or JSON): every problem at once. */
export function campaignFromDocument(raw: unknown, source: string): Campaign {
  const parsed = campaignFileSchema.safeParse(raw);
  const problems = sortByDocumentOrder(
    [
      ...(parsed.success ? [] : zodProblems(campaignFileSchema, parsed.error, raw)),
      ...crossFieldProblems(raw),
    ],
    raw,
  );
  if (problems.length > 0 || !parsed.success) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    throw new InvalidInput(`Campaign file ${source} is invalid (${count})`, problems);
  }
  return toCampaign(parsed.data, source);
}

function toCampaign(file: CampaignFile, source: string): Campaign {
  return {
    id: file.id,
    name: file.name,
    // Validated by the schema: always an instant here.
    deadline: (parseIsoInstant(file.deadline) as { ms: number }).ms,
    deadlineText: file.deadline.trim(),
    sendAt: file.sendAt ?? DEFAULTS.sendAt,
    window: file.window ?? DEFAULTS.window,
    catchUp: file.catchUp ?? DEFAULTS.catchUp,
    audience: {
      tags: file.audience?.tags ?? [],
      ...(file.audience?.where && Object.keys(file.audience.where).length > 0
        ? { where: file.audience.where }
        : {}),
    },
    signup: file.signup ?? false,
    ...(file.messagingLimit
      ? { messagingLimit: { spread: file.messagingLimit.spread, maxDays: file.messagingLimit.maxDays ?? 7 } }
      : {}),
    steps: file.steps,
    ...(file.messages === undefined ? {} : { messages: file.messages }),
    source,
  };
}

/** A field's local time, its default when absent, undefined when present but unusable. */
function timeOf(value: unknown, fallback: string): { text: string; minutes: number } | undefined {
  const text = value === undefined ? fallback : value;
  if (typeof text !== 'string') return undefined;
  const time = parseLocalTime(text);
  return time === undefined ? undefined : { text, minutes: time.hour * 60 + time.minute };
}

function crossFieldProblems(raw: unknown): Problem[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return [];
  const problems: Problem[] = [];
  // An absent window takes the default; a window missing one end is a schema problem.
  const window = valueAt(raw, ['window']);
  const start =
    window === undefined ? timeOf(undefined, DEFAULTS.window.start) : timeOf(valueAt(window, ['start']), '');
  const end =
    window === undefined ? timeOf(undefined, DEFAULTS.window.end) : timeOf(valueAt(window, ['end']), '');
  if (start && end && end.minutes < start.minutes) {
    problems.push({
      path: 'window.end',
      value: showValue(end.text),
      rule: `must not be before window.start (${start.text}); a window cannot span midnight`,
    });
  }
  const sendAtGiven = valueAt(raw, ['sendAt']) !== undefined;
  const sendAt = timeOf(valueAt(raw, ['sendAt']), DEFAULTS.sendAt);
  if (sendAt && start && end && end.minutes >= start.minutes) {
    if (sendAt.minutes < start.minutes || sendAt.minutes > end.minutes) {
      problems.push({
        path: 'sendAt',
        value: sendAtGiven ? showValue(sendAt.text) : `"${sendAt.text}" (the default)`,
        rule: `must lie inside the window ${start.text}–${end.text}`,
      });
    }
  }
  const steps = valueAt(raw, ['steps']);
  if (Array.isArray(steps)) {
    const seen = new Map<string, number>();
    steps.forEach((step, index) => {
      const id = valueAt(step, ['id']);
      if (typeof id !== 'string') return;
      const first = seen.get(id);
      if (first === undefined) seen.set(id, index);
      else {
        problems.push({
          path: formatPath(['steps', index, 'id']),
          value: showValue(id),
          rule: `must be unique (also used by ${formatPath(['steps', first, 'id'])})`,
        });
      }
    });
  }
  return problems;
}
