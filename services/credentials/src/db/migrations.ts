import { fileURLToPath } from 'node:url';
import type { ServiceMigrations } from '@sts/shared';

/** The credentials owns the `credentials` schema; no other service reads it. */
export const credentialsMigrations: ServiceMigrations = {
  schema: 'credentials',
  folder: fileURLToPath(new URL('../../drizzle', import.meta.url)),
};
