import { z } from 'zod';

/**
 * A tenant id, as service tokens carry it (`tid`) and every contract between services names it. The
 * gateway issues UUIDs, but no service assumes it: a tenant id is text. One length limit for all of
 * them, so what a service token may name, an event or a job can carry.
 */
export const MAX_TENANT_ID_LENGTH = 256;
export const tenantIdSchema = z.string().min(1).max(MAX_TENANT_ID_LENGTH);
