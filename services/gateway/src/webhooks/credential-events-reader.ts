import { hostname } from 'node:os';
import {
  CREDENTIAL_EVENTS_STREAM,
  type CredentialEvent,
  decodeCredentialEvent,
  type Logger,
  type Redis,
} from '@sts/shared';
import type { WebhookEventInput } from './webhook-events.ts';

/** The consumer group the gateway replicas share: each stream entry is handled by one of them. */
export const CREDENTIAL_EVENTS_GROUP = 'gateway-webhooks';
const BATCH = 100;
/** An entry a replica took but did not acknowledge (it died) is taken over after this long. */
const CLAIM_IDLE_MS = 60_000;

/** The webhook a credential event becomes, if any: unusable credentials and expiry warnings. */
export function webhookEventOfCredentialEvent(
  event: CredentialEvent,
  entryId: string,
): WebhookEventInput | undefined {
  const type =
    event.type === 'credential.status-changed' && !event.usable
      ? 'credential.invalid'
      : event.type === 'credential.password-expiring' || event.type === 'credential.certificate-expiring'
        ? event.type
        : undefined;
  if (!type) return undefined;
  return {
    tenantId: event.tenantId,
    type,
    dedupeKey: `credential-event-${entryId}`,
    data: {
      credentialId: event.credentialId,
      status: event.status,
      usable: event.usable,
      ...(event.reason ? { reason: event.reason } : {}),
      ...(event.daysLeft !== undefined ? { daysLeft: event.daysLeft } : {}),
      ...(event.expiresAt ? { expiresAt: event.expiresAt.toISOString() } : {}),
      at: event.at.toISOString(),
    },
  };
}

type StreamEntries = [id: string, fields: string[]][];

/**
 * One pass over the credentials service's event stream with the consumer group `gateway-webhooks`
 * (made at the stream's end the first time, so old events are not sent): entries another replica
 * took and left unacknowledged for a minute are claimed, then new ones are read, without blocking
 * (the connection is shared). Each entry is acknowledged once its webhooks are recorded (emitting is
 * idempotent by the entry id), or at once when it needs none or is not a valid event.
 */
export function createCredentialEventsReader(deps: {
  redis: Redis;
  logger: Logger;
  emit: (event: WebhookEventInput) => Promise<unknown>;
  consumer?: string;
}) {
  const { redis, logger } = deps;
  const consumer = deps.consumer ?? `${hostname()}-${process.pid}`;
  let groupReady = false;

  async function ensureGroup() {
    if (groupReady) return;
    try {
      await redis.xgroup('CREATE', CREDENTIAL_EVENTS_STREAM, CREDENTIAL_EVENTS_GROUP, '$', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
    groupReady = true;
  }

  async function handle(entries: StreamEntries) {
    for (const [entryId, fields] of entries) {
      const event = decodeCredentialEvent(fields);
      if (!event) logger.warn({ entryId }, 'credential event does not match its contract: skipped');
      const webhook = event && webhookEventOfCredentialEvent(event, entryId);
      if (webhook) await deps.emit(webhook);
      await redis.xack(CREDENTIAL_EVENTS_STREAM, CREDENTIAL_EVENTS_GROUP, entryId);
    }
  }

  const reader = {
    ensureGroup,
    /** Handles what is there now; returns how many entries it handled. */
    async pass(): Promise<number> {
      try {
        return await reader.passOnce();
      } catch (error) {
        // The group is gone (Redis lost its data): it is created again at the next pass.
        if (String((error as Error).message).includes('NOGROUP')) groupReady = false;
        throw error;
      }
    },

    async passOnce(): Promise<number> {
      await ensureGroup();
      let handled = 0;
      const claimed = (await redis.xautoclaim(
        CREDENTIAL_EVENTS_STREAM,
        CREDENTIAL_EVENTS_GROUP,
        consumer,
        CLAIM_IDLE_MS,
        '0-0',
        'COUNT',
        BATCH,
      )) as [string, StreamEntries, string[]?];
      await handle(claimed[1] ?? []);
      handled += claimed[1]?.length ?? 0;
      for (let round = 0; round < 10; round++) {
        const read = (await redis.xreadgroup(
          'GROUP',
          CREDENTIAL_EVENTS_GROUP,
          consumer,
          'COUNT',
          BATCH,
          'STREAMS',
          CREDENTIAL_EVENTS_STREAM,
          '>',
        )) as [string, StreamEntries][] | null;
        const entries = read?.[0]?.[1] ?? [];
        await handle(entries);
        handled += entries.length;
        if (entries.length < BATCH) break;
      }
      return handled;
    },
  };
  return reader;
}
