import {
  type Clock,
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
  systemClock,
} from '@sts/shared';
import type { FastifyInstance } from 'fastify';
import { apiKeyAuth } from './api-keys/api-key-auth.ts';
import { createApiKeyService } from './api-keys/api-key-service.ts';
import { registerWhoamiRoute } from './api-keys/whoami-route.ts';
import { createDatabase } from './db/database.ts';

export interface GatewayDeps {
  logger: Logger;
  pool: Pool;
  redis: Redis;
  clock?: Clock;
  /** The prom-client registry served on `GET /metrics`; one of its own by default. */
  metrics?: Registry;
}

export function buildApp({
  logger,
  pool,
  redis,
  clock = systemClock,
  metrics = createServiceRegistry('gateway'),
}: GatewayDeps): FastifyInstance {
  const db = createDatabase(pool);
  const apiKeys = createApiKeyService({ db, clock });
  const app = createHttpApp({ logger });
  registerHealthRoute(app, {
    service: 'gateway',
    checks: { postgres: postgresCheck(pool), redis: redisCheck(redis) },
  });
  registerMetricsRoute(app, metrics);
  // The public API (/v1/...): every route behind an API key, each declaring the scopes it needs.
  void app.register(async (api) => {
    await api.register(apiKeyAuth, { apiKeys });
    registerWhoamiRoute(api);
  });
  return app;
}
