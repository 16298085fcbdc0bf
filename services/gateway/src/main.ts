import { startService } from '@sts/shared';
import { buildApp } from './app.ts';
import { gatewayConfigSchema } from './config.ts';
import { gatewayMigrations } from './db/migrations.ts';

// Configuration, telemetry, logger, migrations, Postgres, Redis, HTTP and shutdown: the shared
// start-up (packages/shared/src/service-runtime.ts). What is the gateway's own is its app.
await startService({
  name: 'gateway',
  configSchema: gatewayConfigSchema,
  migrations: gatewayMigrations,
  buildApp: ({ logger, pool, redis }) => buildApp({ logger, pool, redis }),
});
