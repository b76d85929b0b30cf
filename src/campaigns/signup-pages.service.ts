// What the public pages say about campaigns (docs/subscribers.md, "Public pages and links"): which
// are open for sign-up (`signup: true`, not cancelled or finished, deadline ahead), each one's page
// (name, deadline, its steps and what their reminders say, the channels it uses), and the campaign
// a page sign-up joins. The help page takes its facts from here too. Read-only: the sign-up itself
// is the subscription service.

import { describeBefore } from '../planning/planner.ts';
import { NotFound, StateConflict } from '../shared/errors.ts';
import type { Channel, Locale } from '../shared/vocabulary.ts';
import type { Db } from '../store/pool.ts';
import { ASSISTANTS } from '../subscribers/subscriber.schema.ts';
import { inAudience, signUpTag } from './audience.ts';
import { type CampaignRecord, findCampaign, listCampaigns } from './campaign.repository.ts';
import type { CampaignWindow } from './campaign.schema.ts';
import { buildMessageVars } from './message-vars.ts';
import { loadMessageTemplates, renderEmail, renderWhatsApp, SHIPPED_MESSAGES_DIR } from './messages.ts';
import { campaignChannels } from './slot.builder.ts';

export interface CampaignSummary {
  readonly id: string;
  readonly name: string;
  readonly deadline: number;
  /** The deadline has passed (or the campaign was cancelled or finished). */
  readonly closed: boolean;
}

export interface StepPreview {
  readonly id: string;
  /** "10 minutes", "30 jours": how long before the deadline. */
  readonly before: string;
  readonly channels: readonly Channel[];
  /** The email subject, or the WhatsApp message's first line for a WhatsApp-only step. */
  readonly says: string;
}

export interface CampaignPage extends CampaignSummary {
  readonly signup: boolean;
  /** Subscriber-local hours and days the reminders are sent in. */
  readonly window: CampaignWindow;
  readonly channels: readonly Channel[];
  readonly steps: readonly StepPreview[];
  /** The first reminder's WhatsApp text as a subscriber reads it, when the campaign uses WhatsApp. */
  readonly sample?: string;
}

/** The campaign a page sign-up joins, with the tag that puts the subscriber in its audience. */
export interface SignUpTarget {
  readonly id: string;
  readonly name: string;
  readonly tag: string | undefined;
  readonly channels: readonly Channel[];
}

const isOpen = (r: CampaignRecord, now: number) =>
  r.deadline > now && (r.state === 'draft' || r.state === 'running' || r.state === 'paused');

const summary = (r: CampaignRecord, now: number): CampaignSummary => ({
  id: r.id,
  name: r.name,
  deadline: r.deadline,
  closed: !isOpen(r, now),
});

export function createSignUpPages(deps: { readonly db: Db }) {
  const { db } = deps;

  async function preview(
    r: CampaignRecord,
    locale: Locale,
    now: number,
  ): Promise<Pick<CampaignPage, 'steps' | 'sample'>> {
    const dir = r.sourceDir ?? SHIPPED_MESSAGES_DIR;
    const vars = buildMessageVars({
      name: '',
      locale,
      timezone: 'UTC',
      attributes: {},
      deadline: r.deadline,
      now: Math.min(now, r.deadline),
      links: { unsubscribeUrl: '…', doneUrl: '…', helpUrl: '…' },
      publicUrl: '',
    });
    let sample: string | undefined;
    const steps: StepPreview[] = [];
    for (const step of r.campaign.steps) {
      const template = await loadMessageTemplates(dir, locale, step.template).catch(() => undefined);
      let says = '';
      if (template?.email && step.channels.includes('email')) says = renderEmail(template, vars).subject;
      if (template?.whatsapp && step.channels.includes('whatsapp')) {
        // The button's link is not shown here, so its prefix check is skipped with a placeholder.
        const text = renderWhatsApp(
          { ...template, whatsapp: { ...template.whatsapp, button: undefined } },
          vars,
        ).preview;
        sample ??= text;
        if (says === '') says = text.split('\n')[0] ?? '';
      }
      steps.push({ id: step.id, before: describeBefore(step.before, locale), channels: step.channels, says });
    }
    return { steps, ...(sample === undefined ? {} : { sample }) };
  }

  return {
    /** Campaigns open for sign-up, the nearest deadline first. */
    async openCampaigns(now: number): Promise<CampaignSummary[]> {
      const all = await listCampaigns(db);
      return all.filter((r) => r.campaign.signup === true && isOpen(r, now)).map((r) => summary(r, now));
    },

    /**
     * Whether the general form (/subscribe, no campaign) has anything to sign up to: a campaign
     * not yet closed whose audience a sign-up without a tag joins (with the only attribute the
     * form asks for, the assistant, whichever is chosen). Without one the page says nothing is
     * open, and a sign-up is refused (no subscriber, no mail).
     */
    async generalOpen(now: number): Promise<boolean> {
      const all = await listCampaigns(db);
      return all.some(
        (r) =>
          isOpen(r, now) &&
          ASSISTANTS.some((assistant) => inAudience(r.campaign, { tags: [], attributes: { assistant } })),
      );
    },

    /** One campaign's page; NotFound unless it exists and is (or was) open for sign-up. */
    async page(id: string, locale: Locale, now: number): Promise<CampaignPage> {
      const r = await findCampaign(db, id);
      if (r?.campaign.signup !== true) throw new NotFound('campaign', id);
      return {
        ...summary(r, now),
        signup: true,
        window: r.campaign.window,
        channels: campaignChannels(r.campaign),
        ...(await preview(r, locale, now)),
      };
    },

    /** The facts for /help: the named campaign, else the first open for sign-up, else none. */
    async helpFacts(id: string | undefined, locale: Locale, now: number): Promise<CampaignPage | undefined> {
      const r = id === undefined ? undefined : await findCampaign(db, id);
      const chosen = r ?? (await listCampaigns(db)).find((c) => c.campaign.signup === true && isOpen(c, now));
      if (!chosen) return undefined;
      return {
        ...summary(chosen, now),
        signup: chosen.campaign.signup === true,
        window: chosen.campaign.window,
        channels: campaignChannels(chosen.campaign),
        ...(await preview(chosen, locale, now)),
      };
    },

    /** The campaign a sign-up on its page joins; StateConflict once it is closed. */
    async target(id: string, now: number): Promise<SignUpTarget> {
      const r = await findCampaign(db, id);
      if (r?.campaign.signup !== true) throw new NotFound('campaign', id);
      if (!isOpen(r, now))
        throw new StateConflict(
          {
            resource: 'campaign',
            id,
            action: 'sign-up',
            state: r.state,
            allowed: ['draft', 'running', 'paused'],
          },
          `campaign "${id}" is closed for sign-up`,
        );
      return { id: r.id, name: r.name, tag: signUpTag(r.campaign), channels: campaignChannels(r.campaign) };
    },
  };
}

export type SignUpPages = ReturnType<typeof createSignUpPages>;
