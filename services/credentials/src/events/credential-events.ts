import type { Logger, Redis } from '@sts/shared';

/**
 * Credential events go out on ONE Redis stream. Senders (the submitter) read it to stop using a
 * credential the moment it turns unusable; monitors read the expiry warnings. Events carry ids,
 * statuses and reason codes only: never a secret, never a user or codice fiscale.
 */
export const CREDENTIAL_EVENTS_STREAM = 'credentials:events';
/** Roughly how many events the stream keeps (XADD MAXLEN ~). */
const STREAM_MAX_LENGTH = 100_000;

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

export interface CredentialEvent {
  type: CredentialEventType;
  tenantId: string;
  credentialId: string;
  status: string;
  /** Whether senders may use the credential now. */
  usable: boolean;
  /** A stable reason code (`wrong-pincode`, `account-locked` …) when there is one. */
  reason?: string | null;
  at: Date;
  /** For expiry warnings: days left and the expected expiry date. */
  daysLeft?: number;
  expiresAt?: Date;
}

export interface CredentialEvents {
  publish(event: CredentialEvent): Promise<void>;
}

/**
 * Publishes after the database change committed. A failed publish is logged and retried once; the
 * lease check is the real guard (an unusable credential gets no lease), the event only makes
 * senders stop sooner.
 */
export function createCredentialEvents({
  redis,
  logger,
  onFailure,
}: {
  redis: Redis;
  logger: Logger;
  onFailure?: () => void;
}): CredentialEvents {
  const fieldsOf = (event: CredentialEvent) => {
    const fields: string[] = [
      'type',
      event.type,
      'tenantId',
      event.tenantId,
      'credentialId',
      event.credentialId,
      'status',
      event.status,
      'usable',
      String(event.usable),
      'at',
      event.at.toISOString(),
    ];
    if (event.reason) fields.push('reason', event.reason);
    if (event.daysLeft !== undefined) fields.push('daysLeft', String(event.daysLeft));
    if (event.expiresAt) fields.push('expiresAt', event.expiresAt.toISOString());
    return fields;
  };
  return {
    async publish(event) {
      const fields = fieldsOf(event);
      for (let attempt = 1; attempt <= 2; attempt++) {
        try {
          await redis.xadd(CREDENTIAL_EVENTS_STREAM, 'MAXLEN', '~', STREAM_MAX_LENGTH, '*', ...fields);
          return;
        } catch (err) {
          if (attempt === 2) {
            onFailure?.();
            logger.error(
              { err, eventType: event.type, credentialId: event.credentialId },
              'credential event not published',
            );
          }
        }
      }
    },
  };
}

/** Reads events back (for tests and tools): oldest first. */
export async function readCredentialEvents(redis: Redis, count = 1000): Promise<Record<string, string>[]> {
  const entries = await redis.xrange(CREDENTIAL_EVENTS_STREAM, '-', '+', 'COUNT', count);
  return entries.map(([, fields]) => {
    const event: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) event[fields[i]!] = fields[i + 1]!;
    return event;
  });
}
