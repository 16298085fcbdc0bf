import { randomUUID } from 'node:crypto';
import type { JobPayload } from '@sts/shared';
import type { EncryptedTaxCode, ExpenseDocument } from '@sts/sts';
import type { PoolClient } from 'pg';
import { lockNumber } from './document-keys.ts';
import type { EventProblem } from './invoice-event.ts';
import type { PreparedEvent } from './invoice-preparation.ts';
import { type ExistingEvent, findEventsOf, insertEventsWithOutbox, type NewEvent } from './invoice-store.ts';

/** What became of one event of a request. */
export type AcceptanceOutcome =
  | { outcome: 'accepted'; invoice: AcceptedInvoice }
  /** The same event was accepted before (same document, operation and content): nothing new stored. */
  | { outcome: 'duplicate'; invoice: AcceptedInvoice }
  | { outcome: 'rejected'; status: 409 | 422; type: string; problems: EventProblem[] };

export interface AcceptedInvoice {
  id: string;
  operation: PreparedEvent['operation'];
  credentialId: string;
  status: string;
  receivedAt: string;
}

type Document = ExpenseDocument<EncryptedTaxCode>;
type Rejection = Extract<AcceptanceOutcome, { outcome: 'rejected' }>;
type OutboxDocument = JobPayload<'documents.accepted'>['documents'][number];

/**
 * Stores a run of prepared events (at most 1,000: one `documents.accepted` job) in the caller's
 * transaction: the accepted events, and one outbox row that carries them to the submitter. Events
 * are taken in the order given. Operations on one document are serialised by an advisory lock on it
 * (and on the document a refund refunds), so each gets its place in the document's chain in the order
 * the gateway accepted it, across requests and replicas. Every event is checked against what is
 * stored and against the events before it in the same run:
 *
 * - the same document and operation again: `duplicate` with the same content (a retry), 409 with
 *   another (except updates, which may correct a document several times);
 * - an update or cancellation of a document never inserted (or already cancelled), a refund of a
 *   document never inserted: 422, nothing stored for it.
 */
export async function acceptEvents(
  client: Pick<PoolClient, 'query'>,
  run: {
    tenantId: string;
    /** Each prepared event with the path prefix its problems are reported under (`events[4]`). */
    events: readonly { prepared: PreparedEvent; prefix: string }[];
    now: Date;
    traceContext?: { traceparent: string; tracestate?: string };
  },
): Promise<AcceptanceOutcome[]> {
  const { tenantId, now } = run;
  const ownKeys = new Set<string>();
  for (const { prepared } of run.events) {
    ownKeys.add(prepared.documentKey);
    if (prepared.refundedKey) ownKeys.add(prepared.refundedKey);
  }
  const locks = [...ownKeys]
    .map((key) => lockNumber(tenantId, key))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  await client.query('select pg_advisory_xact_lock(k) from unnest($1::int8[]) as k', [locks.map(String)]);

  const chains = new ChainState(await findEventsOf(client, tenantId, [...ownKeys]));
  const receivedAt = now.toISOString();
  const accepted: NewEvent[] = [];
  const outcomes = run.events.map(({ prepared, prefix }): AcceptanceOutcome => {
    const variant = prepared.operation === 'update' ? prepared.contentHash.toString('hex') : '';
    const existing = chains.identity(prepared.documentKey, prepared.operation, variant);
    const summary = (event: ExistingEvent) => summaryOf(prepared, event);
    if (existing) {
      if (existing.contentHash.equals(prepared.contentHash))
        return { outcome: 'duplicate', invoice: summary(existing) };
      return conflict(prefix, prepared, existing.id);
    }
    const placed = chains.place(prepared, prefix);
    if ('problems' in placed) return placed;
    const event = newEvent(tenantId, prepared, variant, placed, receivedAt);
    chains.record(event);
    accepted.push(event);
    return { outcome: 'accepted', invoice: summary(event) };
  });

  if (accepted.length > 0) await insertEventsWithOutbox(client, accepted, outboxRow(run, accepted));
  return outcomes;
}

