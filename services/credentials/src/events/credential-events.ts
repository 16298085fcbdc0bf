import {
  CREDENTIAL_EVENTS_STREAM,
  type CredentialEvent,
  decodeCredentialEvent,
  encodeCredentialEvent,
  type Logger,
  type Redis,
} from '@sts/shared';

/** The stream and the event's shape are a contract with the submitter: `packages/shared/src/contracts`. */
export { CREDENTIAL_EVENTS_STREAM, type CredentialEvent };

/** Roughly how many events the stream keeps (XADD MAXLEN ~). */
const STREAM_MAX_LENGTH = 100_000;

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
  return {
    async publish(event) {
      let fields: string[];
      try {
        fields = encodeCredentialEvent(event);
      } catch (err) {
        // A bug, not an input error: the change is committed, so the caller's answer stands.
        onFailure?.();
        logger.error({ err, eventType: event.type }, 'credential event does not match its contract');
        return;
      }
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

/**
 * Reads events back as they sit on the stream (for tests and tools): oldest first, each checked
 * against the contract the submitter decodes with.
 */
export async function readCredentialEvents(redis: Redis, count = 1000): Promise<Record<string, string>[]> {
  const entries = await redis.xrange(CREDENTIAL_EVENTS_STREAM, '-', '+', 'COUNT', count);
  return entries.map(([id, fields]) => {
    if (!decodeCredentialEvent(fields)) throw new Error(`credential event ${id} does not match the contract`);
    const event: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) event[fields[i]!] = fields[i + 1]!;
    return event;
  });
}
