import type { Readable } from 'node:stream';
import { ProblemError, requestProblem } from '@sts/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { principalOf } from '../api-keys/api-key-auth.ts';
import { IDEMPOTENCY_KEY, type StoredAnswer } from '../idempotency/idempotency.ts';
import type { InvoiceIntake } from './invoice-intake.ts';

/** One event is small; a JSON batch holds at most 1,000 (a streamed NDJSON batch is not buffered). */
export const SINGLE_BODY_LIMIT = 256 * 1024;
export const BATCH_BODY_LIMIT = 16 * 1024 * 1024;
export const NDJSON = 'application/x-ndjson';

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !IDEMPOTENCY_KEY.test(header)) {
    throw requestProblem(400, 'invalid-request', 'The request is not valid', {
      field: 'idempotency-key',
      rule: 'format',
      message: 'An Idempotency-Key is 1 to 255 visible ASCII characters, sent once (e.g. a UUID).',
    });
  }
  return header;
}

function send(reply: FastifyReply, answer: StoredAnswer & { replayed?: boolean }) {
  if (answer.replayed) reply.header('idempotent-replayed', 'true');
  const invoice = (answer.body as { invoice?: { id?: string } }).invoice;
  if (answer.statusCode === 202 && invoice?.id) reply.header('location', `/v1/invoices/${invoice.id}`);
  return reply.code(answer.statusCode).send(answer.body);
}

/**
 * `POST /v1/invoices` (one event) and `POST /v1/invoices/batch` (a JSON batch of at most 1,000, or
 * NDJSON of at most 100,000 read as it arrives). Both take an `Idempotency-Key`.
 */
export function registerInvoiceRoutes(app: FastifyInstance, { intake }: { intake: InvoiceIntake }): void {
  // NDJSON reaches the handler as the raw stream: it is parsed line by line, never buffered whole.
  app.addContentTypeParser(NDJSON, (_request, payload, done) => done(null, payload));

  app.post(
    '/v1/invoices',
    { bodyLimit: SINGLE_BODY_LIMIT, config: { requiredScopes: ['invoices:write'] } },
    async (request, reply) => {
      const key = idempotencyKeyOf(request);
      return send(reply, await intake.acceptOne(principalOf(request).tenant.id, request.body, key));
    },
  );

  app.post(
    '/v1/invoices/batch',
    { bodyLimit: BATCH_BODY_LIMIT, config: { requiredScopes: ['invoices:write'] } },
    async (request, reply) => {
      const key = idempotencyKeyOf(request);
      const tenantId = principalOf(request).tenant.id;
      const type = String(request.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase();
      if (type === NDJSON) {
        return send(reply, await intake.acceptStream(tenantId, request.body as Readable, key));
      }
      if (type !== 'application/json') throw unsupportedType();
      return send(reply, await intake.acceptBatch(tenantId, request.body, key));
    },
  );
}

const unsupportedType = () =>
  new ProblemError({
    status: 415,
    type: 'unsupported-media-type',
    title: 'Unsupported media type',
    detail: `Send the batch as application/json ({"events": [ … ]}) or as ${NDJSON} (one event per line).`,
    errors: [{ field: 'content-type', rule: 'media-type', message: `application/json or ${NDJSON}` }],
  });
