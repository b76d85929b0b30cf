import { describe, expect, it } from 'vitest';
import { classifySmtpError, scrubAddresses } from './email-errors.ts';

const smtp = (responseCode: number, command: string, response = `${responseCode} refused`) =>
  Object.assign(new Error(response), { code: 'EENVELOPE', responseCode, command, response });

describe('classifySmtpError', () => {
  it('retries 4xx and 503, refuses 5xx to RCPT TO or DATA for good', () => {
    expect(classifySmtpError(smtp(451, 'RCPT TO'))).toMatchObject({ outcome: 'retry', code: '451' });
    // 421 closes the whole service, whatever the command: the server is unavailable.
    expect(classifySmtpError(smtp(421, 'RCPT TO'))).toMatchObject({ outcome: 'unavailable', code: '421' });
    expect(classifySmtpError(smtp(503, 'DATA'))).toMatchObject({ outcome: 'retry', code: '503' });
    expect(classifySmtpError(smtp(550, 'RCPT TO'))).toMatchObject({ outcome: 'permanent', code: '550' });
    expect(classifySmtpError(smtp(554, 'DATA'))).toMatchObject({ outcome: 'permanent', code: '554' });
  });

  it('treats a refused sender or login as the channel being down', () => {
    expect(classifySmtpError(smtp(553, 'MAIL FROM'))).toMatchObject({ outcome: 'channel-down', code: '553' });
    const auth = Object.assign(new Error('Invalid login'), {
      code: 'EAUTH',
      responseCode: 535,
      command: 'AUTH PLAIN',
    });
    expect(classifySmtpError(auth)).toMatchObject({ outcome: 'channel-down', code: 'EAUTH' });
  });

  it('retries connection trouble', () => {
    expect(classifySmtpError(Object.assign(new Error('x'), { code: 'ETIMEDOUT' }))).toMatchObject({
      outcome: 'retry',
      code: 'timeout',
    });
    expect(classifySmtpError(Object.assign(new Error('x'), { code: 'ESOCKET' }))).toMatchObject({
      outcome: 'retry',
      code: 'network',
    });
  });

  it('calls a server that refuses connections or answers 421 unavailable', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:25'), {
      code: 'ESOCKET',
      command: 'CONN',
      syscall: 'connect',
    });
    expect(classifySmtpError(refused)).toMatchObject({ outcome: 'unavailable', code: 'unreachable' });
    const busy = Object.assign(new Error('Invalid greeting'), {
      code: 'EPROTOCOL',
      command: 'CONN',
      responseCode: 421,
      response: '421 Service not available, try later',
    });
    expect(classifySmtpError(busy)).toMatchObject({ outcome: 'unavailable', code: '421' });
  });

  it('drops addresses from details', () => {
    expect(scrubAddresses('550 5.1.1 <ana.b+x@mail.example.org>: unknown, cc bob@x.fr')).toBe(
      '550 5.1.1 <<address>>: unknown, cc <address>',
    );
  });
});
