import {
  createHttpApp,
  type Logger,
  type Pool,
  postgresCheck,
  type Redis,
  redisCheck,
  registerHealthRoute,
} from '@sts/shared';
import type { FastifyInstance } from 'fastify';

export interface CredentialsDeps {
  logger: Logger;
  pool: Pool;
  redis: Redis;
}

export function buildApp({ logger, pool, redis }: CredentialsDeps): FastifyInstance {
  const app = createHttpApp({ logger });
  registerHealthRoute(app, {
    service: 'credentials',
    checks: { postgres: postgresCheck(pool), redis: redisCheck(redis) },
  });
  return app;
}
