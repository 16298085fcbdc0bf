import { fileURLToPath } from 'node:url';
import type { ServiceMigrations } from '@sts/shared';

/** The submitter owns the `submitter` schema; no other service reads it. */
export const submitterMigrations: ServiceMigrations = {
  schema: 'submitter',
  folder: fileURLToPath(new URL('../../drizzle', import.meta.url)),
};
