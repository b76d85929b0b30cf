// A channel whose account is broken (WhatsApp 190 bad token, 368 policy block, 131031 account
// locked; SMTP authentication refused) would fail every message the same way. The first such
// answer pauses the channel's queue for every worker (BullMQ pause is global) and leaves a
// note in Redis. The deliveries stay `queued`: nothing is lost, they go out once it is fixed.
// Workers resume the queue at start when the credentials changed since the note (the
// operator rotated the token and restarted), or when told to (`lastcall work --resume-channel`).
import { createHash } from 'node:crypto';
import { sendQueueFor } from '../queue/catalog.ts';
import type { QueueSet } from '../queue/connection.ts';
import type { Logger } from '../shared/logger.ts';
import type { Channel } from '../shared/vocabulary.ts';

export interface ChannelDownNote {
  readonly code: string;
  readonly detail: string;
  readonly at: string;
  /** Hash of the credentials in use when it broke. */
  readonly credentials: string;
}

export function credentialsFingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}

function noteKey(queues: QueueSet, channel: Channel): string {
  // Beside the channel's queue (same hash tag), which the note pauses.
  return queues.keyBeside(sendQueueFor(channel), `channel-down:${channel}`);
}

export async function markChannelDown(
  queues: QueueSet,
  channel: Channel,
  note: ChannelDownNote,
  logger: Logger,
): Promise<void> {
  const first = await queues.connection.set(noteKey(queues, channel), JSON.stringify(note), 'NX');
  await queues.get(sendQueueFor(channel)).pause();
  if (first === 'OK')
    logger.error(
      { channel, code: note.code, detail: note.detail },
      `${channel} channel is DOWN: its queue is paused and nothing more is sent on it. ` +
        `Fix the account (WhatsApp: a valid WHATSAPP_TOKEN for the number, no policy block), then restart ` +
        `the workers, or run "lastcall work --resume-channel ${channel}". Queued reminders wait and are not lost.`,
    );
}

export async function channelDownNote(
  queues: QueueSet,
  channel: Channel,
): Promise<ChannelDownNote | undefined> {
  const raw = await queues.connection.get(noteKey(queues, channel));
  return raw ? (JSON.parse(raw) as ChannelDownNote) : undefined;
}

/** At worker start: resume a paused channel if its credentials changed or the operator says so. */
export async function reviewChannel(
  queues: QueueSet,
  channel: Channel,
  credentials: string,
  force: boolean,
  logger: Logger,
): Promise<'up' | 'resumed' | 'still-down'> {
  const note = await channelDownNote(queues, channel);
  if (!note) return 'up';
  if (force || note.credentials !== credentials) {
    await queues.connection.del(noteKey(queues, channel));
    await queues.get(sendQueueFor(channel)).resume();
    logger.warn({ channel, code: note.code, since: note.at }, `${channel} channel resumed`);
    return 'resumed';
  }
  logger.error(
    { channel, code: note.code, detail: note.detail, since: note.at },
    `${channel} channel is still DOWN with the same credentials: its queue stays paused`,
  );
  return 'still-down';
}