/**
 * The optimistic path of a single `insert` without an Idempotency-Key: no transaction, no lock, no
 * look-up, one autocommit statement that stores the event and its outbox row, or nothing at all.
 *
 * An accepted insert always takes place 1 in the chain of its own document: a chain holds events
 * only once its document's insert exists (a refund needs the refunded insert, an update or cancel
 * the document's insert or refund, and these join the base's chain), so an insert that is not a
 * duplicate finds its chain empty. `acceptEvents` would therefore store exactly this row, and the
 * unique indexes decide what the lock and look-up decide there: `invoices_identity` holds the
 * document's insert (a retry, or other content: 409), `invoices_chain` place 1 of its chain. When
 * either already holds a row, committed or racing, `on conflict do nothing` stores nothing and the
 * answer is `undefined`: the caller takes the full path, which answers the duplicate or the 409 as
 * it always did.
 */
export async function insertAlone(
  client: Pick<PoolClient, 'query'>,
  single: {
    tenantId: string;
    prepared: PreparedEvent;
    now: Date;
    traceContext?: { traceparent: string; tracestate?: string };
  },
): Promise<Extract<AcceptanceOutcome, { outcome: 'accepted' }> | undefined> {
  const { tenantId, prepared, now } = single;
  if (prepared.operation !== 'insert') throw new Error('insertAlone takes inserts only');
  const event = newEvent(
    tenantId,
    prepared,
    '',
    { chainKey: prepared.documentKey, sequence: 1, document: prepared.document! },
    now.toISOString(),
  );
  const inserted = await insertEventsWithOutbox(client, [event], outboxRow(single, [event]), {
    onConflictDoNothing: true,
  });
  return inserted ? { outcome: 'accepted', invoice: summaryOf(prepared, event) } : undefined;
}

const summaryOf = (prepared: PreparedEvent, event: ExistingEvent): AcceptedInvoice => ({
  id: event.id,
  operation: prepared.operation,
  credentialId: event.credentialId,
  status: event.status,
  receivedAt: event.receivedAt,
});

function newEvent(
  tenantId: string,
  prepared: PreparedEvent,
  variant: string,
  placed: { chainKey: string; sequence: number; document: Document },
  receivedAt: string,
): NewEvent {
  return {
    id: randomUUID(),
    tenantId,
    credentialId: prepared.credential.id,
    operation: prepared.operation,
    documentKey: prepared.documentKey,
    variant,
    chainKey: placed.chainKey,
    chainSequence: placed.sequence,
    vatNumber: prepared.id.vatNumber,
    issueDate: prepared.id.issueDate,
    device: prepared.id.device,
    number: prepared.id.number,
    paymentDate: placed.document.paymentDate,
    document: placed.document,
    patientHash: prepared.patientHash ?? null,
    contentHash: prepared.contentHash,
    environment: prepared.credential.environment,
    notices: prepared.notices ?? null,
    receivedAt,
    status: 'received',
  };
}

/** The outbox row that carries the accepted events of a run to the submitter (one job). */
function outboxRow(
  run: { tenantId: string; now: Date; traceContext?: { traceparent: string; tracestate?: string } },
  accepted: readonly NewEvent[],
) {
  const outboxId = randomUUID();
  const documents: OutboxDocument[] = accepted.map((event) => ({
    invoiceId: event.id,
    credentialId: event.credentialId,
    documentKey: event.chainKey,
    sequence: event.chainSequence,
    document: event.document as unknown as OutboxDocument['document'],
  }));
  return {
    id: outboxId,
    createdAt: run.now,
    payload: {
      outboxId,
      tenantId: run.tenantId,
      ...(run.traceContext ? { traceContext: run.traceContext } : {}),
      documents,
    },
  };
}

