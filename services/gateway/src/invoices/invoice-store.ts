import type { JobPayload } from '@sts/shared';
import type { PoolClient } from 'pg';

/**
 * The SQL of accepting invoice events, in plain `pg` rather than drizzle: a run of up to 1,000
 * events is one `unnest` insert, the hot path of the gateway's throughput (docs/decisions.md). The
 * tables are defined in drizzle (`invoices-table.ts`, `../outbox/outbox-table.ts`).
 */
type Client = Pick<PoolClient, 'query'>;

/** What acceptance needs to know of a stored event. */
export interface ExistingEvent {
  id: string;
  credentialId: string;
  operation: 'insert' | 'update' | 'refund' | 'cancel';
  documentKey: string;
  variant: string;
  chainKey: string;
  chainSequence: number;
  contentHash: Buffer;
  status: string;
  receivedAt: string;
  document: unknown;
}

export interface NewEvent extends ExistingEvent {
  tenantId: string;
  vatNumber: string;
  issueDate: string;
  device: number;
  number: string;
  paymentDate: string;
  patientHash: Buffer | null;
  environment: 'test' | 'production';
  notices: unknown[] | null;
}

/**
 * Every stored event of the given documents and of the chains they belong to (a refund's events sit
 * in the refunded document's chain): enough to place new events and to recognise repeats. An event
 * of one of the documents is in its own chain, so the chains alone find it: no `or document_key`
 * beside them, which made Postgres read every invoice of the tenant on each call (the chain index
 * cannot serve an `or` across two columns), a cost growing with the table (bench/intake.ts).
 */
export const FIND_EVENTS_SQL = `with touched as (
       select distinct chain_key from gateway.invoices
        where tenant_id = $1 and document_key = any($2::text[])
     )
     select id, credential_id as "credentialId", operation, document_key as "documentKey", variant,
            chain_key as "chainKey", chain_sequence as "chainSequence", content_hash as "contentHash",
            status, to_char(received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "receivedAt",
            case when operation = 'cancel' then null else document end as document
       from gateway.invoices
      where tenant_id = $1 and chain_key in (select chain_key from touched)`;

export async function findEventsOf(
  client: Client,
  tenantId: string,
  documentKeys: string[],
): Promise<ExistingEvent[]> {
  const { rows } = await client.query<ExistingEvent>(FIND_EVENTS_SQL, [tenantId, documentKeys]);
  return rows;
}

/**
 * Stores events and the outbox row that carries them in ONE statement (the invoices insert is a
 * data-modifying CTE; the outbox row is written only when it inserted something). In the caller's
 * transaction, a unique violation fails it as two statements would. `onConflictDoNothing` (a single
 * event only) makes a row that any unique index refuses store nothing, outbox row included: the
 * answer says whether anything was stored.
 */
export async function insertEventsWithOutbox(
  client: Client,
  events: readonly NewEvent[],
  outbox: { id: string; createdAt: Date; payload: JobPayload<'documents.accepted'> },
  options: { onConflictDoNothing?: boolean } = {},
): Promise<boolean> {
  if (options.onConflictDoNothing && events.length !== 1)
    throw new Error('onConflictDoNothing stores a single event');
  const column = <T>(pick: (event: NewEvent) => T) => events.map(pick);
  const { rowCount } = await client.query(
    options.onConflictDoNothing ? INSERT_ONE_IF_NEW_SQL : INSERT_EVENTS_SQL,
    [
      column((e) => e.id),
      column((e) => e.tenantId),
      column((e) => e.credentialId),
      column((e) => e.operation),
      column((e) => e.documentKey),
      column((e) => e.variant),
      column((e) => e.chainKey),
      column((e) => e.chainSequence),
      column((e) => e.vatNumber),
      column((e) => e.issueDate),
      column((e) => e.device),
      column((e) => e.number),
      column((e) => e.paymentDate),
      column((e) => e.patientHash),
      column((e) => JSON.stringify(e.document)),
      column((e) => e.contentHash),
      column((e) => e.environment),
      column((e) => (e.notices ? JSON.stringify(e.notices) : null)),
      column((e) => e.receivedAt),
      outbox.id,
      JSON.stringify(outbox.payload),
      outbox.payload.documents.length,
      outbox.createdAt,
    ],
  );
  return rowCount === 1;
}

const insertEventsSql = (onConflict: string) => `with ins as (
       insert into gateway.invoices (
         id, tenant_id, credential_id, operation, document_key, variant, chain_key, chain_sequence,
         vat_number, issue_date, device, number, payment_date, tax_year, patient_hash, document,
         content_hash, environment, notices, status, status_sequence, status_at, received_at)
       select e.id, e.tenant_id, e.credential_id, e.operation, e.document_key, e.variant, e.chain_key,
              e.chain_sequence, e.vat_number, e.issue_date, e.device, e.number, e.payment_date,
              extract(year from e.payment_date)::smallint, e.patient_hash, e.document, e.content_hash,
              e.environment, e.notices, 'received', -1, e.received_at, e.received_at
         from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::int4[], $9::text[], $10::date[], $11::int2[], $12::text[], $13::date[],
                     $14::bytea[], $15::jsonb[], $16::bytea[], $17::text[], $18::jsonb[], $19::timestamptz[])
           as e(id, tenant_id, credential_id, operation, document_key, variant, chain_key, chain_sequence,
                vat_number, issue_date, device, number, payment_date, patient_hash, document,
                content_hash, environment, notices, received_at)${onConflict}
       returning 1
     )
     insert into gateway.outbox (id, payload, documents, created_at)
     select $20::uuid, $21::jsonb, $22::int4, $23::timestamptz where exists (select from ins)`;
const INSERT_EVENTS_SQL = insertEventsSql('');
const INSERT_ONE_IF_NEW_SQL = insertEventsSql('\n       on conflict do nothing');
