import { fileURLToPath } from 'node:url';
import type { ServiceMigrations } from '@sts/shared';

/** The gateway owns the `gateway` schema; no other service reads it. */
export const gatewayMigrations: ServiceMigrations = {
  schema: 'gateway',
  folder: fileURLToPath(new URL('../../drizzle', import.meta.url)),
};
