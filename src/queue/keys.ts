// Where every Redis key of Lastcall goes (docs/redis-cluster.md). A Redis Cluster places a key
// by its hash tag, the text between its first `{` and the next `}` when that text is not empty
// (else by the whole key). BullMQ's scripts touch several keys of one queue at once, which a
// cluster allows only within one slot, so each queue's keys share a tag; and each queue has a
// tag of its own, so the queues spread over the cluster's primaries instead of all loading one.
// Lastcall's own keys (the rate gate, the channel notes, the recovery markers) sit beside the
// queue they belong to, under its tag. On a single Redis the tags change nothing.
//
//   QUEUE_PREFIX=lastcall   → lastcall:{send-whatsapp}:send-whatsapp:wait   (BullMQ)
//                             lastcall:{send-whatsapp}:lastcall:rate:whatsapp:log   (rate gate)
//   QUEUE_PREFIX={acme}:prod → {acme}:prod:send-whatsapp:wait (a tag written by the operator is
//                             kept: every key on one slot, as before per-queue tags)
import type { Channel } from '../shared/vocabulary.ts';
import { type QueueName, sendQueueFor } from './catalog.ts';

/** The text Redis Cluster hashes to place `key`, or undefined when it hashes the whole key. */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open === -1) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/** What is wrong with a QUEUE_PREFIX, or undefined: a brace only as a complete, non-empty tag. */
export function queuePrefixProblem(prefix: string): string | undefined {
  if (!/[{}]/.test(prefix)) return undefined;
  if (hashTagOf(prefix) === undefined)
    return 'braces only around a Redis Cluster hash tag, as in {acme}:prod (without braces each queue gets its own tag)';
  return undefined;
}

/** BullMQ's `prefix` option for a queue: `<QUEUE_PREFIX>:{<queue>}`, or QUEUE_PREFIX as written
 *  when it has a tag of its own. Every key BullMQ makes for the queue starts with it. */
export function queueKeyPrefix(base: string, queue: QueueName): string {
  return hashTagOf(base) === undefined ? `${base}:{${queue}}` : base;
}

/** A key of Lastcall's own on the slot of `queue`'s keys (`…:lastcall:<name>`). */
export function keyBeside(base: string, queue: QueueName, name: string): string {
  return `${queueKeyPrefix(base, queue)}:lastcall:${name}`;
}

/** The rate gate's keys (`<key>:next`, `<key>:log`, `<key>:rate`), beside the channel's send queue. */
export function rateGateKey(base: string, channel: Channel): string {
  return keyBeside(base, sendQueueFor(channel), `rate:${channel}`);
}
