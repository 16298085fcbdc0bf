import { request } from 'node:http';
import { PostgreSqlContainer } from '@testcontainers/postgresql';
import { RedisContainer } from '@testcontainers/redis';
import { getContainerRuntimeClient } from 'testcontainers';
import type { RunningServer } from './local-binaries.ts';

/** Whether a Docker engine answers; the reason when it does not. */
export async function probeContainerEngine(
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  const dockerHost = env.DOCKER_HOST;
  // An explicit DOCKER_HOST is the only engine we try (testcontainers would otherwise fall back to
  // the default socket, and an operator who names a host means that host).
  if (dockerHost) return pingDockerHost(dockerHost);
  try {
    await getContainerRuntimeClient();
    return undefined;
  } catch (err) {
    return `no Docker engine answers (${err instanceof Error ? err.message : String(err)})`;
  }
}

function pingDockerHost(dockerHost: string): Promise<string | undefined> {
  const target = dockerHost.startsWith('unix://')
    ? { socketPath: dockerHost.slice('unix://'.length) }
    : {
        host: new URL(dockerHost.replace(/^tcp:/, 'http:')).hostname,
        port: Number(new URL(dockerHost.replace(/^tcp:/, 'http:')).port),
      };
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', timeout: 3_000 }, (res) => {
      res.resume();
      resolve(
        res.statusCode === 200 ? undefined : `DOCKER_HOST=${dockerHost} answered HTTP ${res.statusCode}`,
      );
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve(`no Docker engine at DOCKER_HOST=${dockerHost} (${err.message})`));
    req.end();
  });
}

export async function startPostgresContainer(image: string): Promise<RunningServer> {
  const container = await new PostgreSqlContainer(image)
    .withUsername('postgres')
    .withPassword('postgres')
    .withDatabase('postgres')
    .withCommand([
      'postgres',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
    ])
    .start();
  return {
    url: container.getConnectionUri(),
    description: `container ${image} (${container.getHost()}:${container.getPort()})`,
    stop: async () => {
      await container.stop();
    },
  };
}

export async function startRedisContainer(image: string, databases: number): Promise<RunningServer> {
  const container = await new RedisContainer(image)
    .withCommand(['redis-server', '--databases', String(databases)])
    .start();
  return {
    url: container.getConnectionUrl(),
    description: `container ${image} (${container.getHost()}:${container.getFirstMappedPort()})`,
    stop: async () => {
      await container.stop();
    },
  };
}
