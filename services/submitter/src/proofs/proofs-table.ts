import { sql } from 'drizzle-orm';
import { check, customType, index, integer, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { submitterSchema } from '../db/schema.ts';

/**
 * What a proof is: the exact zip sent (`sent-zip`), the STS's raw answers as the text they came in
 * (`upload-answer` of `inviaFileMtom`, `outcome-answer` of `EsitoInvii`, `single-document-answer`,
 * `reconcile-answer` of `InterrogazionePuntuale`), the unzipped `DettaglioErrori` CSV
 * (`error-detail-csv`) and the `RicevutaPdf` receipt (`receipt-pdf`).
 */
export const PROOF_KINDS = [
  'sent-zip',
  'upload-answer',
  'outcome-answer',
  'error-detail-csv',
  'receipt-pdf',
  'single-document-answer',
  'reconcile-answer',
] as const;
export type ProofKind = (typeof PROOF_KINDS)[number];

const kindList = sql.raw(PROOF_KINDS.map((kind) => `'${kind}'`).join(', '));

/** `bytea` as a Buffer (drizzle has no built-in bytea column for node-postgres). */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * The proofs of what was sent to the STS and what it answered, kept ten years. Append-only: the
 * migration adds a trigger that refuses every UPDATE and TRUNCATE, and a DELETE of a row younger than
 * ten years. A row holds its bytes (the Postgres store) or the key of the object that holds them in
 * an S3 bucket (the S3 store), exactly one of the two. Where the bytes are in the row, the database
 * itself checks that `sha256` and `size` describe them, so a row can never claim a hash its bytes do
 * not have; an object's bytes are checked against the row on every read.
 */
export const proofsTable = submitterSchema.table(
  'proofs',
  {
    id: uuid('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    kind: text('kind').$type<ProofKind>().notNull(),
    /** The STS protocol of the send the proof belongs to, once known. */
    protocol: text('protocol'),
    /** The 730 file (`submitter.files.id`) the proof belongs to, for batch sends. */
    fileId: uuid('file_id'),
    /** The document (the gateway's invoice event id), for single-document sends. */
    invoiceId: uuid('invoice_id'),
    contentType: text('content_type').notNull(),
    /** The bytes, when kept in Postgres; null when they are in the bucket under `objectKey`. */
    bytes: bytea('bytes'),
    /** The S3 object holding the bytes (prefix included, bucket from the configuration). */
    objectKey: text('object_key'),
    /** SHA-256 of `bytes`, lower-case hex. */
    sha256: text('sha256').notNull(),
    size: integer('size').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    index('proofs_protocol').on(table.tenantId, table.protocol, table.kind, table.createdAt),
    index('proofs_file').on(table.fileId),
    check('proofs_kind', sql`${table.kind} in (${kindList})`),
    check(
      'proofs_sha256',
      sql`${table.bytes} is null or ${table.sha256} = encode(sha256(${table.bytes}), 'hex')`,
    ),
    check('proofs_size', sql`${table.bytes} is null or ${table.size} = octet_length(${table.bytes})`),
    check('proofs_bytes_or_object', sql`(${table.bytes} is null) <> (${table.objectKey} is null)`),
    check('proofs_sha256_hex', sql`${table.sha256} ~ '^[0-9a-f]{64}$'`),
  ],
);

export type ProofRow = typeof proofsTable.$inferSelect;
