// What resuming a paused campaign does with the reminders that came due while it was paused.
//
// Slots keep their times through a pause, so on resume some are overdue. Sending them all at
// once would fire several steps together (d30 and d7 after a long pause), possibly at night.
// Resume treats the pause the way the catch-up rule treats a late join (docs/campaigns.md, "Pause
// and resume"): for each zone and channel, the overdue slots collapse into at most one send, the
// most recent missed step, moved to the catch-up instant the planner gives for that zone at `now`
// (the first minute inside the window, before the deadline). When the planner plans no catch-up
// (the next step is within catchUp.minGap, or the deadline is too close), the overdue slots are
// cancelled: the next step is on its way. Slots not yet due are untouched; a slot whose fan-out
// began before the pause (it has a cursor) simply continues.
//
// A personal catch-up slot held back by the pause is cancelled when its zone keeps a send on the
// same channel (its subscriber gets that one); otherwise it follows the same rule on its own.
// With public holidays, "zone" reads "zone and holiday country" throughout (slots are per both).
// The overdue parts of a spread step (docs/whatsapp.md) count as one send: all of them move.
import type { Campaign } from './campaign.schema.ts';
import type { ZonePlanner } from './slot.builder.ts';
import type { OverdueSlot } from './slot.repository.ts';

export interface ResumePlan {
  readonly move: readonly { readonly id: number; readonly zone: string; readonly sendAt: number }[];
  readonly cancel: readonly number[];
}

export function planResume(
  campaign: Campaign,
  overdue: readonly OverdueSlot[],
  planner: ZonePlanner,
): ResumePlan {
  const position = new Map(campaign.steps.map((s, i) => [s.id, i]));
  const groups = new Map<string, OverdueSlot[]>();
  for (const slot of overdue) {
    const key = `${slot.zone}\u0000${slot.country}\u0000${slot.channel}\u0000${slot.subscriberId ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), slot]);
  }
  const move: { id: number; zone: string; sendAt: number }[] = [];
  const cancel: number[] = [];
  const zoneKeeps = new Set<string>();

  // Zone groups first: personal groups look at what their zone keeps.
  const ordered = [...groups.values()].sort(
    (a, b) => Number(a[0]!.subscriberId !== null) - Number(b[0]!.subscriberId !== null),
  );
  for (const group of ordered) {
    const { zone, country, channel, subscriberId } = group[0]!;
    let catchUpAt: number | undefined;
    try {
      catchUpAt = planner(zone, country).find((s) => s.kind === 'catch-up' && s.channel === channel)?.sendAt;
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      continue; // a zone the planner refuses was never planned by it: leave those slots alone
    }
    const coveredByZone = subscriberId !== null && zoneKeeps.has(`${zone}\u0000${country}\u0000${channel}`);
    if (catchUpAt === undefined || coveredByZone) {
      cancel.push(...group.map((s) => s.id));
      continue;
    }
    const latest = group.reduce((a, b) =>
      b.sendAt > a.sendAt ||
      (b.sendAt === a.sendAt && (position.get(b.stepId) ?? -1) > (position.get(a.stepId) ?? -1))
        ? b
        : a,
    );
    // A step spread over earlier days (docs/whatsapp.md) has a slot per part: every overdue part
    // of the step kept goes, or its people would lose the step.
    const kept = group.filter((s) => s.stepId === latest.stepId);
    move.push(...kept.map((s) => ({ id: s.id, zone, sendAt: catchUpAt })));
    cancel.push(...group.filter((s) => !kept.includes(s)).map((s) => s.id));
    if (subscriberId === null) zoneKeeps.add(`${zone}\u0000${country}\u0000${channel}`);
  }
  return { move, cancel };
}
