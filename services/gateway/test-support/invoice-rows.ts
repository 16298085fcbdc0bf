import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { DocumentStatus, Pool, StsMessage } from '@sts/shared';
import { createDatabase } from '../src/db/database.ts';
import { type InvoiceRow, invoicesTable } from '../src/invoices/invoices-table.ts';
import type { PatientHasher } from '../src/invoices/patient-privacy.ts';

export interface TestInvoiceRow {
  tenantId: string;
  id?: string;
  credentialId?: string;
  operation?: 'insert' | 'update' | 'refund' | 'cancel';
  vatNumber?: string;
  issueDate?: string;
  device?: number;
  number?: string;
  paymentDate?: string;
  taxYear?: number;
  /** The patient's codice fiscale (hashed with `hasher`, "encrypted" as random base64), or opposed. */
  patient?: { taxCode: string; hasher: PatientHasher } | 'opposed';
  environment?: 'test' | 'production';
  receivedAt?: Date | string;
  status?: DocumentStatus;
  statusSequence?: number;
  statusAt?: Date | string;
  statusCause?: string | null;
  protocol?: string | null;
  messages?: StsMessage[] | null;
  late?: boolean | null;
}

let counter = 0;

/**
 * Writes one realistic `gateway.invoices` row straight into the table, as the acceptance of an
 * invoice event would (a document with its patient as ciphertext: random base64, never the code),
 * for tests of what reads the table. Every field has a plausible default.
 */
export async function insertInvoiceRow(pool: Pool, row: TestInvoiceRow): Promise<InvoiceRow> {
  counter += 1;
  const id = row.id ?? randomUUID();
  const operation = row.operation ?? 'insert';
  const identity = {
    vatNumber: row.vatNumber ?? '12345678903',
    issueDate: row.issueDate ?? '2026-03-02',
    device: row.device ?? 1,
    number: row.number ?? `F-${counter}-${id.slice(0, 6)}`,
  };
  const paymentDate = row.paymentDate ?? identity.issueDate;
  const patient =
    row.patient === 'opposed' || row.patient === undefined
      ? { kind: 'opposed' as const }
      : { kind: 'identified' as const, taxCode: { encrypted: randomBytes(256).toString('base64') } };
  const key = (text: string) => createHash('sha256').update(text).digest('base64url');
  const documentKey = key(`${row.tenantId} ${JSON.stringify(identity)}`);
  const receivedAt = new Date(row.receivedAt ?? '2026-03-02T09:00:00Z');
  const [inserted] = await createDatabase(pool)
    .insert(invoicesTable)
    .values({
      id,
      tenantId: row.tenantId,
      credentialId: row.credentialId ?? '0b0d7e39-5a51-4c3c-8f1e-2f0c3c4d5e6f',
      operation,
      documentKey,
      chainKey: documentKey,
      chainSequence: counter,
      vatNumber: identity.vatNumber,
      issueDate: identity.issueDate,
      device: identity.device,
      number: identity.number,
      paymentDate,
      taxYear: row.taxYear ?? Number(paymentDate.slice(0, 4)),
      patientHash: typeof row.patient === 'object' ? row.patient.hasher.hash(row.patient.taxCode) : null,
      document: {
        id: identity,
        operation,
        paymentDate,
        patient,
        traceablePayment: true,
        documentType: 'invoice',
        lines: [{ expenseType: 'SP', amount: '80.00', vatNature: 'N4' }],
      },
      contentHash: createHash('sha256').update(id).digest(),
      environment: row.environment ?? 'test',
      status: row.status ?? 'received',
      statusSequence: row.statusSequence ?? -1,
      statusAt: new Date(row.statusAt ?? receivedAt),
      statusCause: row.statusCause ?? null,
      protocol: row.protocol ?? null,
      messages: row.messages ?? null,
      late: row.late ?? null,
      receivedAt,
    })
    .returning();
  return inserted!;
}
