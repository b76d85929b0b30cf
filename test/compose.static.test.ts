// The Docker Compose stack and the image, checked without Docker: docker-compose.yml is read the
// way compose reads it with no .env (`<<` merges, `${VAR:-default}` interpolation), and each
// service's environment, command, healthcheck and start order is checked against what Lastcall
// itself accepts: the config parser for its role, and the CLI's own commander program.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildProgram } from '../src/cli/main.ts';
import { parseConfig, type Role } from '../src/config/config.ts';

const ROOT = join(import.meta.dirname, '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

interface Service {
  image?: string;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  healthcheck?: {
    test?: string[] | string;
    disable?: boolean;
    interval?: string;
    timeout?: string;
    retries?: number;
    start_period?: string;
  };
  ports?: string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  profiles?: string[];
}

/** Compose interpolation with an empty environment: ${V:-d} and ${V-d} give d, ${V} and $V give "", $$ gives $. */
function interpolate(text: string, env: Record<string, string> = {}): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, name?: string, colon?: string, op?: string, word?: string, bare?: string) => {
      if (match === '$$') return '$';
      if (bare !== undefined) return env[bare] ?? '';
      const value = env[name!];
      const missing = value === undefined || (colon === ':' && value === '');
      if (op === '?' && missing) throw new Error(`${name}: ${word || 'required'}`);
      if (op === '-' && missing) return interpolate(word ?? '', env);
      return value ?? '';
    },
  );
}

function resolve(value: unknown): unknown {
  if (typeof value === 'string') return interpolate(value);
  if (Array.isArray(value)) return value.map(resolve);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  return value;
}

const raw = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const compose = resolve(raw) as typeof raw;
const services = compose.services;
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
};
const environment = (name: string): Record<string, string> =>
  Object.fromEntries(
    Object.entries(service(name).environment ?? {}).map(([k, v]) => [k, v == null ? '' : String(v)]),
  );
const commandOf = (name: string): string[] => {
  const c = service(name).command;
  return Array.isArray(c) ? c : (c ?? '').split(/\s+/).filter(Boolean);
};
const APP_SERVICES = Object.entries(services)
  .filter(([, s]) => s.image === 'lastcall:local')
  .map(([name]) => name);

/**
 * The CLI command `argv` selects, parsed by the real program with every action replaced by a
 * no-op and output silenced: unknown commands and options, and option values the command's own
 * parsers refuse (a port that isn't one), throw as they would for a user.
 */
async function parsedCommand(argv: string[]): Promise<string> {
  const program = await buildProgram();
  let ran = '';
  const silence = (cmd: Command, path: string[]) => {
    cmd.configureOutput({ writeOut: () => {}, writeErr: () => {} });
    cmd.exitOverride();
    if (path.length > 0) {
      cmd.action(() => {
        ran = path.join(' ');
      });
    }
    for (const sub of cmd.commands) silence(sub, [...path, sub.name()]);
  };
  silence(program, []);
  await program.parseAsync(['node', 'lastcall', ...argv]);
  return ran;
}

