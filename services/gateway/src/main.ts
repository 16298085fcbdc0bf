import { startService } from '@sts/shared';
import { buildApp } from './app.ts';
import { gatewayConfigSchema } from './config.ts';
import { createCredentialsClient } from './credentials/credentials-client.ts';
import { credentialsClientOptions } from './credentials/credentials-config.ts';
import { gatewayMigrations } from './db/migrations.ts';

// Configuration, telemetry, logger, migrations, Postgres, Redis, HTTP and shutdown: the shared
// start-up (packages/shared/src/service-runtime.ts). What is the gateway's own is its app.
await startService({
  name: 'gateway',
  configSchema: gatewayConfigSchema,
  migrations: gatewayMigrations,
  // The service-token signing key is checked at boot (a bad or missing one stops it, named).
  completeConfig: (config) => ({ ...config, credentialsClient: credentialsClientOptions(config) }),
  buildApp: ({ config, logger, pool, redis }) =>
    buildApp({ logger, pool, redis, credentials: createCredentialsClient(config.credentialsClient) }),
});
