import { z } from 'zod';
import { tenantIdSchema } from './tenant-id.ts';

/**
 * A document's journey, as the submitter reports it to the gateway (docs/architecture.md §2):
 * `received → queued → submitting → submitted → accepted | accepted_with_warnings | rejected`, plus
 * `uncertain` (sent, answer lost: being reconciled) and `blocked` (its credential is unusable).
 */
export const DOCUMENT_STATUSES = [
  'received',
  'queued',
  'submitting',
  'submitted',
  'uncertain',
  'blocked',
  'accepted',
  'accepted_with_warnings',
  'rejected',
] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

/** Final: nothing moves a document out of these. */
export const FINAL_DOCUMENT_STATUSES = ['accepted', 'accepted_with_warnings', 'rejected'] as const;
export const isFinalDocumentStatus = (status: DocumentStatus): boolean =>
  (FINAL_DOCUMENT_STATUSES as readonly DocumentStatus[]).includes(status);

/** One message of the STS about a document: its code (`S017`, `W008` …), kind and text, verbatim. */
export const stsMessageSchema = z.strictObject({
  code: z.string().min(1).max(20),
  kind: z.enum(['error', 'warning', 'info']),
  text: z.string().max(2000),
});
export type StsMessage = z.infer<typeof stsMessageSchema>;

/**
 * A status change of one operation on one document. `sequence` grows with every change the
 * submitter records for that operation: the gateway applies an event only if it is newer than what it
 * has (a late or repeated event never moves a document backwards) and never leaves a final status.
 */
export const documentStatusEventSchema = z.strictObject({
  /** Unique per event: repeated deliveries of the same event are recognised by it. */
  eventId: z.uuid(),
  tenantId: tenantIdSchema,
  /** The gateway's id of the invoice event (one operation on one document). */
  invoiceId: z.uuid(),
  status: z.enum(DOCUMENT_STATUSES),
  sequence: z.number().int().nonnegative(),
  at: z.iso.datetime(),
  /** Why, in a stable code (`credential-unusable`, `sts-rejected`, `answer-lost` …). */
  cause: z.string().min(1).max(60).optional(),
  /** The STS protocol of the call or file that carried the document, once there is one. */
  protocol: z.string().min(1).max(40).optional(),
  messages: z.array(stsMessageSchema).max(100).optional(),
  /** The document's payment date lies in a period the STS treats as late (W008). */
  late: z.boolean().optional(),
  /**
   * Not a new change: the document's current status said again, because the gateway handed the
   * document over again (it had heard nothing for a while; a status job may have been lost with
   * Redis's data). It carries the sequence of the change it repeats, so the gateway applies it only
   * if it had missed that change, as it would the original, and otherwise ignores it quietly.
   */
  reannounced: z.literal(true).optional(),
});
export type DocumentStatusEvent = z.infer<typeof documentStatusEventSchema>;
