import { createHash } from 'node:crypto';
import { z } from 'zod';
import { documentStatusEventSchema } from './document-status.ts';
import { tenantIdSchema as tenantId } from './tenant-id.ts';

/**
 * Every BullMQ job the services exchange, defined once: its queue, who produces and who consumes it,
 * the schema of its payload, the rule that makes its job id (so that a producer that runs twice never
 * enqueues twice), and its retry policy. Handlers are typed from it (`JobHandlers<'submitter'>`), and
 * `startJobWorkers` refuses to boot when a consumed job type has no handler.
 *
 * Job data carries ids and SanitelCF ciphertext only: never a secret, never a codice fiscale in clear
 * (the payload schemas enforce what they can, e.g. an identified patient's tax code must be the
 * encrypted form).
 */

export const SERVICE_NAMES = ['gateway', 'credentials', 'submitter'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Exponential backoff from `delayMs`, with a random share (`jitter`, 0–1) taken off each wait. */
  backoff: { type: 'exponential' | 'fixed'; delayMs: number; jitter: number };
}

export interface JobDefinition<
  Payload extends z.ZodType = z.ZodType,
  Consumer extends ServiceName = ServiceName,
  Producers extends readonly ServiceName[] = readonly ServiceName[],
> {
  /** The BullMQ queue (one per job type, so each scales and is watched on its own). */
  queue: string;
  producers: Producers;
  consumer: Consumer;
  payload: Payload;
  /** Deterministic: the same payload (or the same work) always gives the same id. No `:` (BullMQ). */
  jobId: (payload: z.infer<Payload>) => string;
  retry: RetryPolicy;
}

const id = z.uuid();
const traceContext = z
  .strictObject({ traceparent: z.string().max(55), tracestate: z.string().max(512).optional() })
  .optional();

/** A codice fiscale after SanitelCF encryption: base64 of the RSA ciphertext, one line. */
const encryptedTaxCode = z.strictObject({ encrypted: z.base64().min(16) });
/**
 * The document of `packages/sts` (`ExpenseDocument`, English model), patient already encrypted.
 * Checked here only where privacy depends on it; the submitter validates the rest with
 * `validateDocument` before building anything from it.
 */
const encryptedDocument = z.looseObject({
  operation: z.enum(['insert', 'update', 'refund', 'cancel']),
  patient: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('identified'), taxCode: encryptedTaxCode }),
    z.strictObject({ kind: z.literal('opposed') }),
  ]),
});

/** Keeps each entry's types (payload, consumer, producers) for the handler and producer types. */
const job = <
  Payload extends z.ZodType,
  const Consumer extends ServiceName,
  const Producers extends readonly ServiceName[],
>(
  definition: JobDefinition<Payload, Consumer, Producers>,
) => definition;

/**
 * Status events per `document.status` job. 500: the submitter's relay claims 500 outbox rows a round
 * (one job a round); a job of 500 events is ~115 KB in Redis (~230 B an event, against 0.8–1 KB as
 * single jobs); the gateway's transaction then locks at most 500 invoices for some tens of ms.
 */
export const STATUS_EVENTS_PER_JOB = 500;

/** sha256 of the sorted ids, base64url, 32 characters: the same set of events, the same job. */
const eventIdsDigest = (ids: readonly string[]): string =>
  createHash('sha256')
    .update([...ids].sort().join(','))
    .digest('base64url')
    .slice(0, 32);

const backoff = (delayMs: number) => ({ type: 'exponential' as const, delayMs, jitter: 0.5 });

