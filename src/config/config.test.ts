import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.ts';

describe('parseConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const config = parseConfig({});
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/lastcall');
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.publicUrl).toBe('http://localhost:8080');
    expect(config.httpPort).toBe(8080);
    expect(config.rates).toEqual({ whatsapp: 80, email: 10 });
    expect(config.graphApi).toEqual({ url: 'https://graph.facebook.com', version: 'v23.0' });
    expect(config.email).toBeUndefined();
    expect(config.whatsapp).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.graphApi)).toBe(true);
  });

  it('lists every problem at once, naming the variable and the rule', () => {
    let error: ConfigError | undefined;
    try {
      parseConfig({
        HTTP_PORT: 'eighty',
        SMTP_URL: 'smtp://localhost:1025',
        EMAIL_RATE: '-1',
        SECRET_KEY: 'short',
      });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = error!.problems.join('\n');
    expect(text).toMatch(/HTTP_PORT="eighty": must be a number/);
    expect(text).toMatch(/EMAIL_RATE="-1": must be greater than 0/);
    expect(text).toMatch(/SECRET_KEY \(value hidden, 5 characters\): must be at least 32 bytes/);
    // A rule between variables is listed beside the variables' own rules, not hidden by them.
    expect(text).toMatch(/MAIL_FROM: required when SMTP_URL is set/);
    expect(error!.problems.length).toBe(4);
  });

  it('never prints a secret, nor the password of a URL, in a problem', () => {
    let error: ConfigError | undefined;
    try {
      parseConfig({
        ADMIN_TOKEN: 'hunter2-secret',
        EVENTS_SECRET: 'tiny-secret',
        DATABASE_URL: 'mysql://lastcall:pa55word@db/lastcall',
      });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error?.message).toContain(
      'ADMIN_TOKEN (value hidden, 14 characters): must be at least 16 characters long',
    );
    expect(error?.message).toContain('EVENTS_SECRET (value hidden, 11 characters): must be at least 16');
    expect(error?.message).toContain('DATABASE_URL="mysql://lastcall:***@db/lastcall": must be a URL');
    expect(error?.message).not.toMatch(/hunter2|tiny-secret|pa55word/);
  });

  it('defaults PUBLIC_URL to the HTTP_PORT it listens on', () => {
    expect(parseConfig({ HTTP_PORT: '8081' }).publicUrl).toBe('http://localhost:8081');
    expect(parseConfig({ HTTP_PORT: '0' }).publicUrl).toBe('http://localhost:8080');
    expect(parseConfig({ HTTP_PORT: '8081', PUBLIC_URL: 'https://r.example.org/' }).publicUrl).toBe(
      'https://r.example.org',
    );
  });

  it('requires MAIL_FROM with SMTP_URL and the webhook secrets with WhatsApp', () => {
    expect(() => parseConfig({ SMTP_URL: 'smtp://localhost:1025', WHATSAPP_TOKEN: 't' })).toThrow(
      /MAIL_FROM: required when SMTP_URL is set[\s\S]*WHATSAPP_PHONE_NUMBER_ID: required[\s\S]*WHATSAPP_APP_SECRET[\s\S]*WHATSAPP_VERIFY_TOKEN/,
    );
  });

  it('requires SECRET_KEY and ADMIN_TOKEN for serve outside development, not in development', () => {
    expect(() => parseConfig({}, 'serve')).toThrow(
      /SECRET_KEY: required by "serve"[\s\S]*ADMIN_TOKEN: required/,
    );
    expect(() => parseConfig({}, 'work')).toThrow(/SECRET_KEY: required by "work"/);
    const dev = parseConfig({ LASTCALL_ENV: 'development' }, 'serve');
    expect(dev.secretKey!.length).toBeGreaterThanOrEqual(32);
  });

  it('enables a channel only when its settings are complete', () => {
    const config = parseConfig({
      SMTP_URL: 'smtp://user:pass@127.0.0.1:1025',
      MAIL_FROM: 'Lastcall <no-reply@example.org>',
      WHATSAPP_TOKEN: 'token',
      WHATSAPP_PHONE_NUMBER_ID: '123',
      WHATSAPP_APP_SECRET: 'secret',
      WHATSAPP_VERIFY_TOKEN: 'verify',
      WHATSAPP_API_URL: 'http://127.0.0.1:9999/',
    });
    expect(config.email).toEqual({
      smtpUrl: 'smtp://user:pass@127.0.0.1:1025',
      from: 'Lastcall <no-reply@example.org>',
      poolSize: 10,
    });
    expect(config.graphApi.url).toBe('http://127.0.0.1:9999');
    expect(config.whatsapp?.phoneNumberId).toBe('123');
  });
});

