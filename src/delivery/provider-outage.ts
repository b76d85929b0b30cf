// A provider outage (the SMTP server down or answering 421, the Graph API unreachable), told once
// per channel and process: every send job probes the provider while it is down, and a line per
// probe would bury the one that matters. The send service reports each `unavailable` answer and
// each message sent; this logs the first of the first kind and the first sent message after it.
import type { Logger } from '../shared/logger.ts';
import type { Channel } from '../shared/vocabulary.ts';

export interface ProviderOutages {
  unavailable(channel: Channel, code: string, detail: string): void;
  sent(channel: Channel): void;
}

export function providerOutageLog(logger: Logger, now: () => number = Date.now): ProviderOutages {
  const since = new Map<Channel, number>();
  return {
    unavailable(channel, code, detail) {
      if (since.has(channel)) return;
      since.set(channel, now());
      logger.error(
        { channel, code, detail },
        `${channel} provider unavailable: its messages wait in the queue and go out when it answers again`,
      );
    },
    sent(channel) {
      const from = since.get(channel);
      if (from === undefined) return;
      since.delete(channel);
      const downForMs = now() - from;
      logger.warn(
        { channel, downForMs },
        `${channel} provider is back after ${Math.round(downForMs / 1000)} s`,
      );
    },
  };
}
