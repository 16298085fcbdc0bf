import {
  type Clock,
  type DocumentStatus,
  type DocumentStatusEvent,
  isFinalDocumentStatus,
  type StsMessage,
  systemClock,
} from '@sts/shared';
import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { invoiceHistoryTable } from '../invoice-history-table.ts';
import { type InvoiceRow, invoicesTable } from '../invoices-table.ts';

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
 * - `repeated`: an event with this id was already recorded (a redelivery);
 * - `stale`: not newer than the invoice's status (`sequence` ≤ the one it has): late or out of order;
 * - `final`: the invoice is accepted, accepted with warnings or rejected, and never leaves it.
 */
export type StatusOutcome = 'applied' | 'unknown-invoice' | 'repeated' | 'stale' | 'final';

export interface StatusChange {
  applied: boolean;
  outcome: StatusOutcome;
  event: DocumentStatusEvent;
  /** The invoice after the event (unchanged when not applied); null for an unknown invoice. */
  invoice: InvoiceRow | null;
  /** Its status before the event; null for an unknown invoice. */
  previous: InvoiceStatus | null;
}

const statusOf = (row: InvoiceRow): InvoiceStatus => ({
  status: row.status,
  sequence: row.statusSequence,
  at: row.statusAt,
  cause: row.statusCause,
  protocol: row.protocol,
  messages: row.messages,
  late: row.late,
});

/**
 * Applies one `document.status` event in one transaction: the invoice row is locked (events for one
 * invoice are applied one at a time), then the event is applied only when the invoice belongs to the
 * event's tenant, the event id is new, `event.sequence` is above the invoice's `status_sequence` and
 * its status is not final. An applied event updates the status columns and is recorded in
 * `invoice_history`; one that is not applied changes nothing and is not recorded (docs/decisions.md,
 * "Status events"). A protocol, once known, is kept when a later event carries none, and so is `late`.
 */
export async function applyStatusEvent(
  db: Database,
  event: DocumentStatusEvent,
  { clock = systemClock }: { clock?: Clock } = {},
): Promise<StatusChange> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(invoicesTable)
      .where(and(eq(invoicesTable.id, event.invoiceId), eq(invoicesTable.tenantId, event.tenantId)))
      .for('update');
    if (!row) return { applied: false, outcome: 'unknown-invoice', event, invoice: null, previous: null };
    const previous = statusOf(row);
    const unchanged = (outcome: StatusOutcome): StatusChange => ({
      applied: false,
      outcome,
      event,
      invoice: row,
      previous,
    });

    const [seen] = await tx
      .select({ eventId: invoiceHistoryTable.eventId })
      .from(invoiceHistoryTable)
      .where(eq(invoiceHistoryTable.eventId, event.eventId));
    if (seen) return unchanged('repeated');
    if (event.sequence <= row.statusSequence) return unchanged('stale');
    if (isFinalDocumentStatus(row.status)) return unchanged('final');

    const at = new Date(event.at);
    const [updated] = await tx
      .update(invoicesTable)
      .set({
        status: event.status,
        statusSequence: event.sequence,
        statusAt: at,
        statusCause: event.cause ?? null,
        protocol: event.protocol ?? row.protocol,
        messages: event.messages ?? null,
        late: event.late ?? row.late,
      })
      .where(eq(invoicesTable.id, row.id))
      .returning();
    await tx.insert(invoiceHistoryTable).values({
      eventId: event.eventId,
      invoiceId: row.id,
      status: event.status,
      sequence: event.sequence,
      at,
      cause: event.cause ?? null,
      protocol: event.protocol ?? null,
      messages: event.messages ?? null,
      late: event.late ?? null,
      recordedAt: clock(),
    });
    return { applied: true, outcome: 'applied', event, invoice: updated ?? row, previous };
  });
}
