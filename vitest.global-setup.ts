import { credentialsMigrations } from '@sts/credentials/migrations';
import { gatewayMigrations } from '@sts/gateway/migrations';
import { runMigrations } from '@sts/shared';
import { submitterMigrations } from '@sts/submitter/migrations';
import { createGlobalSetup } from '@sts/testkit';

// Every service's migrations run once, on the template each test file's database is cloned from.
export default createGlobalSetup({
  migrate: async (databaseUrl) => {
    for (const migrations of [gatewayMigrations, credentialsMigrations, submitterMigrations]) {
      await runMigrations(databaseUrl, migrations);
    }
  },
});
