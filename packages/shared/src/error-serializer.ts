import { DrizzleQueryError } from 'drizzle-orm';
import pg from 'pg';
import { pino } from 'pino';

/**
 * The `err` serializer of every logger: pino's own, except that nothing a caller sent reaches a log
 * line through an error. A failed query (drizzle's `DrizzleQueryError`) carries the SQL *and its
 * parameters* in its message, its stack and a `params` field; a Postgres error carries values in its
 * `detail` ("Key (tenant_id, label)=(…) already exists", "Failing row contains (…)") and often in
 * its message ('invalid input syntax for type uuid: "…"'). Such errors are logged with their code,
 * severity, schema, table, column, data type, constraint and routine, the query text (placeholders
 * only), and a message whose quoted spans are kept only when they name that table, column or
 * constraint. Node's HTTP parser errors lose `rawPacket` (the request's bytes, headers included).
 */

/** Fields that carry what a caller sent, whatever error they hang on. */
const DROPPED_FIELDS = ['params', 'parameters', 'rawPacket'];
/** The same, plus what Postgres adds to its errors: `detail` and `where` quote values. */
const DROPPED_NEAR_DATABASE = new Set([...DROPPED_FIELDS, 'detail', 'where', 'internalQuery']);
/** What a Postgres error says about itself that names no value. */
const DATABASE_FIELDS = [
  'code',
  'severity',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'routine',
] as const;

type ErrorLike = Error & Record<string, unknown>;

const isErrorLike = (value: unknown): value is ErrorLike =>
  typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';

const isDatabaseError = (error: ErrorLike): boolean =>
  error instanceof pg.DatabaseError ||
  (typeof error.severity === 'string' && typeof error.code === 'string' && 'routine' in error);

const isQueryError = (error: ErrorLike): boolean =>
  error instanceof DrizzleQueryError || (typeof error.query === 'string' && Array.isArray(error.params));

/** The errors an error stands on: its cause and, for an AggregateError, the errors it groups. */
function linked(error: ErrorLike): ErrorLike[] {
  const found = isErrorLike(error.cause) ? [error.cause] : [];
  if (Array.isArray(error.errors)) found.push(...error.errors.filter(isErrorLike));
  return found;
}

function touchesDatabase(error: ErrorLike, seen = new Set<unknown>()): boolean {
  if (seen.has(error)) return false;
  seen.add(error);
  return isDatabaseError(error) || isQueryError(error) || linked(error).some((e) => touchesDatabase(e, seen));
}

/** The frames of a stack, under a first line we choose (V8 puts the whole message there). */
function framesUnder(error: ErrorLike, firstLine: string): string | undefined {
  if (typeof error.stack !== 'string') return undefined;
  const frames = error.stack.split('\n').filter((line) => /^\s+at /.test(line));
  return [firstLine, ...frames].join('\n');
}

/** A Postgres message with every quoted span that is not one of the error's own names hidden. */
function databaseMessage(error: ErrorLike): string {
  const names = new Set(
    DATABASE_FIELDS.map((field) => error[field]).filter(
      (value): value is string => typeof value === 'string',
    ),
  );
  if (typeof error.schema === 'string' && typeof error.table === 'string')
    names.add(`${error.schema}.${error.table}`);
  return error.message.replace(/"((?:[^"]|"")*)"/g, (span, inner: string) =>
    names.has(inner) ? span : '"…"',
  );
}

function safeSerialize(error: ErrorLike, seen: Set<unknown>): Record<string, unknown> {
  seen.add(error);
  const type = error.constructor?.name ?? error.name;
  const out: Record<string, unknown> = { type };
  if (isDatabaseError(error)) {
    out.message = databaseMessage(error);
    for (const field of DATABASE_FIELDS) if (error[field] !== undefined) out[field] = error[field];
  } else if (isQueryError(error)) {
    out.message = `Failed query: ${String(error.query)}`;
    out.query = error.query;
  } else {
    // An error wrapping a database error (ours, a pool's, a transaction's): its own message and
    // fields, without those that quote values; the database error follows as its cause.
    out.message = error.message;
    for (const [key, value] of Object.entries(error)) {
      if (key === 'cause' || key === 'errors' || DROPPED_NEAR_DATABASE.has(key) || isErrorLike(value))
        continue;
      out[key] = value;
    }
  }
  out.stack = framesUnder(error, `${type}: ${String(out.message)}`);
  const causes = linked(error).filter((cause) => !seen.has(cause));
  if (isErrorLike(error.cause) && causes.includes(error.cause as ErrorLike))
    out.cause = safeSerialize(error.cause as ErrorLike, seen);
  if (Array.isArray(error.errors))
    out.aggregateErrors = error.errors.filter(isErrorLike).map((e) => safeSerialize(e, seen));
  return out;
}

export function serializeError(value: unknown): unknown {
  if (!isErrorLike(value)) return value;
  if (touchesDatabase(value)) return safeSerialize(value, new Set());
  const serialized = pino.stdSerializers.err(value) as unknown as Record<string, unknown>;
  for (const field of DROPPED_FIELDS) delete serialized[field];
  return serialized;
}
