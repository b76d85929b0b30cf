// The compose test's hands on Docker (test/compose.stack.ts, `npm run test:compose`): a Docker
// engine (the one that answers, or one started by the shared scripts beside the clone), the base
// images, a compose project of its own on free host ports, and a clean-up that leaves nothing.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command; never throws for an exit code (the caller asserts it), only for a timeout. */
export function run(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: ROOT, env: options.env ?? process.env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          const why = error.killed ? `did not end within ${timeoutMs / 1000} s` : error.message;
          return reject(new Error(`${file} ${args.join(' ')}: ${why}\n${tail(stderr || stdout)}`));
        }
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** The last lines of a command's output, for an error message. */
export const tail = (text: string, lines = 40): string => text.trimEnd().split('\n').slice(-lines).join('\n');

/** Runs a command that must succeed; its output on failure. */
export async function must(file: string, args: readonly string[], options: Parameters<typeof run>[2] = {}) {
  const result = await run(file, args, options);
  if (result.code !== 0)
    throw new Error(
      `${file} ${args.join(' ')} exited ${result.code}:\n${tail(`${result.stdout}\n${result.stderr}`)}`,
    );
  return result;
}

const engineAnswers = async () =>
  (await run('docker', ['info'], { timeoutMs: 30_000 }).catch(() => undefined))?.code === 0;

/**
 * Where the shared scripts are: LASTCALL_CONTAINER_SCRIPTS, else `shared/containers` beside the
 * clone (CI), else beside the main clone of a git worktree.
 */
function containerScripts(): string | undefined {
  const candidates = [
    process.env.LASTCALL_CONTAINER_SCRIPTS,
    join(dirname(ROOT), 'shared', 'containers'),
    join(dirname(ROOT), '..', 'shared', 'containers'),
  ];
  return candidates.find((dir) => dir !== undefined && existsSync(join(dir, 'start-engine.sh')));
}

/** A Docker engine with Compose >= 2.24: the one that answers, or one the shared scripts start. */
export async function ensureEngine(log: (line: string) => void): Promise<void> {
  if (await engineAnswers()) {
    log('using the Docker engine that answers');
  } else {
    const scripts = containerScripts();
    if (scripts === undefined)
      throw new Error(
        'no Docker engine answers (docker info) and the shared scripts (../shared/containers/start-engine.sh, ' +
          'or LASTCALL_CONTAINER_SCRIPTS) are not there: start Docker, then run npm run test:compose again',
      );
    log(`starting a Docker engine with ${scripts}/start-engine.sh`);
    await must(join(scripts, 'start-engine.sh'), [], { timeoutMs: 600_000 });
  }
  const version = (await must('docker', ['compose', 'version', '--short'])).stdout.trim().replace(/^v/, '');
  const [major = 0, minor = 0] = version.split('.').map((n) => Number.parseInt(n, 10));
  if (major < 2 || (major === 2 && minor < 24))
    throw new Error(`Docker Compose ${version} is too old: the compose file needs Compose >= 2.24`);
}

/**
 * The base images the compose file and the Dockerfile name. Missing ones are built by the shared
 * `local-images.sh` when it is there (no registry here); otherwise compose pulls them.
 */
export async function ensureBaseImages(
  images: readonly string[],
  log: (line: string) => void,
): Promise<void> {
  const missing: string[] = [];
  for (const image of images) {
    if ((await run('docker', ['image', 'inspect', image])).code !== 0) missing.push(image);
  }
  if (missing.length === 0) return;
  const scripts = containerScripts();
  if (scripts === undefined) {
    log(`base images missing (${missing.join(', ')}): compose pulls them`);
    return;
  }
  log(`building the missing base images (${missing.join(', ')}) with local-images.sh (3 min or so)`);
  await must(join(scripts, 'local-images.sh'), [], { timeoutMs: 1_200_000 });
}

/** `count` distinct TCP ports free on every interface right now (compose publishes on 0.0.0.0). */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '0.0.0.0', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (port > 0 && !ports.includes(port)) ports.push(port);
  }
  return ports;
}

export interface ComposeContainer {
  readonly Service: string;
  readonly State: string;
  readonly Health: string;
  readonly ExitCode: number;
  readonly Name: string;
}

/** `docker compose ps --format json`: one object a line (Compose >= 2.21) or one array (older). */
export function parsePs(stdout: string): ComposeContainer[] {
  const text = stdout.trim();
  if (text === '') return [];
  if (text.startsWith('[')) return JSON.parse(text) as ComposeContainer[];
  return text.split('\n').map((line) => JSON.parse(line) as ComposeContainer);
}

/** What Docker still holds for a compose project: containers, volumes, networks. */
export async function leftovers(
  project: string,
): Promise<{ containers: string[]; volumes: string[]; networks: string[] }> {
  const label = `label=com.docker.compose.project=${project}`;
  const names = async (args: string[]) =>
    (await must('docker', [...args, '--filter', label, '--format', '{{.Name}}'])).stdout
      .split('\n')
      .filter(Boolean);
  const containers = (await must('docker', ['ps', '-a', '--filter', label, '--format', '{{.Names}}'])).stdout
    .split('\n')
    .filter(Boolean);
  return { containers, volumes: await names(['volume', 'ls']), networks: await names(['network', 'ls']) };
}

/** Removes by label whatever `compose down -v` left of a project (a last resort after a failure). */
export async function removeLeftovers(project: string): Promise<void> {
  const left = await leftovers(project);
  if (left.containers.length > 0) await run('docker', ['rm', '-f', '-v', ...left.containers]);
  if (left.volumes.length > 0) await run('docker', ['volume', 'rm', '-f', ...left.volumes]);
  if (left.networks.length > 0) await run('docker', ['network', 'rm', ...left.networks]);
}
