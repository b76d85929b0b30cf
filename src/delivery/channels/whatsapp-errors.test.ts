import { describe, expect, it } from 'vitest';
import { classifyGraphError, classifyThrown, describeGraphError } from './whatsapp-errors.ts';

const now = new Date('2026-01-10T09:00:00Z');
const meta = (status: number, retryAfter: string | null = null) => ({
  status,
  retryAfter,
  contentType: 'application/json',
});

describe('classifyGraphError', () => {
  it.each([
    [130429, 'retry'],
    [131056, 'retry'],
    [131057, 'retry'],
    [131000, 'retry'],
    [1, 'retry'],
    [2, 'retry'],
    [4, 'retry'],
    [80007, 'retry'],
    [131049, 'defer'],
    [132015, 'defer'],
    [131026, 'permanent'],
    [131047, 'permanent'],
    [131050, 'permanent'],
    [131008, 'permanent'],
    [131009, 'permanent'],
    [100, 'permanent'],
    [132000, 'permanent'],
    [132001, 'permanent'],
    [132005, 'permanent'],
    [132007, 'permanent'],
    [132012, 'permanent'],
    [190, 'channel-down'],
    [368, 'channel-down'],
    [131031, 'channel-down'],
    [200, 'channel-down'],
  ])('code %i → %s (whatever the HTTP status)', (code, outcome) => {
    expect(classifyGraphError({ code }, meta(400), now).outcome).toBe(outcome);
    expect(classifyGraphError({ code }, meta(500), now).outcome).toBe(outcome);
  });

  it('falls back on the HTTP status for codes it does not know', () => {
    expect(classifyGraphError({ code: 999999 }, meta(503), now)).toMatchObject({
      outcome: 'retry',
      code: '999999',
    });
    expect(classifyGraphError({ code: 999999 }, meta(429, '5'), now)).toMatchObject({ retryAfterMs: 5_000 });
    expect(classifyGraphError({ code: 999999 }, meta(403), now).outcome).toBe('channel-down');
    expect(classifyGraphError({ code: 999999 }, meta(400), now).outcome).toBe('permanent');
  });

  it('never waits less than Meta advises, nor less than Retry-After', () => {
    expect(classifyGraphError({ code: 131057 }, meta(400, '5'), now)).toMatchObject({ retryAfterMs: 60_000 });
    expect(classifyGraphError({ code: 131057 }, meta(400, '120'), now)).toMatchObject({
      retryAfterMs: 120_000,
    });
    expect(classifyGraphError({ code: 130429 }, meta(429), now)).not.toHaveProperty('retryAfterMs');
  });

  it('describes with message, details and user message, once each', () => {
    expect(describeGraphError({ code: 1, message: '(#1) X', error_data: { details: 'Y' } })).toBe(
      '(#1) X: Y',
    );
    expect(describeGraphError({ code: 1, message: 'Same', error_data: { details: 'Same' } })).toBe('Same');
  });
});

describe('classifyThrown', () => {
  it('retries what never reached Meta and unreadable 5xx replies; never resends what may have', () => {
    const timeout = Object.assign(new Error('t'), { name: 'TimeoutError' });
    expect(classifyThrown(timeout, undefined, now)).toMatchObject({
      outcome: 'unavailable',
      code: 'connect-timeout',
    });
    expect(classifyThrown(timeout, undefined, now, true)).toMatchObject({
      outcome: 'unknown',
      code: 'timeout',
    });
    const reset = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
    expect(classifyThrown(reset, undefined, now, true)).toMatchObject({
      outcome: 'unknown',
      code: 'connection-lost',
    });
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } });
    expect(classifyThrown(refused, undefined, now)).toMatchObject({
      outcome: 'unavailable',
      code: 'network',
      detail: expect.stringContaining('ECONNRESET'),
    });
    const html = new SyntaxError("Unexpected token '<'");
    expect(classifyThrown(html, { ...meta(502), contentType: 'text/html' }, now)).toMatchObject({
      outcome: 'retry',
      code: 'http-502',
    });
    expect(classifyThrown(html, meta(200), now)).toMatchObject({
      outcome: 'permanent',
      code: 'bad-response',
    });
    expect(classifyThrown(html, meta(401), now).outcome).toBe('channel-down');
  });
});
