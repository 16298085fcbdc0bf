import { pgSchema } from 'drizzle-orm/pg-core';

/** The submitter owns this Postgres schema; no other service reads it. */
export const submitterSchema = pgSchema('submitter');
