import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';

export type Pool = pg.Pool;

export function createPool({
  url,
  max = 10,
  applicationName,
}: {
  url: string;
  max?: number;
  applicationName: string;
}) {
  return new pg.Pool({ connectionString: url, max, application_name: applicationName });
}

/** A service's migrations: its own Postgres schema and its drizzle folder. */
export interface ServiceMigrations {
  schema: string;
  folder: string;
}

/**
 * Applies one service's migrations. The bookkeeping table lives inside the service's own schema, so
 * services never share (or lock) each other's migration state.
 */
export async function runMigrations(url: string, { schema, folder }: ServiceMigrations): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1, application_name: `migrate-${schema}` });
  try {
    await migrate(drizzle(pool), {
      migrationsFolder: folder,
      migrationsSchema: schema,
      migrationsTable: '__migrations',
    });
  } finally {
    await pool.end();
  }
}
