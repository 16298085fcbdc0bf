import type { Clock, DocumentStatusEvent } from '@sts/shared';
import type { Database, Queryable } from '../../db/database.ts';
import { applyStatusEvents, type StatusChange } from './status-service.ts';

/** An event that made its transaction fail, alone, and why (the root cause, without values). */
export interface FailedStatusEvent {
  event: DocumentStatusEvent;
  /** `<error name> [<SQLSTATE or code>]: <message>`, one line, at most 300 characters. */
  reason: string;
}

export interface IsolatedStatusEvents<FollowUp> {
  /** One per event, in the order given; undefined for an event that failed. */
  changes: (StatusChange | undefined)[];
  /** What `withApplied` returned, one per transaction committed. */
  followUps: FollowUp[];
  /** The events that failed alone, in the order given. */
  failed: FailedStatusEvent[];
}

/** The deepest error of a `cause` chain (drizzle wraps the driver's error, whose message has no parameters). */
const rootCause = (error: unknown): unknown => {
  let current = error;
  for (let depth = 0; depth < 10 && current instanceof Error && current.cause !== undefined; depth++) {
    current = current.cause;
  }
  return current;
};

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * The failure is the database's or the network's, not an event's: no split can isolate it, and the
 * job's retry is the remedy. SQLSTATE classes 08 (connection), 40 (serialization, deadlock), 53
 * (resources), 57 (operator intervention, shutdown), 58 (system); 55P03 (lock not available); the
 * socket errors; node-postgres's own connection errors (no code).
 */
export function isTransientFailure(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 10; depth++) {
    const code = codeOf(current);
    if (code && /^[0-9A-Z]{5}$/.test(code) && (/^(08|40|53|57|58)/.test(code) || code === '55P03'))
      return true;
    if (
      code &&
      /^E(CONNREFUSED|CONNRESET|TIMEDOUT|PIPE|NOTFOUND|AI_AGAIN|HOSTUNREACH|NETUNREACH)$/.test(code)
    )
      return true;
    const message = current instanceof Error ? current.message : '';
    if (
      /Connection terminated|timeout exceeded when trying to connect|connection error|Cannot use a pool after calling end/i.test(
        message,
      )
    )
      return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}

/** Why an event failed, without the query's parameters (the root cause is the driver's error). */
export function failureReason(error: unknown): string {
  const root = rootCause(error);
  const name = root instanceof Error ? root.name : typeof root;
  const code = codeOf(root);
  const message = (root instanceof Error ? root.message : String(root)).replace(/\s+/g, ' ').trim();
  return `${name}${code ? ` [${code}]` : ''}: ${message}`.slice(0, 300);
}

/**
 * Applies a batch of status events (`applyStatusEvents`, one transaction) and, should it fail for
 * a reason of the events (not a transient one, which is rethrown for the job's retry), applies it
 * again in halves, each in its own transaction, recursively: every good event is applied and each
 * event that fails alone is returned with its reason. The events are split in sequence order
 * (stable), so an invoice's events in the first half all come before its events in the second,
 * which is applied after: no event is made stale by the split. Idempotent as `applyStatusEvents`
 * is: what a half committed is `repeated` when the job is retried.
 */
export async function applyStatusEventsIsolating<FollowUp = undefined>(
  db: Database,
  events: readonly DocumentStatusEvent[],
  options: {
    clock?: Clock;
    withApplied?: (applied: StatusChange[], tx: Queryable) => Promise<FollowUp>;
  } = {},
): Promise<IsolatedStatusEvents<FollowUp>> {
  const changes: (StatusChange | undefined)[] = new Array(events.length);
  const followUps: FollowUp[] = [];
  const failures: { index: number; reason: string }[] = [];

  const apply = async (part: readonly number[]): Promise<void> => {
    if (part.length === 0) return;
    try {
      const result = await applyStatusEvents(
        db,
        part.map((index) => events[index]!),
        options,
      );
      part.forEach((index, position) => {
        changes[index] = result.changes[position];
      });
      if (result.followUp !== undefined) followUps.push(result.followUp);
    } catch (error) {
      if (isTransientFailure(error)) throw error;
      if (part.length === 1) {
        failures.push({ index: part[0]!, reason: failureReason(error) });
        return;
      }
      const middle = Math.ceil(part.length / 2);
      await apply(part.slice(0, middle));
      await apply(part.slice(middle));
    }
  };

  // Sequence order, stable: a split never puts an invoice's later event before an earlier one.
  const order = events
    .map((event, index) => ({ sequence: event.sequence, index }))
    .sort((a, b) => a.sequence - b.sequence || a.index - b.index)
    .map(({ index }) => index);
  await apply(order);
  const failed = failures
    .sort((a, b) => a.index - b.index)
    .map(({ index, reason }) => ({ event: events[index]!, reason }));
  return { changes, followUps, failed };
}

/**
 * A `document.status` job some of whose events could not be applied, the others having been: the
 * job fails (BullMQ retries it, then keeps it in its failed set with this message, 14 days), naming
 * each bad event by its ids, sequence and status, and the reason (never the event's contents).
 */
export class StatusEventsNotAppliedError extends Error {
  override readonly name = 'StatusEventsNotAppliedError';
  readonly failed: readonly FailedStatusEvent[];
  constructor(failed: readonly FailedStatusEvent[], total: number) {
    const listed = failed
      .slice(0, 10)
      .map(
        ({ event, reason }) =>
          `event ${event.eventId} (tenant ${event.tenantId}, invoice ${event.invoiceId}, sequence ${event.sequence}, ${event.status}): ${reason}`,
      );
    const more = failed.length > 10 ? [`and ${failed.length - 10} more (each logged)`] : [];
    super(
      `${failed.length} of ${total} status events could not be applied (the others were): ${[...listed, ...more].join('; ')}`,
    );
    this.failed = failed;
  }
}
