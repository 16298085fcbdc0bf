import { startService } from '@sts/shared';
import { buildApp } from './app.ts';
import { submitterConfigSchema } from './config.ts';
import { submitterMigrations } from './db/migrations.ts';

// Configuration, telemetry, logger, migrations, Postgres, Redis, HTTP and shutdown: the shared
// start-up (packages/shared/src/service-runtime.ts). What is the submitter's own is its app.
await startService({
  name: 'submitter',
  configSchema: submitterConfigSchema,
  migrations: submitterMigrations,
  buildApp: ({ logger, pool, redis }) => buildApp({ logger, pool, redis }),
});
