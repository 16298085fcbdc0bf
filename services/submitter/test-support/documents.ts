import { createHash, randomUUID } from 'node:crypto';
import type { Clock, DocumentStatusEvent, JobPayload, Pool, Redis, StsMessage } from '@sts/shared';
import { vatNumberCheckDigit } from '@sts/shared/identifiers';
import type { EncryptedTaxCode, ExpenseDocument } from '@sts/sts';
import { Queue } from 'bullmq';
import { takeInDocuments } from '../src/documents/document-intake.ts';
import type { DocumentState } from '../src/documents/documents-table.ts';

/**
 * Helpers for the submitter's own tests (beside src/): valid documents, their intake through the real
 * `takeInDocuments`, and reads of what the tables and the BullMQ queues hold.
 */

export const CLINIC_VAT = `0123456789${vatNumberCheckDigit('0123456789')}`;
/** Any single-line base64: enough where nothing decrypts or packs the document. */
export const PLACEHOLDER_CIPHERTEXT = 'QUJDREVGR0hJSktMTU5PUA==';

/** A valid document (paid 2025-06-…, one SR line), its patient's codice fiscale already encrypted. */
export function expenseDocument(
  number: number,
  overrides: Partial<ExpenseDocument<EncryptedTaxCode>> & { ciphertext?: string } = {},
): ExpenseDocument<EncryptedTaxCode> {
  const { ciphertext = PLACEHOLDER_CIPHERTEXT, ...rest } = overrides;
  const day = String(1 + (number % 28)).padStart(2, '0');
  return {
    id: { vatNumber: CLINIC_VAT, issueDate: `2025-06-${day}`, device: 1, number: `FT2025/${number}` },
    operation: 'insert',
    paymentDate: `2025-06-${day}`,
    patient: { kind: 'identified', taxCode: { encrypted: ciphertext } },
    traceablePayment: true,
    documentType: 'invoice',
    lines: [{ expenseType: 'SR', amount: `${100 + number}.50`, vatNature: 'N4' }],
    ...rest,
  };
}

/** The gateway's keyed hash of a document's identity, as far as the submitter cares: stable per id. */
export const documentKeyOf = (document: ExpenseDocument<EncryptedTaxCode>) =>
  createHash('sha256')
    .update(`${document.id.vatNumber}|${document.id.issueDate}|${document.id.device}|${document.id.number}`)
    .digest('hex')
    .slice(0, 40);

export interface Accepted {
  credentialId: string;
  document: ExpenseDocument<EncryptedTaxCode>;
  /** Position in the document's chain of operations (default 1). */
  sequence?: number;
  invoiceId?: string;
}

/** A `documents.accepted` payload as the gateway's relay enqueues it. */
export function acceptedPayload(
  tenantId: string,
  entries: readonly Accepted[],
): JobPayload<'documents.accepted'> {
  return {
    outboxId: randomUUID(),
    tenantId,
    documents: entries.map((entry) => ({
      invoiceId: entry.invoiceId ?? randomUUID(),
      credentialId: entry.credentialId,
      documentKey: documentKeyOf(entry.document),
      sequence: entry.sequence ?? 1,
      document:
        entry.document as unknown as JobPayload<'documents.accepted'>['documents'][number]['document'],
    })),
  };
}

/** Takes the documents in through the real intake (`queued`, one `queued` event each); their invoice ids. */
export async function takeIn(
  deps: { pool: Pool; clock: Clock },
  tenantId: string,
  entries: readonly Accepted[],
): Promise<string[]> {
  const payload = acceptedPayload(tenantId, entries);
  await takeInDocuments(deps, payload);
  return payload.documents.map((document) => document.invoiceId);
}

export interface DocumentRow {
  invoiceId: string;
  state: DocumentState;
  stateSequence: number;
  cause: string | null;
  fileId: string | null;
  submissionId: string | null;
  protocol: string | null;
  messages: StsMessage[] | null;
  submittingSince: Date | null;
}

export async function documentRows(
  pool: Pool,
  invoiceIds: readonly string[],
): Promise<Map<string, DocumentRow>> {
  const { rows } = await pool.query<DocumentRow>(
    `select invoice_id as "invoiceId", state, state_sequence as "stateSequence", cause, file_id as "fileId",
            submission_id as "submissionId", protocol, messages, submitting_since as "submittingSince"
       from submitter.documents where invoice_id = any($1::uuid[])`,
    [invoiceIds],
  );
  return new Map(rows.map((row) => [row.invoiceId, row]));
}

/** The status events still in the outbox, oldest first. */
export async function outboxEvents(pool: Pool): Promise<DocumentStatusEvent[]> {
  const { rows } = await pool.query<{ payload: DocumentStatusEvent }>(
    'select payload from submitter.status_outbox order by created_at, id',
  );
  return rows.map((row) => row.payload);
}

/** Every job of a BullMQ queue, in any state, as `{ id, data, state }`. */
export async function queueJobs(
  redis: Redis,
  queueName: string,
): Promise<{ id: string; data: Record<string, unknown>; state: string }[]> {
  const queue = new Queue(queueName, { connection: redis });
  try {
    const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed']);
    return Promise.all(
      jobs.map(async (job) => ({ id: job.id!, data: job.data, state: await job.getState() })),
    );
  } finally {
    await queue.close();
  }
}