describe('EMAIL_POOL_SIZE', () => {
  const email = { SMTP_URL: 'smtp://127.0.0.1:1025', MAIL_FROM: 'Lastcall <no-reply@example.org>' };

  it('sets the SMTP connections of each worker process, 10 unless set', () => {
    expect(parseConfig(email).email?.poolSize).toBe(10);
    expect(parseConfig({ ...email, EMAIL_POOL_SIZE: '25' }).email?.poolSize).toBe(25);
    expect(parseConfig({ ...email, EMAIL_POOL_SIZE: '' }).email?.poolSize).toBe(10);
  });

  it('refuses anything but a whole number from 1 to 100, naming the variable', () => {
    for (const value of ['0', '-3', '2.5', '101', 'many']) {
      let error: ConfigError | undefined;
      try {
        parseConfig({ ...email, EMAIL_POOL_SIZE: value });
      } catch (e) {
        error = e as ConfigError;
      }
      expect(error?.problems, value).toEqual([
        expect.stringMatching(
          new RegExp(
            `^EMAIL_POOL_SIZE=${JSON.stringify(value)}: must be (a number|a whole number from 1 to 100)$`,
          ),
        ),
      ]);
    }
  });
});

describe('WHATSAPP_RATE', () => {
  it("counts as set only when it has a value: blank leaves the rate to the number's throughput level", () => {
    expect(parseConfig({ WHATSAPP_RATE: '20' })).toMatchObject({
      rates: { whatsapp: 20 },
      whatsappRateSet: true,
    });
    expect(parseConfig({ WHATSAPP_RATE: '' })).toMatchObject({
      rates: { whatsapp: 80 },
      whatsappRateSet: false,
    });
    expect(parseConfig({})).toMatchObject({ rates: { whatsapp: 80 }, whatsappRateSet: false });
  });

  it('refuses a value that is not a positive number, naming the variable', () => {
    expect(() => parseConfig({ WHATSAPP_RATE: '0' })).toThrow(/WHATSAPP_RATE="0": must be greater than 0/);
    expect(() => parseConfig({ WHATSAPP_RATE: 'fast' })).toThrow(/WHATSAPP_RATE="fast": must be a number/);
  });
});

describe('Redis Cluster settings', () => {
  it('keeps the queue prefix as written, and refuses braces that are not a hash tag', () => {
    expect(parseConfig({}).queuePrefix).toBe('lastcall');
    expect(parseConfig({ QUEUE_PREFIX: 'acme-prod' }).queuePrefix).toBe('acme-prod');
    expect(parseConfig({ QUEUE_PREFIX: '{acme}:prod' }).queuePrefix).toBe('{acme}:prod');
    // An empty tag is no tag for Redis (the whole key would be hashed), nor is an open brace.
    expect(() => parseConfig({ QUEUE_PREFIX: 'a{}b' })).toThrow(
      /QUEUE_PREFIX="a\{\}b": braces only around a Redis Cluster hash tag/,
    );
    expect(() => parseConfig({ QUEUE_PREFIX: 'x{' })).toThrow(/QUEUE_PREFIX="x\{": braces only/);
  });

  it('reads REDIS_CLUSTER, and refuses a database number a cluster does not have', () => {
    expect(parseConfig({}).redisCluster).toBe(false);
    expect(parseConfig({ REDIS_CLUSTER: 'true', REDIS_URL: 'redis://node-1:7000' }).redisCluster).toBe(true);
    expect(() => parseConfig({ REDIS_CLUSTER: 'yes' })).toThrow(/REDIS_CLUSTER="yes": must be true or false/);
    expect(() =>
      parseConfig({ REDIS_CLUSTER: 'true', REDIS_URL: 'redis://user:secret@node-1:7000/2' }),
    ).toThrow(/REDIS_URL="redis:\/\/user:\*\*\*@node-1:7000\/2": a Redis Cluster has only database 0/);
  });
});

