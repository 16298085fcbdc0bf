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
import { registerCredentialRoutes } from './credentials/credential-routes.ts';
import type { CredentialsClient } from './credentials/credentials-client.ts';
import { createDatabase } from './db/database.ts';
import { registerApiDocs } from './http/api-docs.ts';
import {
  apiKeyRateLimit,
  DEFAULT_PROTECTION,
  type ProtectionOptions,
  registerOverloadProtection,
} from './http/protection.ts';

export interface GatewayDeps {
  logger: Logger;
  pool: Pool;
  redis: Redis;
  clock?: Clock;
  /** The prom-client registry served on `GET /metrics`; one of its own by default. */
  metrics?: Registry;
  /** Rate limit per API key and overload thresholds (src/http/protection.ts); generous by default. */
  protection?: ProtectionOptions;
  /** The credentials service's client: `/v1/credentials…` are registered only when it is given. */
  credentials?: CredentialsClient;
}

export function buildApp({
  logger,
  pool,
  redis,
  clock = systemClock,
  metrics = createServiceRegistry('gateway'),
  protection = DEFAULT_PROTECTION,
  credentials,
}: GatewayDeps): FastifyInstance {
  const db = createDatabase(pool);
  const apiKeys = createApiKeyService({ db, clock });
  const app = createHttpApp({ logger });
  // Before any route: overload shedding (503), zod validation and the OpenAPI docs (/docs).
  registerOverloadProtection(app, protection.overload);
  registerApiDocs(app);
  registerHealthRoute(app, {
    service: 'gateway',
    checks: { postgres: postgresCheck(pool), redis: redisCheck(redis) },
  });
  registerMetricsRoute(app, metrics);
  // The public API (/v1/...): every route behind an API key, each declaring the scopes it needs.
  void app.register(async (api) => {
    await api.register(apiKeyAuth, { apiKeys });
    await api.register(apiKeyRateLimit, { redis, perMinute: protection.rateLimitPerMinute });
    registerWhoamiRoute(api);
    if (credentials) registerCredentialRoutes(api, { credentials });
  });
  return app;
}
