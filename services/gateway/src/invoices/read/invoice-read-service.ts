import {
  DOCUMENT_STATUSES,
  type DocumentStatus,
  FINAL_DOCUMENT_STATUSES,
  isFinalDocumentStatus,
  type StsMessage,
} from '@sts/shared';
import { lookupStsCode } from '@sts/sts';
import { and, asc, desc, eq, gte, inArray, lt, lte, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../../db/database.ts';
import { invoiceHistoryTable } from '../invoice-history-table.ts';
import { invoicesTable } from '../invoices-table.ts';
import type { PatientHasher } from '../patient-privacy.ts';
import {
  encodeCursor,
  type InvoiceListQuery,
  type InvoiceOperation,
  type InvoiceSummaryQuery,
} from './invoice-list-query.ts';

/** An STS message as served: verbatim, with what our error catalogue says of its code. */
export interface ExplainedStsMessage extends StsMessage {
  /** Our catalogue knows the code (otherwise the explanation is the generic one of its prefix). */
  known: boolean;
  /** What the code means for the document (`warning`, `document` = rejected for its content …). */
  class: string;
  explanation: { it: string; en: string };
}

export interface InvoiceSummary {
  id: string;
  status: DocumentStatus;
  operation: InvoiceOperation;
  credentialId: string;
  document: { vatNumber: string; issueDate: string; device: number; number: string };
  taxYear: number;
  /** Whether the patient is identified by a codice fiscale or opposed to sending it; never the code. */
  patient: 'identified' | 'opposed' | null;
  receivedAt: string;
  statusAt: string;
  protocol: string | null;
  late: boolean | null;
}

export interface InvoiceHistoryEntry {
  status: DocumentStatus;
  at: string;
  cause: string | null;
  protocol: string | null;
  messages: ExplainedStsMessage[];
  late?: boolean | null;
}

export interface InvoiceDetail extends InvoiceSummary {
  paymentDate: string;
  environment: 'test' | 'production';
  statusCause: string | null;
  messages: ExplainedStsMessage[];
  /** `received` first (at `receivedAt`), then every applied change in order. */
  history: InvoiceHistoryEntry[];
}

/** An item of `POST /v1/invoices/lookup`: the list's item, with why it is in its status. */
export interface InvoiceLookupItem extends InvoiceSummary {
  statusCause: string | null;
  messages: ExplainedStsMessage[];
}

/** What `POST /v1/invoices/lookup` answers: the invoices found (in the order asked) and the ids not found. */
export interface InvoiceLookup {
  items: InvoiceLookupItem[];
  missing: string[];
}

/** One reason for rejections: an STS code, its text (verbatim) and how many documents it rejected. */
export interface RejectionCount {
  code: string;
  message: string | null;
  count: number;
}

/** What `GET /v1/invoices/summary` answers: counts by status, and what rejected documents. */
export interface InvoiceStatusSummary {
  total: number;
  byStatus: Record<DocumentStatus, number>;
  final: number;
  pending: number;
  rejections: RejectionCount[];
  oldestPendingReceivedAt: string | null;
}

/** At most this many ids in one look-up. */
export const MAX_LOOKUP_IDS = 1000;
/** The summary lists this many reasons of rejection, the most frequent first. */
export const MAX_REJECTION_REASONS = 20;

const MESSAGE_TYPES = { error: 'E', warning: 'W', info: undefined } as const;

export function explainMessages(messages: readonly StsMessage[] | null): ExplainedStsMessage[] {
  return (messages ?? []).map((message) => {
    const messageType = MESSAGE_TYPES[message.kind];
    const lookup = lookupStsCode(message.code, 'message', {
      text: message.text,
      ...(messageType ? { messageType } : {}),
    });
    return { ...message, known: lookup.known, class: lookup.class, explanation: lookup.explanation };
  });
}

/** Every column a summary needs; the document (ciphertext included) is never selected, only its patient kind. */
const summaryColumns = {
  id: invoicesTable.id,
  status: invoicesTable.status,
  operation: invoicesTable.operation,
  credentialId: invoicesTable.credentialId,
  vatNumber: invoicesTable.vatNumber,
  issueDate: invoicesTable.issueDate,
  device: invoicesTable.device,
  number: invoicesTable.number,
  taxYear: invoicesTable.taxYear,
  patientKind: sql<string | null>`${invoicesTable.document}->'patient'->>'kind'`,
  receivedAt: invoicesTable.receivedAt,
  statusAt: invoicesTable.statusAt,
  protocol: invoicesTable.protocol,
  late: invoicesTable.late,
  /** The exact `received_at` (microseconds) for the cursor: a JS Date keeps milliseconds only. */
  cursorAt: sql<string>`to_char(${invoicesTable.receivedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
};

interface SummaryRow {
  id: string;
  status: DocumentStatus;
  operation: InvoiceOperation;
  credentialId: string;
  vatNumber: string;
  issueDate: string;
  device: number;
  number: string;
  taxYear: number;
  patientKind: string | null;
  receivedAt: Date;
  statusAt: Date;
  protocol: string | null;
  late: boolean | null;
  cursorAt: string;
}

const summaryOf = (row: SummaryRow): InvoiceSummary => ({
  id: row.id,
  status: row.status,
  operation: row.operation,
  credentialId: row.credentialId,
  document: { vatNumber: row.vatNumber, issueDate: row.issueDate, device: row.device, number: row.number },
  taxYear: row.taxYear,
  patient: row.patientKind === 'identified' || row.patientKind === 'opposed' ? row.patientKind : null,
  receivedAt: row.receivedAt.toISOString(),
  statusAt: row.statusAt.toISOString(),
  protocol: row.protocol,
  late: row.late,
});

const FINAL_LIST = sql.raw(FINAL_DOCUMENT_STATUSES.map((status) => `'${status}'`).join(', '));

/** The conditions of the filters the list and the summary share, the tenant's first. */
function filterConditions(tenantId: string, query: InvoiceSummaryQuery): SQL[] {
  const conditions: SQL[] = [eq(invoicesTable.tenantId, tenantId)];
  if (query.credentialId) conditions.push(eq(invoicesTable.credentialId, query.credentialId));
  if (query.receivedFrom) conditions.push(gte(invoicesTable.receivedAt, query.receivedFrom));
  if (query.receivedTo) conditions.push(lt(invoicesTable.receivedAt, query.receivedTo));
  if (query.issuedFrom) conditions.push(gte(invoicesTable.issueDate, query.issuedFrom));
  if (query.issuedTo) conditions.push(lte(invoicesTable.issueDate, query.issuedTo));
  if (query.taxYear !== undefined) conditions.push(eq(invoicesTable.taxYear, query.taxYear));
  if (query.operation) conditions.push(eq(invoicesTable.operation, query.operation));
  if (query.vatNumber) conditions.push(eq(invoicesTable.vatNumber, query.vatNumber));
  return conditions;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface InvoiceReadService {
  /** One invoice event of the tenant, with its history; null when there is none by that id. */
  get(tenantId: string, id: string): Promise<InvoiceDetail | null>;
  list(tenantId: string, query: InvoiceListQuery): Promise<{ items: InvoiceSummary[]; next: string | null }>;
  /** The tenant's invoice events of these ids (one query), and the ids it has none of. */
  lookup(tenantId: string, ids: readonly string[]): Promise<InvoiceLookup>;
  /** Counts by status and the most frequent reasons of rejection, of the events the filters select. */
  summary(tenantId: string, query: InvoiceSummaryQuery): Promise<InvoiceStatusSummary>;
  /** Whether one of the tenant's invoice events carries this STS protocol. */
  hasProtocol(tenantId: string, protocol: string): Promise<boolean>;
}

export function createInvoiceReadService({
  db,
  patientHasher,
}: {
  db: Database;
  patientHasher: PatientHasher;
}): InvoiceReadService {
  return {
    async get(tenantId, id) {
      if (!UUID.test(id)) return null;
      const [row] = await db
        .select({
          ...summaryColumns,
          paymentDate: invoicesTable.paymentDate,
          environment: invoicesTable.environment,
          statusCause: invoicesTable.statusCause,
          messages: invoicesTable.messages,
        })
        .from(invoicesTable)
        .where(and(eq(invoicesTable.tenantId, tenantId), eq(invoicesTable.id, id)));
      if (!row) return null;
      const changes = await db
        .select()
        .from(invoiceHistoryTable)
        .where(eq(invoiceHistoryTable.invoiceId, id))
        .orderBy(asc(invoiceHistoryTable.sequence), asc(invoiceHistoryTable.recordedAt));
      return {
        ...summaryOf(row as SummaryRow),
        paymentDate: row.paymentDate,
        environment: row.environment,
        statusCause: row.statusCause,
        messages: explainMessages(row.messages),
        history: [
          { status: 'received', at: row.receivedAt.toISOString(), cause: null, protocol: null, messages: [] },
          ...changes.map((change) => ({
            status: change.status,
            at: change.at.toISOString(),
            cause: change.cause,
            protocol: change.protocol,
            messages: explainMessages(change.messages),
            late: change.late,
          })),
        ],
      };
    },

    async list(tenantId, query) {
      const conditions = filterConditions(tenantId, query);
      if (query.statuses) conditions.push(inArray(invoicesTable.status, query.statuses));
      if (query.patient) conditions.push(eq(invoicesTable.patientHash, patientHasher.hash(query.patient)));
      if (query.after) {
        conditions.push(
          sql`(${invoicesTable.receivedAt}, ${invoicesTable.id}) < (${query.after.receivedAt}::timestamptz, ${query.after.id}::uuid)`,
        );
      }
      const rows = (await db
        .select(summaryColumns)
        .from(invoicesTable)
        .where(and(...conditions))
        .orderBy(desc(invoicesTable.receivedAt), desc(invoicesTable.id))
        .limit(query.limit + 1)) as SummaryRow[];
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      return {
        items: page.map(summaryOf),
        next:
          rows.length > query.limit && last ? encodeCursor({ receivedAt: last.cursorAt, id: last.id }) : null,
      };
    },

    async lookup(tenantId, ids) {
      const wanted = [...new Set(ids.map((id) => id.toLowerCase()))];
      const rows = (await db
        .select({
          ...summaryColumns,
          statusCause: invoicesTable.statusCause,
          messages: invoicesTable.messages,
        })
        .from(invoicesTable)
        .where(
          and(
            eq(invoicesTable.tenantId, tenantId),
            // One parameter, one index probe per id: `= any($2::uuid[])`, not a list of 1,000 parameters.
            sql`${invoicesTable.id} = any(${sql.param(wanted)}::uuid[])`,
          ),
        )) as (SummaryRow & { statusCause: string | null; messages: StsMessage[] | null })[];
      const found = new Map(rows.map((row) => [row.id, row]));
      return {
        items: wanted.flatMap((id) => {
          const row = found.get(id);
          return row
            ? [{ ...summaryOf(row), statusCause: row.statusCause, messages: explainMessages(row.messages) }]
            : [];
        }),
        missing: wanted.filter((id) => !found.has(id)),
      };
    },

    async summary(tenantId, query) {
      const where = and(...filterConditions(tenantId, query));
      // One pass over (tenant_id, tax_year, status, received_at) (migration 0007) with a tax year, over
      // (tenant_id, status, received_at) without: counts and the oldest pending need no table row.
      const counts = await db
        .select({
          status: invoicesTable.status,
          count: sql<number>`count(*)::int`,
          oldestPending: sql<
            string | null
          >`to_char(min(${invoicesTable.receivedAt}) filter (where ${invoicesTable.status} not in (${FINAL_LIST})) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
        })
        .from(invoicesTable)
        .where(where)
        .groupBy(invoicesTable.status);
      const byStatus = Object.fromEntries(DOCUMENT_STATUSES.map((status) => [status, 0])) as Record<
        DocumentStatus,
        number
      >;
      let total = 0;
      let final = 0;
      let oldestPending: string | null = null;
      for (const row of counts) {
        byStatus[row.status] = row.count;
        total += row.count;
        if (isFinalDocumentStatus(row.status)) final += row.count;
        if (row.oldestPending && (!oldestPending || row.oldestPending < oldestPending))
          oldestPending = row.oldestPending;
      }
      // The reasons: the error messages of the rejected documents (the index on status finds them),
      // by STS code, each with its most frequent text. A document rejected without any error message
      // (none is expected) counts under its status cause, without text.
      const rejections = byStatus.rejected
        ? ((
            await db.execute<{ code: string; message: string | null; count: number }>(sql`
              select coalesce(m.value->>'code', ${invoicesTable.statusCause}, 'rejected') as "code",
                     mode() within group (order by m.value->>'text') as "message",
                     count(distinct ${invoicesTable.id})::int as "count"
                from ${invoicesTable}
                left join lateral jsonb_array_elements(
                       case when jsonb_typeof(${invoicesTable.messages}) = 'array' then ${invoicesTable.messages} else '[]'::jsonb end
                     ) as m(value) on m.value->>'kind' = 'error'
               where ${and(where, eq(invoicesTable.status, 'rejected'))}
               group by 1
               order by 3 desc, 1
               limit ${MAX_REJECTION_REASONS}`)
          ).rows as RejectionCount[])
        : [];
      return {
        total,
        byStatus,
        final,
        pending: total - final,
        rejections,
        oldestPendingReceivedAt: oldestPending,
      };
    },

    async hasProtocol(tenantId, protocol) {
      const [row] = await db
        .select({ id: invoicesTable.id })
        .from(invoicesTable)
        .where(and(eq(invoicesTable.tenantId, tenantId), eq(invoicesTable.protocol, protocol)))
        .limit(1);
      return !!row;
    },
  };
}
