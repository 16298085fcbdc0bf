import { probeContainerEngine, startPostgresContainer, startRedisContainer } from './containers.ts';
import { type RunningServer, startLocalPostgres, startLocalRedis } from './local-binaries.ts';

export type StackMode = 'explicit' | 'testcontainers' | 'local';

export interface TestStack {
  /** How each server was obtained, for the run's first line of output. */
  mode: { postgres: StackMode; redis: StackMode };
  /** Superuser URL of the server; tests never use it directly but clone databases through it. */
  postgresAdminUrl: string;
  redisUrl: string;
  describe(): string;
  stop(): Promise<void>;
}

/** Neither an explicit URL, nor an engine, nor binaries: the message lists why each was passed over. */
export class TestStackError extends Error {
  constructor(server: string, reasons: string[]) {
    super(
      `testkit cannot start ${server} for the tests. Tried, in order:\n${reasons.map((r) => `  - ${r}`).join('\n')}\n` +
        'Fix one of them: set an explicit URL, start a Docker engine (bash infra/container-engine.sh ensure), ' +
        'or install the server binaries. Tests never skip for want of infrastructure.',
    );
    this.name = 'TestStackError';
  }
}

export const REDIS_DATABASES = 1024;

interface Candidate {
  mode: StackMode;
  /** Returns why this mode cannot be used, or starts the server. */
  unavailable(): Promise<string | undefined>;
  start(): Promise<RunningServer>;
}

async function startFirst(
  server: string,
  candidates: Candidate[],
): Promise<{ mode: StackMode; server: RunningServer }> {
  const reasons: string[] = [];
  for (const candidate of candidates) {
    const reason = await candidate.unavailable();
    if (reason) {
      reasons.push(`${candidate.mode}: ${reason}`);
      continue;
    }
    try {
      return { mode: candidate.mode, server: await candidate.start() };
    } catch (err) {
      reasons.push(`${candidate.mode}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  throw new TestStackError(server, reasons);
}

/**
 * Starts (or finds) Postgres and Redis for a test run, each in this order: an explicit URL
 * (TEST_DATABASE_URL, TEST_REDIS_URL); testcontainers when a Docker engine answers (images from
 * TESTKIT_POSTGRES_IMAGE, TESTKIT_REDIS_IMAGE); local binaries (TESTKIT_PG_BIN, TESTKIT_REDIS_SERVER).
 * TESTKIT_MODES narrows the list (e.g. `local`). Fails with every reason when nothing starts.
 */
export async function startTestStack(
  env: Record<string, string | undefined> = process.env,
): Promise<TestStack> {
  const allowed = new Set(
    (env.TESTKIT_MODES ?? 'explicit,testcontainers,local').split(',').map((m) => m.trim()),
  );
  let engineProbe: Promise<string | undefined> | undefined;
  const engineUnavailable = () => (engineProbe ??= probeContainerEngine(env));
  const gate = (mode: StackMode, check: () => Promise<string | undefined>) => async () =>
    allowed.has(mode) ? check() : `not in TESTKIT_MODES=${env.TESTKIT_MODES}`;

  const started: RunningServer[] = [];
  const stopAll = async () => {
    await Promise.allSettled(started.map((server) => server.stop()));
  };

  try {
    const postgres = await startFirst('PostgreSQL', [
      {
        mode: 'explicit',
        unavailable: gate('explicit', async () =>
          env.TEST_DATABASE_URL ? undefined : 'TEST_DATABASE_URL is not set',
        ),
        start: async () => ({
          url: env.TEST_DATABASE_URL!,
          description: 'TEST_DATABASE_URL',
          stop: async () => {},
        }),
      },
      {
        mode: 'testcontainers',
        unavailable: gate('testcontainers', engineUnavailable),
        start: () => startPostgresContainer(env.TESTKIT_POSTGRES_IMAGE ?? 'postgres:15'),
      },
      {
        mode: 'local',
        unavailable: gate('local', async () => undefined),
        start: () => startLocalPostgres(env.TESTKIT_PG_BIN ?? '/usr/lib/postgresql/15/bin'),
      },
    ]);
    started.push(postgres.server);

    const redis = await startFirst('Redis', [
      {
        mode: 'explicit',
        unavailable: gate('explicit', async () =>
          env.TEST_REDIS_URL ? undefined : 'TEST_REDIS_URL is not set',
        ),
        start: async () => ({
          url: env.TEST_REDIS_URL!,
          description: 'TEST_REDIS_URL',
          stop: async () => {},
        }),
      },
      {
        mode: 'testcontainers',
        unavailable: gate('testcontainers', engineUnavailable),
        start: () => startRedisContainer(env.TESTKIT_REDIS_IMAGE ?? 'redis:7', REDIS_DATABASES),
      },
      {
        mode: 'local',
        unavailable: gate('local', async () => undefined),
        start: () => startLocalRedis(env.TESTKIT_REDIS_SERVER ?? 'redis-server', REDIS_DATABASES),
      },
    ]);
    started.push(redis.server);

    return {
      mode: { postgres: postgres.mode, redis: redis.mode },
      postgresAdminUrl: postgres.server.url,
      redisUrl: redis.server.url,
      describe: () =>
        `postgres: ${postgres.mode}, ${postgres.server.description}; redis: ${redis.mode}, ${redis.server.description}`,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
