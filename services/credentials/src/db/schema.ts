import { pgSchema } from 'drizzle-orm/pg-core';

/** The credentials service owns this Postgres schema; no other service reads it. */
export const credentialsSchema = pgSchema('credentials');