const conflict = (prefix: string, prepared: PreparedEvent, existingId: string): Rejection => ({
  outcome: 'rejected',
  status: 409,
  type: 'document-conflict',
  problems: [
    {
      field: [prefix, 'document.id'].filter(Boolean).join('.'),
      rule: 'document.already-accepted',
      message: `This document already has a different ${prepared.operation} event (${existingId}).`,
      hint:
        prepared.operation === 'insert'
          ? 'To change the document, send an update; to withdraw it, a cancel.'
          : 'Each document takes one event of this operation: check the document id.',
    },
  ],
});

const missing = (prefix: string, field: string, rule: string, message: string, hint: string): Rejection => ({
  outcome: 'rejected',
  status: 422,
  type: 'operation-out-of-order',
  problems: [{ field: [prefix, field].filter(Boolean).join('.'), rule, message, hint }],
});

/**
 * The documents a run touches, as stored plus the events accepted so far in the run: which events
 * exist, the chain each document belongs to, the last place taken in each chain.
 */
class ChainState {
  readonly #byIdentity = new Map<string, ExistingEvent>();
  /** Per document key: its base event (insert or refund) and its latest full document. */
  readonly #documents = new Map<
    string,
    { base?: ExistingEvent; latest?: ExistingEvent; cancelled: boolean }
  >();
  readonly #lastInChain = new Map<string, number>();

  constructor(stored: readonly ExistingEvent[]) {
    for (const event of [...stored].sort((a, b) => a.chainSequence - b.chainSequence)) this.record(event);
  }

  identity(documentKey: string, operation: string, variant: string) {
    return this.#byIdentity.get(`${documentKey}|${operation}|${variant}`);
  }

  record(event: ExistingEvent): void {
    this.#byIdentity.set(`${event.documentKey}|${event.operation}|${event.variant}`, event);
    const entry = this.#documents.get(event.documentKey) ?? { cancelled: false };
    if (event.operation === 'insert' || event.operation === 'refund') entry.base = event;
    if (event.operation === 'cancel') entry.cancelled = true;
    else entry.latest = event;
    this.#documents.set(event.documentKey, entry);
    this.#lastInChain.set(
      event.chainKey,
      Math.max(this.#lastInChain.get(event.chainKey) ?? 0, event.chainSequence),
    );
  }

  /** The chain and place of a new event, and its full document (filled in for a cancel by id). */
  place(
    prepared: PreparedEvent,
    prefix: string,
  ): { chainKey: string; sequence: number; document: Document } | Rejection {
    const next = (chainKey: string) => (this.#lastInChain.get(chainKey) ?? 0) + 1;
    if (prepared.operation === 'insert') {
      return {
        chainKey: prepared.documentKey,
        sequence: next(prepared.documentKey),
        document: prepared.document!,
      };
    }
    if (prepared.operation === 'refund') {
      const refunded = this.#documents.get(prepared.refundedKey!);
      if (refunded?.base?.operation !== 'insert') {
        return missing(
          prefix,
          'document.refundedDocumentId',
          'operation.refunded-document-unknown',
          'The refunded document was never inserted through this gateway.',
          'Insert the original document first (or check refundedDocumentId), then send the refund.',
        );
      }
      const chainKey = refunded.base.chainKey;
      return { chainKey, sequence: next(chainKey), document: prepared.document! };
    }
    const target = this.#documents.get(prepared.documentKey);
    if (!target?.base) {
      return missing(
        prefix,
        'document.id',
        'operation.document-unknown',
        `An ${prepared.operation} needs the document to have been inserted (or refunded) through this gateway first.`,
        'Check the document id, or send the insert first.',
      );
    }
    if (target.cancelled) {
      return missing(
        prefix,
        'document.id',
        'operation.document-cancelled',
        'The document was cancelled: it can no longer be changed.',
        'Send a new document with its own number instead.',
      );
    }
    const chainKey = target.base.chainKey;
    const document: Document = prepared.document ?? {
      ...(target.latest!.document as unknown as Document),
      operation: 'cancel',
    };
    return { chainKey, sequence: next(chainKey), document };
  }
}
