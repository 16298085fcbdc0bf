import type { Pool } from '@sts/shared';
import { drizzle, type NodePgDatabase, type NodePgQueryResultHKT } from 'drizzle-orm/node-postgres';
import type { PgDatabase } from 'drizzle-orm/pg-core';

export type Database = NodePgDatabase<Record<string, never>>;
/** The database or a transaction on it: store functions take either, first. */
export type Queryable = PgDatabase<NodePgQueryResultHKT, Record<string, never>>;

export const createDatabase = (pool: Pool): Database => drizzle(pool);
