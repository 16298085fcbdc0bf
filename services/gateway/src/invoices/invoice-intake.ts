import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import {
  type Clock,
  currentTraceContext,
  type Pool,
  ProblemError,
  inTransaction as runInTransaction,
} from '@sts/shared';
import type { DocumentRules, SanitelEncryptor } from '@sts/sts';
import type { PoolClient } from 'pg';
import {
  checkIdempotencyKey,
  keyReused,
  markInFlight,
  releaseInFlight,
  requestHasher,
  type StoredAnswer,
  storeAnswer,
} from '../idempotency/idempotency.ts';
import type { CredentialDirectory } from './credential-directory.ts';
import { type AcceptanceOutcome, acceptEvents, insertAlone } from './invoice-acceptance.ts';
import { type EventProblem, parseInvoiceEvent } from './invoice-event.ts';
import { type Environment, type PreparedEvent, prepareEvent } from './invoice-preparation.ts';
import type { PatientHasher } from './patient-privacy.ts';

/** Events per JSON batch, per NDJSON stream, and per stored run (one `documents.accepted` job). */
export const BATCH_MAX_EVENTS = 1000;
export const STREAM_MAX_EVENTS = 100_000;
export const RUN_SIZE = 1000;
/** The longest NDJSON line read (one event); a longer one is refused without being parsed. */
export const STREAM_MAX_LINE_BYTES = 64 * 1024;

export interface InvoiceIntakeDeps {
  pool: Pool;
  clock: Clock;
  credentials: CredentialDirectory;
  encryptors: Record<Environment, SanitelEncryptor>;
  patientHasher: PatientHasher;
  /** Keys the idempotency fingerprints (a body holds a codice fiscale). */
  requestHashKey: Buffer;
  rulesFor(environment: Environment, today: string): DocumentRules;
  today(): string;
}

type Item = { index: number; prefix: string } & (
  | { prepared: PreparedEvent }
  | { rejected: Extract<AcceptanceOutcome, { outcome: 'rejected' }> }
);

/**
 * Takes invoice events in: one, a JSON batch, or an NDJSON stream. Each event is parsed, validated
 * and its patient encrypted (`prepareEvent`), then the valid ones are stored with their outbox row
 * in one transaction per run of at most 1,000 (`acceptEvents`), with the `Idempotency-Key` record
 * in the same transaction. Nothing of a rejected event is stored.
 */
