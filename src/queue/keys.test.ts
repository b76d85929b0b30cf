// Where each key goes: a hash tag per queue, Lastcall's own keys under their queue's tag.
import { describe, expect, it } from 'vitest';
import { QUEUES } from './catalog.ts';
import { hashTagOf, keyBeside, queueKeyPrefix, queuePrefixProblem, rateGateKey } from './keys.ts';

describe('Redis keys and their hash tags', () => {
  it('reads the hash tag as Redis Cluster does', () => {
    expect(hashTagOf('lastcall:{send-email}:send-email:wait')).toBe('send-email');
    expect(hashTagOf('{a}{b}')).toBe('a');
    // No tag: the whole key is hashed.
    expect(hashTagOf('lastcall:tick')).toBeUndefined();
    expect(hashTagOf('a{}b{c}')).toBeUndefined();
    expect(hashTagOf('a}b{c')).toBeUndefined();
  });

  it('gives each queue its own tag, and the rate gate its send queue’s tag', () => {
    const tags = Object.values(QUEUES).map((q) => hashTagOf(queueKeyPrefix('lastcall', q)));
    expect(tags).toEqual(Object.values(QUEUES));
    expect(queueKeyPrefix('lastcall', QUEUES.whatsapp)).toBe('lastcall:{send-whatsapp}');
    expect(rateGateKey('lastcall', 'whatsapp')).toBe('lastcall:{send-whatsapp}:lastcall:rate:whatsapp');
    expect(hashTagOf(rateGateKey('lastcall', 'email'))).toBe(QUEUES.email);
    expect(keyBeside('lastcall', QUEUES.tick, 'redis-alive')).toBe('lastcall:{tick}:lastcall:redis-alive');
  });

  it('keeps a prefix that has a tag of its own for every queue (one slot)', () => {
    expect(queueKeyPrefix('{acme}:prod', QUEUES.whatsapp)).toBe('{acme}:prod');
    expect(rateGateKey('{acme}:prod', 'whatsapp')).toBe('{acme}:prod:lastcall:rate:whatsapp');
    expect(queuePrefixProblem('{acme}:prod')).toBeUndefined();
    expect(queuePrefixProblem('acme')).toBeUndefined();
    expect(queuePrefixProblem('a{}b')).toMatch(/braces only around a Redis Cluster hash tag/);
  });
});