describe('TRUST_PROXY', () => {
  it('trusts nobody unless set; takes the proxies’ addresses and ranges', () => {
    expect(parseConfig({}).trustProxy).toBe(false);
    expect(parseConfig({ TRUST_PROXY: ' ' }).trustProxy).toBe(false);
    expect(parseConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1,fd00::/8,uniquelocal' }).trustProxy).toEqual(
      ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8', 'uniquelocal'],
    );
  });

  it('refuses anything else, naming the variable and the rule', () => {
    for (const value of [
      'true',
      '0',
      '11',
      '10.0.0.0/33',
      '10.0.0',
      'proxy.example.org',
      '10.0.0.1,',
      'fd00::/129',
    ]) {
      expect(() => parseConfig({ TRUST_PROXY: value }), value).toThrow(
        `TRUST_PROXY=${JSON.stringify(value)}: must be the proxies' addresses, comma-separated: IPs, ranges such as 10.0.0.0/8, or loopback, linklocal, uniquelocal`,
      );
    }
  });
});

describe('secrets from files (<NAME>_FILE)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lastcall-secrets-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('reads the value from the file, without its final line break', () => {
    const config = parseConfig(
      {
        SECRET_KEY_FILE: file('secret_key', 'k'.repeat(40) + '\n'),
        ADMIN_TOKEN_FILE: file('admin_token', 'an-admin-token-of-32-characters!\r\n'),
        DATABASE_URL_FILE: file('database_url', 'postgres://lastcall:p%40ss@db:5432/lastcall\n'),
      },
      'serve',
    );
    expect(config.secretKey).toBe('k'.repeat(40));
    expect(config.adminToken).toBe('an-admin-token-of-32-characters!');
    expect(config.databaseUrl).toBe('postgres://lastcall:p%40ss@db:5432/lastcall');
    expect(config.named.databaseUrl).toBe(true);
  });

  it('checks a value from a file by the variable’s own rule, without printing it', () => {
    expect(() => parseConfig({ SECRET_KEY_FILE: file('short', 'too-short\n') })).toThrow(
      'SECRET_KEY (value hidden, 9 characters): must be at least 32 bytes long',
    );
  });

  it('refuses both forms at once, a missing file and an empty one, each named', () => {
    const missing = join(dir, 'nope');
    let error: ConfigError | undefined;
    try {
      parseConfig({
        ADMIN_TOKEN: 'an-admin-token-of-32-characters!',
        ADMIN_TOKEN_FILE: file('admin', 'another-token-of-32-characters!!'),
        WHATSAPP_TOKEN_FILE: missing,
        EVENTS_SECRET_FILE: file('empty', '\n'),
      });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error?.problems).toEqual([
      'ADMIN_TOKEN, ADMIN_TOKEN_FILE: set one or the other, not both',
      `WHATSAPP_TOKEN_FILE=${JSON.stringify(missing)}: cannot be read (ENOENT); it must be a file this process can read`,
      `EVENTS_SECRET_FILE=${JSON.stringify(join(dir, 'empty'))}: the file is empty`,
    ]);
  });
});
