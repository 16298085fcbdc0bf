import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import type { Logger } from './logger.ts';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

export interface PoolOptions {
  url: string;
  max?: number;
  applicationName: string;
  /** Where to report errors of idle connections (a database restart); without it they go to stderr. */
  logger?: Pick<Logger, 'warn'>;
  /** How long to wait for a connection before failing the query. Default 10 s. */
  connectTimeoutMs?: number;
}

/**
 * A pool that survives the database going away: pg emits `error` for idle clients when the server
 * drops them, and an unhandled `error` would end the process. The pool reconnects on next use.
 */
export function createPool({
  url,
  max = 10,
  applicationName,
  logger,
  connectTimeoutMs = 10_000,
}: PoolOptions) {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    application_name: applicationName,
    connectionTimeoutMillis: connectTimeoutMs,
  });
  pool.on('error', (error) => {
    if (logger) logger.warn({ err: error }, 'an idle database connection failed; it will be replaced');
    else console.warn(`[${applicationName}] an idle database connection failed: ${error.message}`);
  });
  return pool;
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

/**
 * Runs `work` in one transaction on a client of `pool`: committed when it resolves, rolled back when
 * it throws (the error passes on), the client released either way.
 */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
