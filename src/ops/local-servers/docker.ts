// Private PostgreSQL and Redis containers, for machines with a Docker engine and no local
// binaries. Ports are published on 127.0.0.1 only, chosen by Docker; containers are removed
// at teardown (and by --rm if the engine stops them first).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { PrivateService } from './local.ts';
import { postgresAnswers, redisAnswers, waitFor } from './probe.ts';

const execFileAsync = promisify(execFile);

export async function dockerAnswers(): Promise<boolean> {
  try {
    await execFileAsync('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

async function runContainer(image: string, containerPort: number, env: string[], command: string[]) {
  // `docker run` pulls the image first if needed: allow for a slow network.
  const { stdout } = await execFileAsync(
    'docker',
    [
      'run',
      '-d',
      '--rm',
      '-p',
      `127.0.0.1::${containerPort}`,
      ...env.flatMap((e) => ['-e', e]),
      image,
      ...command,
    ],
    { timeout: 300_000 },
  );
  const id = stdout.trim();
  const remove = async () => {
    await execFileAsync('docker', ['rm', '-f', id], { timeout: 30_000 }).catch(() => {});
  };
  try {
    const { stdout: mapping } = await execFileAsync('docker', ['port', id, `${containerPort}/tcp`]);
    const port = /:(\d+)\s*$/m.exec(mapping)?.[1];
    if (!port) throw new Error(`docker port gave no host port for ${image}: ${mapping}`);
    return { id, port: Number(port), remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

export async function startDockerPostgres(): Promise<PrivateService> {
  const image = 'postgres:15-alpine';
  const c = await runContainer(image, 5432, ['POSTGRES_HOST_AUTH_METHOD=trust'], ['-c', 'fsync=off']);
  const url = `postgres://postgres@127.0.0.1:${c.port}/postgres`;
  try {
    // The image's init runs a first server on a socket only, then restarts on TCP.
    await waitFor(`PostgreSQL container ${c.id.slice(0, 12)}`, () => postgresAnswers(url), 120_000);
  } catch (error) {
    await c.remove();
    throw error;
  }
  return { url, description: `PostgreSQL container ${c.id.slice(0, 12)} (${image})`, stop: c.remove };
}

export async function startDockerRedis(): Promise<PrivateService> {
  const image = 'redis:7-alpine';
  const c = await runContainer(image, 6379, [], ['redis-server', '--save', '', '--appendonly', 'no']);
  const url = `redis://127.0.0.1:${c.port}`;
  try {
    await waitFor(`Redis container ${c.id.slice(0, 12)}`, () => redisAnswers(url, 1_000), 60_000);
  } catch (error) {
    await c.remove();
    throw error;
  }
  return { url, description: `Redis container ${c.id.slice(0, 12)} (${image})`, stop: c.remove };
}
