import { pgSchema } from 'drizzle-orm/pg-core';

/** The gateway owns this Postgres schema; no other service reads it. */
export const gatewaySchema = pgSchema('gateway');