export function createInvoiceIntake(deps: InvoiceIntakeDeps) {
  const hasher = requestHasher(deps.requestHashKey);

  /** `positions[i]` is where input i sits (its index in a batch, its line in a stream). */
  async function prepare(
    tenantId: string,
    inputs: readonly unknown[],
    positions: readonly number[],
    label: (i: number) => string,
  ): Promise<Item[]> {
    const items = prepareWith(
      tenantId,
      await deps.credentials.credentialsOf(tenantId),
      inputs,
      positions,
      label,
    );
    // An event naming a credential the cached list lacks: read the list again once (just created?).
    const missingCredential = items.some(
      (item) =>
        'rejected' in item &&
        item.rejected.problems.some((problem) => CREDENTIAL_NOT_FOUND.includes(problem.rule)),
    );
    if (!missingCredential) return items;
    const fresh = await deps.credentials.credentialsOf(tenantId, { fresh: true });
    return prepareWith(tenantId, fresh, inputs, positions, label);
  }

  function prepareWith(
    tenantId: string,
    credentials: Awaited<ReturnType<CredentialDirectory['credentialsOf']>>,
    inputs: readonly unknown[],
    positions: readonly number[],
    label: (i: number) => string,
  ): Item[] {
    const today = deps.today();
    const context = {
      tenantId,
      credentials,
      encryptors: deps.encryptors,
      patientHasher: deps.patientHasher,
      rulesFor: (environment: Environment) => deps.rulesFor(environment, today),
    };
    return inputs.map((input, offset): Item => {
      const index = positions[offset]!;
      const prefix = label(index);
      if (input instanceof UnreadableLine)
        return { index, prefix, rejected: invalid([input.problem(prefix)]) };
      const parsed = parseInvoiceEvent(input, prefix);
      const prepared = parsed.ok ? prepareEvent(parsed.event, context, prefix) : parsed;
      if (prepared.ok) return { index, prefix, prepared: prepared.prepared };
      return { index, prefix, rejected: invalid(prepared.problems) };
    });
  }

  /** Stores the prepared items of a run; returns every item's outcome in order. */
  async function store(client: Pick<PoolClient, 'query'>, tenantId: string, items: readonly Item[]) {
    const valid = items.filter((item): item is Item & { prepared: PreparedEvent } => 'prepared' in item);
    const traceContext = currentTraceContext();
    const stored =
      valid.length === 0
        ? []
        : await acceptEvents(client, {
            tenantId,
            events: valid.map(({ prepared, prefix }) => ({ prepared, prefix })),
            now: deps.clock(),
            ...(traceContext ? { traceContext } : {}),
          });
    let next = 0;
    return items.map((item) => ('prepared' in item ? stored[next++]! : item.rejected));
  }

  /** One transaction; retried when a concurrent request took a chain place first (unique violation). */
  async function inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await runInTransaction(deps.pool, work);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (attempt < 3 && (code === '23505' || code === '40P01')) continue;
        throw error;
      }
    }
  }

  /** Runs `work` under the key's record (when there is a key): a replay, a 409, a 422, or new. */
  async function idempotent(
    tenantId: string,
    key: string | undefined,
    requestHash: Buffer,
    items: readonly Item[],
    answer: (outcomes: AcceptanceOutcome[]) => StoredAnswer,
  ): Promise<StoredAnswer & { replayed?: boolean }> {
    const allRejected = items.every((item) => 'rejected' in item);
    if (key === undefined && allRejected)
      return answer(items.map((item) => ('rejected' in item ? item.rejected : never())));
    return inTransaction(async (client) => {
      if (key !== undefined) {
        const check = await checkIdempotencyKey(client, tenantId, key, requestHash, deps.clock());
        if (check.kind === 'replay') return { ...check.answer, replayed: true };
      }
      const result = answer(await store(client, tenantId, items));
      // Stored only once something was accepted: a wholly refused request may be corrected and resent.
      if (key !== undefined && result.statusCode < 300) {
        await storeAnswer(client, { tenantId, key, requestHash, answer: result, now: deps.clock() });
      }
      return result;
    });
  }

  return {
    /** `POST /v1/invoices`: 202 accepted, 200 a repeat of an accepted event, or a problem. */
    async acceptOne(tenantId: string, body: unknown, key?: string) {
      const items = await prepare(tenantId, [body], [0], () => '');
      // The common case, a new document's insert without a key: one statement, no transaction.
      const item = items[0]!;
      if (key === undefined && 'prepared' in item && item.prepared.operation === 'insert') {
        const traceContext = currentTraceContext();
        const accepted = await insertAlone(deps.pool, {
          tenantId,
          prepared: item.prepared,
          now: deps.clock(),
          ...(traceContext ? { traceContext } : {}),
        });
        if (accepted) return singleAnswer(accepted);
        // Something holds the document's insert or its chain: the full path says what.
      }
      const requestHash = hasher.start('POST /v1/invoices').update(JSON.stringify(body)).digest();
      return idempotent(tenantId, key, requestHash, items, ([outcome]) => singleAnswer(outcome!));
    },

    /** `POST /v1/invoices/batch` (JSON): `{ "events": [...] }`, at most 1,000, answered per item. */
    async acceptBatch(tenantId: string, body: unknown, key?: string) {
      const events = batchEvents(body);
      const items = await prepare(
        tenantId,
        events,
        events.map((_, index) => index),
        (index) => `events[${index}]`,
      );
      const requestHash = hasher.start('POST /v1/invoices/batch').update(JSON.stringify(body)).digest();
      return idempotent(tenantId, key, requestHash, items, (outcomes) =>
        batchAnswer(
          outcomes,
          items.map((item) => ({ index: item.index })),
        ),
      );
    },

    /**
     * `POST /v1/invoices/batch` (NDJSON): one event per line, read as it arrives and stored a run of
     * 1,000 at a time, so memory stays flat whatever the size; at most 100,000 events.
     */
    async acceptStream(
      tenantId: string,
      stream: Readable,
      key?: string,
    ): Promise<StoredAnswer & { replayed?: boolean }> {
      const fingerprint = hasher.start('POST /v1/invoices/batch ndjson');
      const hashed = async function* () {
        for await (const chunk of stream) {
          fingerprint.update(chunk as Buffer);
          yield chunk as Buffer;
        }
      };
      if (key !== undefined) {
        const check = await inTransaction(async (client) => {
          const found = await checkIdempotencyKey(client, tenantId, key, undefined, deps.clock());
          if (found.kind === 'new') await markInFlight(client, tenantId, key, deps.clock());
          return found;
        });
        if (check.kind === 'completed') {
          for await (const _ of hashed()) {
            // Read whole to compare fingerprints; nothing is parsed.
          }
          if (!fingerprint.digest().equals(check.requestHash)) throw keyReused();
          return { ...check.answer, replayed: true };
        }
      }
      try {
        const outcomes: AcceptanceOutcome[] = [];
        const positions: { line: number }[] = [];
        let pending: unknown[] = [];
        let pendingLines: number[] = [];
        let lineNumber = 0;
        let events = 0;
        const flush = async () => {
          const items = await prepare(tenantId, pending, pendingLines, (line) => `line ${line}`);
          positions.push(...pendingLines.map((line) => ({ line })));
          pending = [];
          pendingLines = [];
          const anyValid = items.some((item) => 'prepared' in item);
          outcomes.push(
            ...(anyValid
              ? await inTransaction((client) => store(client, tenantId, items))
              : items.map((item) => ('rejected' in item ? item.rejected : never()))),
          );
        };
        const reader = createInterface({
          input: Readable.from(hashed()),
          crlfDelay: Number.POSITIVE_INFINITY,
        });
        for await (const line of reader) {
          lineNumber += 1;
          if (line.trim() === '') continue;
          events += 1;
          if (events > STREAM_MAX_EVENTS) throw tooManyEvents(STREAM_MAX_EVENTS);
          pending.push(parseLine(line));
          pendingLines.push(lineNumber);
          if (pending.length === RUN_SIZE) await flush();
        }
        if (pending.length > 0) await flush();
        if (events === 0) throw emptyBatch();
        const result = batchAnswer(outcomes, positions);
        if (key !== undefined) {
          await storeAnswer(deps.pool, {
            tenantId,
            key,
            requestHash: fingerprint.digest(),
            answer: result,
            now: deps.clock(),
          });
        }
        return result;
      } catch (error) {
        if (key !== undefined) await releaseInFlight(deps.pool, tenantId, key).catch(() => {});
        throw error;
      }
    },
  };
}