export const JOB_CATALOGUE = {
  /** Invoice events accepted by the gateway, moved from its outbox by the relay. */
  'documents.accepted': job({
    queue: 'documents-accepted',
    producers: ['gateway'],
    consumer: 'submitter',
    payload: z.strictObject({
      outboxId: id,
      tenantId,
      traceContext,
      documents: z
        .array(
          z.strictObject({
            invoiceId: id,
            credentialId: id,
            /** Keyed hash of the document's natural identity (VAT number, date, device, number). */
            documentKey: z.string().regex(/^[A-Za-z0-9_-]{16,128}$/),
            /** Order of this operation among the operations on the same document, from 1. */
            sequence: z.number().int().positive(),
            document: encryptedDocument,
          }),
        )
        .min(1)
        .max(1000),
    }),
    jobId: (payload) => `outbox-${payload.outboxId}`,
    retry: { attempts: 20, backoff: backoff(1_000) },
  }),
  /**
   * Dispatch a credential's waiting documents (single sends, or 730 files once a batch is due).
   * Deduplicated per credential within a `window` (a time bucket the producer picks): a storm of
   * triggers makes one job, and a later trigger is not swallowed by a job BullMQ still remembers.
   */
  'batch.flush': job({
    queue: 'batch-flush',
    producers: ['submitter'],
    consumer: 'submitter',
    payload: z.strictObject({
      tenantId,
      credentialId: id,
      batchKey: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
      window: z.number().int().nonnegative(),
    }),
    jobId: (payload) => `flush-${payload.credentialId}-${payload.batchKey}-${payload.window}`,
    retry: { attempts: 10, backoff: backoff(5_000) },
  }),
  /** Send one 730 file (`inviaFileMtom`); `attempt` grows when reconciliation finds it must go again. */
  'file.send': job({
    queue: 'file-send',
    producers: ['submitter'],
    consumer: 'submitter',
    payload: z.strictObject({ tenantId, fileId: id, attempt: z.number().int().positive(), traceContext }),
    jobId: (payload) => `file-send-${payload.fileId}-${payload.attempt}`,
    retry: { attempts: 12, backoff: backoff(10_000) },
  }),
  /** Send one operation with the single-document service. */
  'document.send': job({
    queue: 'document-send',
    producers: ['submitter'],
    consumer: 'submitter',
    payload: z.strictObject({ tenantId, submissionId: id, traceContext }),
    jobId: (payload) => `document-send-${payload.submissionId}`,
    retry: { attempts: 12, backoff: backoff(5_000) },
  }),
  /** Ask `EsitoInvii` how a received file is doing; re-scheduled until it is final. */
  'outcome.poll': job({
    queue: 'outcome-poll',
    producers: ['submitter'],
    consumer: 'submitter',
    payload: z.strictObject({ tenantId, fileId: id, round: z.number().int().nonnegative() }),
    jobId: (payload) => `outcome-poll-${payload.fileId}-${payload.round}`,
    retry: { attempts: 8, backoff: backoff(30_000) },
  }),
  /** Fetch `DettaglioErrori` and `RicevutaPdf` of a completed file and map them to its documents. */
  'receipt.fetch': job({
    queue: 'receipt-fetch',
    producers: ['submitter'],
    consumer: 'submitter',
    payload: z.strictObject({ tenantId, fileId: id }),
    jobId: (payload) => `receipt-fetch-${payload.fileId}`,
    retry: { attempts: 12, backoff: backoff(30_000) },
  }),
  /** Find out whether a send whose answer was lost reached the STS, before anything is sent again. */
  'send.reconcile': job({
    queue: 'send-reconcile',
    producers: ['submitter'],
    consumer: 'submitter',
    payload: z.strictObject({
      tenantId,
      target: z.enum(['file', 'submission']),
      targetId: id,
      /** The send being reconciled (a file may be sent, lost and reconciled more than once). */
      attempt: z.number().int().positive(),
    }),
    jobId: (payload) => `reconcile-${payload.target}-${payload.targetId}-${payload.attempt}`,
    retry: { attempts: 20, backoff: backoff(30_000) },
  }),
  /**
   * Status changes of documents, from the submitter to the gateway (which serves them and webhooks),
   * up to `STATUS_EVENTS_PER_JOB` in one job: the submitter's relay groups its outbox rows (one row,
   * one event, row id = event id), the gateway applies a job's events in one transaction. The job id
   * is a digest of the event ids it carries, sorted: a relay that enqueued and died before deleting
   * its rows enqueues the same rows again under the same id (BullMQ keeps one job); a retried relay
   * that claims another set of rows makes another job, harmless, since the gateway recognises each
   * event by its id and applies only what is newer.
   */
  'document.status': job({
    queue: 'document-status',
    producers: ['submitter'],
    consumer: 'gateway',
    payload: z.strictObject({
      events: z.array(documentStatusEventSchema).min(1).max(STATUS_EVENTS_PER_JOB),
    }),
    jobId: (payload) => `status-${eventIdsDigest(payload.events.map((event) => event.eventId))}`,
    retry: { attempts: 20, backoff: backoff(1_000) },
  }),
  /**
   * Deliver one webhook (one event to one endpoint) of a tenant; the gateway keeps the body and the
   * endpoint's secret, the job only points at them. BullMQ waits 2^(n-1) × 11 s before attempt n + 1,
   * less up to 10 % jitter: the 13 waits of 14 attempts add up to 11 s × (2^13 − 1) = 90,101 s ≈ 25.0 h
   * at most and 22.5 h at least (about 23.8 h on average), so a receiver that is down is retried for
   * about a day; the last wait alone is 11 s × 2^12 ≈ 12.5 h.
   */
  'webhook.deliver': job({
    queue: 'webhook-deliver',
    producers: ['gateway'],
    consumer: 'gateway',
    payload: z.strictObject({ tenantId, endpointId: id, deliveryId: id }),
    jobId: (payload) => `webhook-${payload.deliveryId}`,
    retry: { attempts: 14, backoff: { type: 'exponential', delayMs: 11_000, jitter: 0.1 } },
  }),
} as const;

export type JobName = keyof typeof JOB_CATALOGUE;
export type JobPayload<Name extends JobName> = z.infer<(typeof JOB_CATALOGUE)[Name]['payload']>;
/** The job types a service consumes, e.g. `JobsConsumedBy<'submitter'>` is `'documents.accepted' | 'batch.flush' | …`. */
export type JobsConsumedBy<Service extends ServiceName> = {
  [Name in JobName]: (typeof JOB_CATALOGUE)[Name]['consumer'] extends Service ? Name : never;
}[JobName];
/** The job types a service may enqueue. */
export type JobsProducedBy<Service extends ServiceName> = {
  [Name in JobName]: Service extends (typeof JOB_CATALOGUE)[Name]['producers'][number] ? Name : never;
}[JobName];

export const jobsConsumedBy = (service: ServiceName): JobName[] =>
  (Object.keys(JOB_CATALOGUE) as JobName[]).filter((name) => JOB_CATALOGUE[name].consumer === service);