describe('docker-compose.yml', () => {
  it('runs the app services from one image', () => {
    expect(APP_SERVICES.sort()).toEqual(['api', 'cli', 'demo-seed', 'migrate', 'sandbox', 'worker']);
  });

  it.each([
    ['api', 'serve'],
    ['worker', 'work'],
    ['migrate', 'cli'],
    ['sandbox', 'cli'],
    ['cli', 'cli'],
    ['demo-seed', 'cli'],
  ] as const)(
    'gives %s every variable its role (%s) requires, as compose resolves them',
    (name, role: Role) => {
      const config = parseConfig(environment(name), role);
      // Development mode with the sandbox and Mailpit: both channels on, out of the box.
      expect(config.env).toBe('development');
      expect(config.databaseUrl).toBe('postgres://lastcall:lastcall@postgres:5432/lastcall');
      expect(config.redisUrl).toBe('redis://redis:6379');
      expect(config.whatsapp).toMatchObject({ appSecret: 'sandbox-app-secret' });
      expect(config.graphApi.url).toBe('http://sandbox:8090');
      expect(config.email?.smtpUrl).toBe('smtp://lastcall:lastcall@mailpit:1025');
    },
  );

  it('still starts api and worker in production once SECRET_KEY and ADMIN_TOKEN are set', () => {
    const production = {
      LASTCALL_ENV: 'production',
      SECRET_KEY: 'x'.repeat(64),
      ADMIN_TOKEN: 'y'.repeat(32),
    };
    expect(() => parseConfig({ ...environment('api'), ...production }, 'serve')).not.toThrow();
    expect(() => parseConfig({ ...environment('worker'), ...production }, 'work')).not.toThrow();
    expect(() => parseConfig({ ...environment('api'), LASTCALL_ENV: 'production' }, 'serve')).toThrow(
      /SECRET_KEY: required by "serve"/,
    );
  });

  it('names only variables that .env.example documents', () => {
    const documented = new Set([...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
    for (const name of APP_SERVICES) {
      for (const key of Object.keys(environment(name))) expect(documented, `${name}: ${key}`).toContain(key);
    }
  });

  it('has a healthcheck for every long-running service', () => {
    for (const name of ['redis', 'postgres', 'mailpit', 'sandbox', 'api', 'worker']) {
      const check = service(name).healthcheck;
      expect(check?.disable, name).not.toBe(true);
      expect(check?.test, name).toBeDefined();
    }
    expect(service('sandbox').healthcheck?.test).toContain(
      "fetch('http://127.0.0.1:8090/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))",
    );
    expect(JSON.stringify(service('api').healthcheck?.test)).toContain(
      "127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz",
    );
  });

  it('publishes host ports from variables, 8080, 8090 and 8025 unless told', () => {
    expect(service('api').ports).toEqual(['8080:8080']);
    expect(service('sandbox').ports).toEqual(['8090:8090']);
    expect(service('mailpit').ports).toEqual(['8025:8025']);
    const env = {
      LASTCALL_API_PORT: '18080',
      LASTCALL_SANDBOX_PORT: '18090',
      LASTCALL_MAILPIT_PORT: '18025',
    };
    const published = (name: string) => (raw.services[name]?.ports ?? []).map((p) => interpolate(p, env));
    expect(published('api')).toEqual(['18080:8080']);
    expect(published('sandbox')).toEqual(['18090:8090']);
    expect(published('mailpit')).toEqual(['18025:8025']);
    // Links in messages lead to the api where it is published; the demo prints where to look.
    expect(interpolate(String(raw.services.api?.environment?.PUBLIC_URL), env)).toBe(
      'http://localhost:18080',
    );
    const seed = ((raw.services['demo-seed']?.command ?? []) as string[]).map((a) => interpolate(a, env));
    expect(seed).toEqual(expect.arrayContaining(['http://localhost:18090', 'http://localhost:18025']));
  });

  it('starts each service after what it needs', () => {
    const conditions = (name: string) => {
      const deps = service(name).depends_on;
      expect(Array.isArray(deps), `${name}: depends_on needs conditions`).toBe(false);
      return Object.fromEntries(Object.entries(deps ?? {}).map(([k, v]) => [k, v.condition]));
    };
    expect(conditions('migrate')).toEqual({ postgres: 'service_healthy' });
    for (const name of ['api', 'worker']) {
      expect(conditions(name)).toMatchObject({
        migrate: 'service_completed_successfully',
        postgres: 'service_healthy',
        redis: 'service_healthy',
      });
    }
    // The worker sends through the sandbox and Mailpit by default; the API emails confirmations.
    expect(conditions('worker')).toMatchObject({ sandbox: 'service_healthy', mailpit: 'service_healthy' });
    expect(conditions('api')).toMatchObject({ mailpit: 'service_healthy' });
    expect(conditions('cli')).toMatchObject({ migrate: 'service_completed_successfully' });
    // The demo's first notice is due at once: its seed waits for everything that delivers it.
    expect(conditions('demo-seed')).toMatchObject({
      migrate: 'service_completed_successfully',
      api: 'service_healthy',
      worker: 'service_started',
      sandbox: 'service_healthy',
      mailpit: 'service_healthy',
    });
    expect(service('demo-seed').profiles).toEqual(['demo']);
    expect(service('cli').profiles).toEqual(['cli']);
  });

  it('runs Redis with AOF and noeviction (BullMQ)', () => {
    const command = commandOf('redis');
    const value = (flag: string) => command[command.indexOf(flag) + 1];
    expect(value('--appendonly')).toBe('yes');
    expect(value('--maxmemory-policy')).toBe('noeviction');
  });

  it.each([
    ['api', 'serve'],
    ['worker', 'work'],
    ['migrate', 'db migrate'],
    ['sandbox', 'sandbox'],
    ['demo-seed', 'demo seed'],
  ])('gives %s a command the CLI accepts (%s)', async (name, expected) => {
    expect(await parsedCommand(commandOf(name))).toBe(expected);
  });

  it('gives the cli service --help, and the worker a doctor healthcheck the CLI accepts', async () => {
    await expect(parsedCommand(commandOf('cli'))).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
    const test = service('worker').healthcheck?.test as string[];
    expect(test.slice(0, 3)).toEqual(['CMD', 'node', 'bin/lastcall.js']);
    expect(await parsedCommand(test.slice(3))).toBe('doctor');
  });

  it('would notice a command the CLI does not know', async () => {
    await expect(parsedCommand(['serve', '--no-such-option'])).rejects.toBeInstanceOf(CommanderError);
    await expect(parsedCommand(['sandbox', '--port', 'eighty'])).rejects.toBeInstanceOf(CommanderError);
    await expect(parsedCommand(['frobnicate'])).rejects.toMatchObject({ code: 'commander.unknownCommand' });
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const named = (word: string) => instructions.filter((l) => l.toUpperCase().startsWith(`${word} `));

  it('builds without a registry beyond its base images: no syntax directive (BuildKit would fetch one)', () => {
    expect(dockerfile).not.toMatch(/^#\s*syntax\s*=/im);
  });

  it('installs in a Node 24 stage and runs its node binary on the same Debian, without npm', () => {
    const froms = named('FROM');
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const [, debian, stage] = froms[0]!.match(/^FROM node:24-(\w+)-slim AS (\w+)$/i) ?? [];
    expect(stage, froms[0]).toBeDefined();
    expect(froms.at(-1)).toMatch(new RegExp(`^FROM debian:${debian}-slim(\\s+AS\\s+\\w+)?$`, 'i'));
    expect(named('COPY')).toContain(`COPY --from=${stage} /usr/local/bin/node /usr/local/bin/node`);
  });

  it('installs production dependencies only, reproducibly', () => {
    expect(named('RUN').some((l) => /npm ci\b.*--omit=dev/.test(l))).toBe(true);
  });

  it('ships what the code loads at run time', () => {
    const copied = named('COPY').join('\n');
    for (const path of ['package.json', 'bin', 'src', 'workers', 'config', 'node_modules'])
      expect(copied).toMatch(new RegExp(`\\s\\.?/?${path}\\b`));
  });

  it('runs as an unprivileged user with a healthcheck and the lastcall entrypoint', () => {
    const users = named('USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^USER\s+(root|0)(:|\s|$)/i);
    expect(named('HEALTHCHECK')).toHaveLength(1);
    expect(named('HEALTHCHECK')[0]).toContain('/healthz');
    expect(named('ENTRYPOINT')).toHaveLength(1);
    expect(named('ENTRYPOINT')[0]).toMatch(/^ENTRYPOINT \[\s*"node",\s*"bin\/lastcall\.js"\s*\]$/);
  });

  it("has the compose api's healthcheck, command and timings alike", () => {
    const [, options = '', command = ''] =
      named('HEALTHCHECK')[0]!.match(/^HEALTHCHECK\s+(.*?)\s*CMD\s+(\[.*\])$/) ?? [];
    const option = (name: string) => options.match(new RegExp(`--${name}=(\\S+)`))?.[1];
    const api = service('api').healthcheck;
    expect(['CMD', ...(JSON.parse(command) as string[])]).toEqual(api?.test);
    expect({
      interval: option('interval'),
      timeout: option('timeout'),
      start_period: option('start-period'),
      retries: Number(option('retries')),
    }).toEqual({
      interval: api?.interval,
      timeout: api?.timeout,
      start_period: api?.start_period,
      retries: api?.retries,
    });
  });
});

describe('compose interpolation as implemented here', () => {
  it('follows compose: defaults, empty values, required values and $$', () => {
    // Template literals with \${ spell compose's own ${VAR} syntax.
    expect(interpolate(`\${A:-x}/\${A-y}/\${A}/$A/$$A`)).toBe('x/y///$A');
    expect(interpolate(`\${A:-x}|\${A-y}`, { A: '' })).toBe('x|');
    expect(interpolate(`\${A:-x}`, { A: 'set' })).toBe('set');
    expect(() => interpolate(`\${A:?set A first}`)).toThrow('A: set A first');
  });
});
