import { runMigrations } from '@sts/shared';
import { createGlobalSetup } from '@sts/testkit';
import { credentialsMigrations } from './services/credentials/src/db/migrations.ts';
import { gatewayMigrations } from './services/gateway/src/db/migrations.ts';
import { submitterMigrations } from './services/submitter/src/db/migrations.ts';

// Every service's migrations run once, on the template each test file's database is cloned from.
export default createGlobalSetup({
  migrate: async (databaseUrl) => {
    for (const migrations of [gatewayMigrations, credentialsMigrations, submitterMigrations]) {
      await runMigrations(databaseUrl, migrations);
    }
  },
});
