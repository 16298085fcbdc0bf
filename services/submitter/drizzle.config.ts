import { defineConfig } from 'drizzle-kit';

// `pnpm --filter @sts/submitter exec drizzle-kit generate`: one drizzle file per table (`*-table.ts`
// in the domain folders); migrations land in drizzle/ and run at boot (src/db/migrations.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/**/*-table.ts',
  out: './drizzle',
  schemaFilter: ['submitter'],
});
