import type { FastifyInstance } from 'fastify';
import type { Pool } from './postgres.ts';
import type { Redis } from './redis.ts';

export type HealthCheck = () => Promise<void>;

export const postgresCheck =
  (pool: Pool): HealthCheck =>
  async () => {
    await pool.query('select 1');
  };

export const redisCheck =
  (redis: Redis): HealthCheck =>
  async () => {
    const answer = await redis.ping();
    if (answer !== 'PONG') throw new Error(`unexpected PING answer ${answer}`);
  };

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout(check: HealthCheck): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
      CHECK_TIMEOUT_MS,
    );
    check()
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}

/**
 * `GET /health`: 200 when every dependency answers, 503 naming the ones that do not. The body says
 * which dependency failed and why, never connection strings.
 */
export function registerHealthRoute(
  app: FastifyInstance,
  { service, checks }: { service: string; checks: Record<string, HealthCheck> },
): void {
  // Probes call this every few seconds: only failures are worth a log line.
  app.get('/health', { logLevel: 'warn' }, async (_request, reply) => {
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check);
          return [name, { status: 'up' }] as const;
        } catch (err) {
          return [name, { status: 'down', error: err instanceof Error ? err.message : String(err) }] as const;
        }
      }),
    );
    const healthy = results.every(([, result]) => result.status === 'up');
    return reply.code(healthy ? 200 : 503).send({
      service,
      status: healthy ? 'up' : 'down',
      checks: Object.fromEntries(results),
    });
  });
}
