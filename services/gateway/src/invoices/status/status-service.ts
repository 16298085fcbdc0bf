import {
  type Clock,
  type DocumentStatus,
  type DocumentStatusEvent,
  isFinalDocumentStatus,
  type StsMessage,
  systemClock,
} from '@sts/shared';
import { inArray, sql } from 'drizzle-orm';
import type { Database, Queryable } from '../../db/database.ts';
import { invoiceHistoryTable } from '../invoice-history-table.ts';
import { invoicesTable } from '../invoices-table.ts';

/** The latest status of an invoice event, as its row holds it. */
export interface InvoiceStatus {
  status: DocumentStatus;
  sequence: number;
  at: Date;
  cause: string | null;
  protocol: string | null;
  messages: StsMessage[] | null;
  late: boolean | null;
}

/**
 * Why an event was or was not applied:
 * - `applied`: newer than what the invoice had, and the invoice was not final;
 * - `unknown-invoice`: no invoice with that id belongs to the event's tenant (none at all, or
 *   another tenant's);
 * - `repeated`: an event with this id was already recorded (a redelivery), or came earlier in the batch;
 * - `stale`: not newer than the invoice's status (`sequence` ≤ the one it has): late or out of order;
 * - `final`: the invoice is accepted, accepted with warnings or rejected, and never leaves it.
 */
export type StatusOutcome = 'applied' | 'unknown-invoice' | 'repeated' | 'stale' | 'final';

export interface StatusChange {
  applied: boolean;
  outcome: StatusOutcome;
  event: DocumentStatusEvent;
  /** The invoice's status after the event (unchanged when not applied); null for an unknown invoice. */
  current: InvoiceStatus | null;
  /** Its status before the event; null for an unknown invoice. */
  previous: InvoiceStatus | null;
}

export interface AppliedStatusEvents<FollowUp> {
  /** One per event, in the order they were given. */
  changes: StatusChange[];
  /** What `withApplied` returned (undefined without it). */
  followUp: FollowUp | undefined;
}

/** The status after `event` applied to `status`: a protocol, and `late`, once known, are kept. */
const after = (status: InvoiceStatus, event: DocumentStatusEvent): InvoiceStatus => ({
  status: event.status,
  sequence: event.sequence,
  at: new Date(event.at),
  cause: event.cause ?? null,
  protocol: event.protocol ?? status.protocol,
  messages: event.messages ?? null,
  late: event.late ?? status.late,
});

/**
 * Applies a batch of `document.status` events in one transaction, with set-based statements: the
 * invoices they name are locked (`FOR UPDATE`, in id order: two batches naming the same invoices
 * wait for each other and never deadlock), the event ids already recorded are read, then each
 * invoice's events are taken in sequence order: an event applies only when the invoice belongs to the
 * event's tenant, its id is new, its `sequence` is above the invoice's (as the earlier events of the
 * batch left it) and the invoice is not final. The invoices are updated to the last change applied
 * (one statement), every applied change is recorded in `invoice_history` (one statement), and
 * `withApplied` (the webhooks) runs with the applied changes in the same transaction. A batch applied
 * twice changes nothing the second time: every event is `repeated` (docs/decisions.md, "Status out").
 */
