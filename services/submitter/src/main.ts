import {
  createLogger,
  createPool,
  createRedis,
  createShutdown,
  loadConfigOrExit,
  runMigrations,
  startTelemetry,
} from '@sts/shared';
import { buildApp } from './app.ts';
import { submitterConfigSchema } from './config.ts';
import { submitterMigrations } from './db/migrations.ts';

const config = loadConfigOrExit(submitterConfigSchema);
const telemetry = startTelemetry({ serviceName: 'submitter', endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
const logger = createLogger({ name: 'submitter', level: config.LOG_LEVEL });
const shutdown = createShutdown({ logger, timeoutMs: config.SHUTDOWN_TIMEOUT_MS });
shutdown.register('telemetry', () => telemetry.shutdown());

await runMigrations(config.DATABASE_URL, submitterMigrations);
const pool = createPool({
  url: config.DATABASE_URL,
  max: config.DATABASE_POOL_MAX,
  applicationName: 'submitter',
  logger,
});
shutdown.register('postgres', () => pool.end());
const redis = createRedis(config.REDIS_URL, 'submitter');
shutdown.register('redis', () => redis.quit());

const app = buildApp({ logger, pool, redis });
shutdown.register('http', () => app.close());
shutdown.onSignals();

await app.listen({ host: config.HOST, port: config.PORT });
