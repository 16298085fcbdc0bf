import { hostname } from 'node:os';
import {
  CREDENTIAL_EVENTS_STREAM,
  type CredentialEvent,
  decodeCredentialEvent,
  type Logger,
  type Redis,
} from '@sts/shared';

/**
 * The submitter's reader of the credentials service's event stream (`CREDENTIAL_EVENTS_STREAM`),
 * with the consumer group `submitter` that every replica shares: each entry is handled by one
 * replica, and acknowledged only once `onEvent` has returned. An entry whose handler threw stays
 * pending and is handled again once it has been pending for `claimIdleMs`, by whichever replica
 * claims it first (XAUTOCLAIM), so entries a dead replica took are handled too. An entry delivered
 * `maxDeliveries` times is given up (logged and acknowledged): one poisoned event must not be
 * retried for ever. An entry that is not a valid event is logged by id and acknowledged.
 *
 * The same approach as the gateway's reader (services/gateway/src/webhooks/credential-events-reader.ts),
 * written again here: a service never imports another, and the gateway's is bound to its webhooks
 * and stops a pass at the first failure, where this one goes on with the next entry.
 *
 * `pass()` handles what is there now without blocking (for `registerBackgroundTask`'s `run`);
 * `start()`/`stop()` run passes every `intervalMs` on their own (never two at once) for a worker
 * without an app.
 */

/** The consumer group the submitter replicas share. */
export const SUBMITTER_CREDENTIAL_EVENTS_GROUP = 'submitter';

export interface CredentialEventsReaderOptions {
  redis: Redis;
  logger: Pick<Logger, 'warn' | 'error'>;
  /** What to do with an event (forget a cached profile, stop sending with the credential …). */
  onEvent(event: CredentialEvent, entryId: string): Promise<void> | void;
  /** This replica's name in the group (default `<host>-<pid>`). */
  consumer?: string;
  /** An entry unacknowledged this long is claimed again (default 60 s). */
  claimIdleMs?: number;
  /** Deliveries after which an entry whose handler keeps failing is given up (default 10). */
  maxDeliveries?: number;
  /** Entries per read (default 100). */
  batchSize?: number;
  /** Where a new group starts: `$` (events from now on, default) or `0` (the whole stream). */
  startAt?: '$' | '0';
  /** Interval of `start()`'s passes (default 1 s). */
  intervalMs?: number;
}

export interface CredentialEventsReader {
  /** Creates the consumer group if it does not exist yet. */
  ensureGroup(): Promise<void>;
  /** Handles what is there now (claimed, then new entries); how many entries it acknowledged. */
  pass(): Promise<number>;
  start(): void;
  /** Stops `start()`'s passes, waiting for one in progress. */
  stop(): Promise<void>;
}

type StreamEntries = [id: string, fields: string[]][];

export function createCredentialEventsReader(options: CredentialEventsReaderOptions): CredentialEventsReader {
  const { redis, logger } = options;
  const consumer = options.consumer ?? `${hostname()}-${process.pid}`;
  const claimIdleMs = options.claimIdleMs ?? 60_000;
  const maxDeliveries = options.maxDeliveries ?? 10;
  const batch = options.batchSize ?? 100;
  const stream = CREDENTIAL_EVENTS_STREAM;
  const group = SUBMITTER_CREDENTIAL_EVENTS_GROUP;
  let groupReady = false;

  async function ensureGroup() {
    if (groupReady) return;
    try {
      await redis.xgroup('CREATE', stream, group, options.startAt ?? '$', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
    groupReady = true;
  }

  /** How many times each claimed entry has been delivered (XPENDING over their range). */
  async function deliveries(entries: StreamEntries): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (entries.length === 0) return counts;
    const pending = (await redis.xpending(
      stream,
      group,
      entries[0]![0],
      entries.at(-1)![0],
      entries.length,
      consumer,
    )) as [id: string, consumer: string, idleMs: number, deliveries: number][];
    for (const [id, , , count] of pending) counts.set(id, Number(count));
    return counts;
  }

  /** Handles entries one by one; a failing handler leaves its entry pending and the next goes on. */
  async function handle(entries: StreamEntries, counts?: Map<string, number>): Promise<number> {
    let acknowledged = 0;
    for (const [entryId, fields] of entries) {
      // XAUTOCLAIM answers an entry deleted from the stream as having no fields: nothing to handle.
      const event = fields ? decodeCredentialEvent(fields) : undefined;
      if (!event) {
        if (fields) logger.warn({ entryId }, 'credential event does not match its contract: skipped');
      } else {
        try {
          await options.onEvent(event, entryId);
        } catch (err) {
          const delivered = counts?.get(entryId) ?? 1;
          if (delivered < maxDeliveries) {
            logger.warn(
              { err, entryId, type: event.type, credentialId: event.credentialId, delivered },
              'credential event handler failed: the event stays pending and is handled again',
            );
            continue;
          }
          logger.error(
            { err, entryId, type: event.type, credentialId: event.credentialId, delivered },
            'credential event handler failed again and again: the event is given up',
          );
        }
      }
      await redis.xack(stream, group, entryId);
      acknowledged++;
    }
    return acknowledged;
  }

  /** A pass; a group gone (Redis lost its data) is created again at the next one. */
  async function pass(): Promise<number> {
    try {
      return await passOnce();
    } catch (error) {
      if (String((error as Error).message).includes('NOGROUP')) groupReady = false;
      throw error;
    }
  }

  async function passOnce(): Promise<number> {
    await ensureGroup();
    let acknowledged = 0;
    // Entries pending too long (a dead replica's, or ours whose handler failed), then new ones.
    let cursor = '0-0';
    for (let round = 0; round < 10; round++) {
      const [next, claimed] = (await redis.xautoclaim(
        stream,
        group,
        consumer,
        claimIdleMs,
        cursor,
        'COUNT',
        batch,
      )) as [string, StreamEntries, string[]?];
      acknowledged += await handle(claimed ?? [], await deliveries(claimed ?? []));
      cursor = next;
      if (cursor === '0-0') break;
    }
    for (let round = 0; round < 10; round++) {
      const read = (await redis.xreadgroup(
        'GROUP',
        group,
        consumer,
        'COUNT',
        batch,
        'STREAMS',
        stream,
        '>',
      )) as [string, StreamEntries][] | null;
      const entries = read?.[0]?.[1] ?? [];
      acknowledged += await handle(entries);
      if (entries.length < batch) break;
    }
    return acknowledged;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  const tick = () => {
    if (running || stopped) return;
    running = pass()
      .then(
        () => undefined,
        (err: unknown) => logger.error({ err }, 'credential events pass failed'),
      )
      .finally(() => {
        running = undefined;
      });
  };

  return {
    ensureGroup,
    pass,
    start() {
      if (!stopped) return;
      stopped = false;
      tick();
      timer = setInterval(tick, options.intervalMs ?? 1_000);
      timer.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