export async function applyStatusEvents<FollowUp = undefined>(
  db: Database,
  events: readonly DocumentStatusEvent[],
  {
    clock = systemClock,
    withApplied,
  }: {
    clock?: Clock;
    withApplied?: (applied: StatusChange[], tx: Queryable) => Promise<FollowUp>;
  } = {},
): Promise<AppliedStatusEvents<FollowUp>> {
  if (events.length === 0) return { changes: [], followUp: undefined };
  return db.transaction(async (tx) => {
    const invoiceIds = [...new Set(events.map((event) => event.invoiceId))].sort();
    const rows = await tx
      .select({
        id: invoicesTable.id,
        tenantId: invoicesTable.tenantId,
        status: invoicesTable.status,
        sequence: invoicesTable.statusSequence,
        at: invoicesTable.statusAt,
        cause: invoicesTable.statusCause,
        protocol: invoicesTable.protocol,
        messages: invoicesTable.messages,
        late: invoicesTable.late,
      })
      .from(invoicesTable)
      .where(inArray(invoicesTable.id, invoiceIds))
      .orderBy(invoicesTable.id)
      .for('update');
    const recorded = await tx
      .select({ eventId: invoiceHistoryTable.eventId })
      .from(invoiceHistoryTable)
      .where(
        inArray(
          invoiceHistoryTable.eventId,
          events.map((event) => event.eventId),
        ),
      );
    const seen = new Set(recorded.map((row) => row.eventId));
    const invoices = new Map(rows.map(({ id, tenantId, ...status }) => [id, { tenantId, status }]));

    // Each invoice's events in sequence order (stable: the batch's order among equal sequences).
    const order = events
      .map((event, index) => ({ event, index }))
      .sort((a, b) => a.event.sequence - b.event.sequence || a.index - b.index);
    const changes: StatusChange[] = new Array(events.length);
    const applied: StatusChange[] = [];
    for (const { event, index } of order) {
      const invoice = invoices.get(event.invoiceId);
      if (!invoice || invoice.tenantId !== event.tenantId) {
        changes[index] = { applied: false, outcome: 'unknown-invoice', event, current: null, previous: null };
        continue;
      }
      const previous = invoice.status;
      const unchanged = (outcome: StatusOutcome): StatusChange => ({
        applied: false,
        outcome,
        event,
        current: previous,
        previous,
      });
      if (seen.has(event.eventId)) changes[index] = unchanged('repeated');
      else if (event.sequence <= previous.sequence) changes[index] = unchanged('stale');
      else if (isFinalDocumentStatus(previous.status)) changes[index] = unchanged('final');
      else {
        invoice.status = after(previous, event);
        const change = {
          applied: true,
          outcome: 'applied' as const,
          event,
          current: invoice.status,
          previous,
        };
        changes[index] = change;
        applied.push(change);
      }
      seen.add(event.eventId);
    }
    if (applied.length === 0) return { changes, followUp: undefined };

    const updated = new Set(applied.map((change) => change.event.invoiceId));
    const latest = [...updated].map((id) => {
      const { status } = invoices.get(id)!;
      return { ...status, id, at: status.at.toISOString() };
    });
    await tx.execute(sql`
      update ${invoicesTable} as i
         set status = v.status,
             status_sequence = v.sequence,
             status_at = v.at,
             status_cause = v.cause,
             protocol = v.protocol,
             messages = v.messages,
             late = v.late,
             next_resync_at = null -- a changed status restarts the resync's backoff (outbox-redelivery.ts)
        from jsonb_to_recordset(${JSON.stringify(latest)}::jsonb)
             as v(id uuid, status text, sequence bigint, at timestamptz, cause text, protocol text,
                  messages jsonb, late boolean)
       where i.id = v.id and i.status_sequence < v.sequence`);
    const recordedAt = clock();
    await tx.insert(invoiceHistoryTable).values(
      applied.map(({ event }) => ({
        eventId: event.eventId,
        invoiceId: event.invoiceId,
        status: event.status,
        sequence: event.sequence,
        at: new Date(event.at),
        cause: event.cause ?? null,
        protocol: event.protocol ?? null,
        messages: event.messages ?? null,
        late: event.late ?? null,
        recordedAt,
      })),
    );
    const followUp = withApplied ? await withApplied(applied, tx) : undefined;
    return { changes, followUp };
  });
}

/** One event, as a batch of one (tests and tools that apply a single change). */
export async function applyStatusEvent(
  db: Database,
  event: DocumentStatusEvent,
  options: { clock?: Clock } = {},
): Promise<StatusChange> {
  const { changes } = await applyStatusEvents(db, [event], options);
  return changes[0]!;
}