export type InvoiceIntake = ReturnType<typeof createInvoiceIntake>;

const CREDENTIAL_NOT_FOUND = [
  'credential.unknown',
  'credential.none-for-vat-number',
  'credential.vat-number',
];

const never = (): never => {
  throw new Error('unreachable');
};

/** An NDJSON line that could not be read as JSON: refused on its own, the others go on. */
class UnreadableLine {
  readonly reason: 'syntax' | 'too-long';
  constructor(reason: 'syntax' | 'too-long') {
    this.reason = reason;
  }
  problem(field: string): EventProblem {
    return this.reason === 'syntax'
      ? {
          field,
          rule: 'json-syntax',
          message: 'The line is not valid JSON.',
          hint: 'Write one JSON object per line.',
        }
      : {
          field,
          rule: 'max-line-length',
          message: `The line is longer than ${STREAM_MAX_LINE_BYTES} bytes.`,
          hint: 'One line holds one invoice event; check that lines are separated by newlines.',
        };
  }
}

function parseLine(line: string): unknown {
  if (Buffer.byteLength(line) > STREAM_MAX_LINE_BYTES) return new UnreadableLine('too-long');
  try {
    return JSON.parse(line);
  } catch {
    return new UnreadableLine('syntax');
  }
}

const invalid = (problems: EventProblem[]): Extract<AcceptanceOutcome, { outcome: 'rejected' }> => {
  const notJson = problems.length === 1 && problems[0]!.rule === 'type';
  return {
    outcome: 'rejected',
    status: 422,
    type: notJson ? 'invalid-event' : 'invalid-invoice-event',
    problems,
  };
};

