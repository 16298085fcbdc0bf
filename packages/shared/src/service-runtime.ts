import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { type configFragments, loadConfigOrExit } from './config.ts';
import { createLogger, type Logger } from './logger.ts';
import { createPool, type Pool, runMigrations, type ServiceMigrations } from './postgres.ts';
import { createRedis, type Redis } from './redis.ts';
import { createShutdown, type Shutdown } from './shutdown.ts';
import { startTelemetry } from './telemetry.ts';

/** What the shared start-up reads of every service's configuration (from `configFragments`). */
export interface BaseServiceConfig {
  LOG_LEVEL: z.infer<typeof configFragments.service.LOG_LEVEL>;
  SHUTDOWN_TIMEOUT_MS: number;
  HOST: string;
  PORT: number;
  DATABASE_URL: string;
  DATABASE_POOL_MAX: number;
  REDIS_URL: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
}

/** What the shared start-up has opened for the service, by the time it builds its app. */
export interface ServiceRuntime<Config> {
  config: Config;
  logger: Logger;
  pool: Pool;
  redis: Redis;
  shutdown: Shutdown;
}

// biome-ignore lint/suspicious/noExplicitAny: a schema's input type is whatever the environment gives.
type ConfigSchema = z.ZodType<BaseServiceConfig, any>;

export interface ServiceStartup<Schema extends ConfigSchema, Config extends BaseServiceConfig> {
  name: string;
  configSchema: Schema;
  /**
   * Completes the parsed configuration (e.g. development stand-ins for missing keys); may throw a
   * `ConfigError`. Its warnings are logged at boot.
   */
  completeConfig?: (config: z.infer<Schema>) => Config & { developmentWarnings?: readonly string[] };
  migrations: ServiceMigrations;
  /**
   * Builds the service (`buildApp`) from the runtime. Background tasks belong to the app it returns
   * (started when it is ready, stopped when it closes), so tests start exactly what `main.ts` starts.
   */
  buildApp(runtime: ServiceRuntime<Config>): FastifyInstance | Promise<FastifyInstance>;
}

/**
 * The one way a service starts: configuration (every bad variable named, then exit 1), telemetry,
 * logger, migrations, Postgres, Redis, the app, HTTP; SIGTERM/SIGINT close it all in reverse order.
 */
export async function startService<
  Schema extends ConfigSchema,
  Config extends z.infer<Schema> = z.infer<Schema>,
>(startup: ServiceStartup<Schema, Config>): Promise<ServiceRuntime<Config>> {
  type Completed = Config & { developmentWarnings?: readonly string[] };
  const config = loadConfigOrExit<Schema, Completed>(
    startup.configSchema,
    startup.completeConfig ?? ((parsed) => parsed as Completed),
  );
  const telemetry = startTelemetry({
    serviceName: startup.name,
    endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  const logger = createLogger({ name: startup.name, level: config.LOG_LEVEL });
  for (const warning of config.developmentWarnings ?? []) logger.warn(warning);
  const shutdown = createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
  shutdown.register('telemetry', () => telemetry.shutdown());

  await runMigrations(config.DATABASE_URL, startup.migrations);
  const pool = createPool({
    url: config.DATABASE_URL,
    max: config.DATABASE_POOL_MAX,
    applicationName: startup.name,
    logger,
  });
  shutdown.register('postgres', () => pool.end());
  const redis = createRedis(config.REDIS_URL, startup.name);
  shutdown.register('redis', () => redis.quit());

  const runtime: ServiceRuntime<Config> = { config, logger, pool, redis, shutdown };
  const app = await startup.buildApp(runtime);
  shutdown.register('http', () => app.close());
  shutdown.onSignals();
  await app.listen({ host: config.HOST, port: config.PORT });
  return runtime;
}
