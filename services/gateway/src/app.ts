import {
  createHttpApp,
  createServiceRegistry,
  type Logger,
  type Pool,
  postgresCheck,
  type Redis,
  type Registry,
  redisCheck,
  registerHealthRoute,
  registerMetricsRoute,
} from '@sts/shared';
import type { FastifyInstance } from 'fastify';

export interface GatewayDeps {
  logger: Logger;
  pool: Pool;
  redis: Redis;
  /** The prom-client registry served on `GET /metrics`; one of its own by default. */
  metrics?: Registry;
}

export function buildApp({
  logger,
  pool,
  redis,
  metrics = createServiceRegistry('gateway'),
}: GatewayDeps): FastifyInstance {
  const app = createHttpApp({ logger });
  registerHealthRoute(app, {
    service: 'gateway',
    checks: { postgres: postgresCheck(pool), redis: redisCheck(redis) },
  });
  registerMetricsRoute(app, metrics);
  return app;
}