const tooManyEvents = (max: number) =>
  new ProblemError({
    status: 413,
    type: 'too-many-events',
    title: 'Too many events in one request',
    detail: `A batch takes at most ${max} events: split it.`,
    errors: [{ field: 'events', rule: 'max-items', message: `At most ${max} events per request.` }],
  });
const emptyBatch = () =>
  new ProblemError({
    status: 400,
    type: 'invalid-request',
    title: 'The request is not valid',
    detail: 'The batch has no events.',
    errors: [{ field: 'events', rule: 'min-items', message: 'Send at least one event.' }],
  });

function batchEvents(body: unknown): unknown[] {
  const events = (body as { events?: unknown } | null)?.events;
  const extra =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? Object.keys(body).filter((field) => field !== 'events')
      : [];
  if (!Array.isArray(events) || extra.length > 0) {
    throw new ProblemError({
      status: 400,
      type: 'invalid-request',
      title: 'The request is not valid',
      detail: 'A JSON batch is {"events": [ … ]} and nothing else.',
      errors: Array.isArray(events)
        ? extra.slice(0, 10).map((field) => ({
            field: field.slice(0, 60),
            rule: 'unknown-field',
            message: 'Not part of a batch.',
          }))
        : [{ field: 'events', rule: 'required', message: 'Send the events as an array named "events".' }],
    });
  }
  if (events.length === 0) throw emptyBatch();
  if (events.length > BATCH_MAX_EVENTS) throw tooManyEvents(BATCH_MAX_EVENTS);
  return events;
}

/** Problem+json of a refused event, with every field's path, rule, message and hint. */
export function eventProblem(rejected: Extract<AcceptanceOutcome, { outcome: 'rejected' }>) {
  const titles: Record<string, string> = {
    'invalid-invoice-event': 'The invoice event is not valid',
    'invalid-event': 'The invoice event is not valid',
    'document-conflict': 'The document already has this operation',
    'operation-out-of-order': 'The operation needs an earlier one',
  };
  return new ProblemError({
    status: rejected.status,
    type: rejected.type,
    title: titles[rejected.type] ?? 'The invoice event was refused',
    detail: `${rejected.problems.length} problem${rejected.problems.length === 1 ? '' : 's'}; nothing was stored.`,
    errors: rejected.problems,
  });
}

function singleAnswer(outcome: AcceptanceOutcome): StoredAnswer {
  if (outcome.outcome === 'rejected') throw eventProblem(outcome);
  return {
    statusCode: outcome.outcome === 'accepted' ? 202 : 200,
    body: { invoice: outcome.invoice, ...(outcome.outcome === 'duplicate' ? { duplicate: true } : {}) },
  };
}

function batchAnswer(
  outcomes: readonly AcceptanceOutcome[],
  positions: readonly ({ index: number } | { line: number })[],
): StoredAnswer {
  const summary = { received: outcomes.length, accepted: 0, duplicates: 0, rejected: 0 };
  const items = outcomes.map((outcome, index) => {
    const at = positions[index]!;
    if (outcome.outcome === 'rejected') {
      summary.rejected += 1;
      const problem = eventProblem(outcome).toProblem();
      return {
        ...at,
        outcome: 'rejected',
        status: outcome.status,
        type: problem.type,
        errors: outcome.problems,
      };
    }
    if (outcome.outcome === 'accepted') summary.accepted += 1;
    else summary.duplicates += 1;
    return { ...at, outcome: outcome.outcome, invoice: outcome.invoice };
  });
  return { statusCode: 200, body: { summary, items } };
}
