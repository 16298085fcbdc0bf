import { z } from 'zod';
import { CREDENTIAL_STATUSES } from './credential-lease.ts';
import { tenantIdSchema } from './tenant-id.ts';

/**
 * Credential events: the credentials service publishes them on ONE Redis stream; the submitter reads
 * it to stop using a credential the moment it turns unusable, monitors read the expiry warnings.
 * Events carry ids, statuses and reason codes only: never a secret, never a user or codice fiscale.
 */
export const CREDENTIAL_EVENTS_STREAM = 'credentials:events';

export const CREDENTIAL_EVENT_TYPES = [
  'credential.created',
  'credential.updated',
  'credential.deleted',
  /** The status changed; `usable: false` means: stop sending with it now. */
  'credential.status-changed',
  'credential.password-expiring',
  'credential.certificate-expiring',
] as const;
export type CredentialEventType = (typeof CREDENTIAL_EVENT_TYPES)[number];

export const credentialEventSchema = z.strictObject({
  type: z.enum(CREDENTIAL_EVENT_TYPES),
  /** The tenant, as service tokens name it (`tid`). */
  tenantId: tenantIdSchema,
  credentialId: z.uuid(),
  status: z.enum(CREDENTIAL_STATUSES),
  /** Whether senders may use the credential now. */
  usable: z.boolean(),
  /** A stable reason code (`wrong-pincode`, `account-locked` …) when there is one. */
  reason: z.string().min(1).max(120).nullish(),
  at: z.date(),
  /** For expiry warnings: days left and the expected expiry date. */
  daysLeft: z.number().int().optional(),
  expiresAt: z.date().optional(),
});
export type CredentialEvent = z.infer<typeof credentialEventSchema>;

/** The stream entry's fields (Redis stream values are strings), in `XADD` order. */
export function encodeCredentialEvent(event: CredentialEvent): string[] {
  const valid = credentialEventSchema.parse(event);
  const fields = [
    'type',
    valid.type,
    'tenantId',
    valid.tenantId,
    'credentialId',
    valid.credentialId,
    'status',
    valid.status,
    'usable',
    String(valid.usable),
    'at',
    valid.at.toISOString(),
  ];
  if (valid.reason) fields.push('reason', valid.reason);
  if (valid.daysLeft !== undefined) fields.push('daysLeft', String(valid.daysLeft));
  if (valid.expiresAt) fields.push('expiresAt', valid.expiresAt.toISOString());
  return fields;
}

/**
 * Reads a stream entry's flat field list back into an event; `undefined` when the entry is not a
 * valid event (a reader logs it and moves on: one bad entry must not stop the stream).
 */
export function decodeCredentialEvent(fields: readonly string[]): CredentialEvent | undefined {
  const record: Record<string, string | undefined> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i]!] = fields[i + 1]!;
  const { usable, at, daysLeft, expiresAt, ...rest } = record;
  const parsed = credentialEventSchema.safeParse({
    ...rest,
    usable: usable === 'true' ? true : usable === 'false' ? false : usable,
    at: at === undefined ? at : new Date(at),
    ...(daysLeft !== undefined ? { daysLeft: Number(daysLeft) } : {}),
    ...(expiresAt !== undefined ? { expiresAt: new Date(expiresAt) } : {}),
  });
  return parsed.success ? parsed.data : undefined;
}
