import type { Readable } from 'node:stream';
import { ProblemError, requestProblem } from '@sts/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { principalOf } from '../api-keys/api-key-auth.ts';
import { problemResponse, routeSchema, type ZodTypeProvider } from '../http/route-schema.ts';
import { IDEMPOTENCY_KEY, keyInFlight, keyReused, type StoredAnswer } from '../idempotency/idempotency.ts';
import type { InvoiceIntake } from './invoice-intake.ts';
import {
  batchAnswerSchema,
  batchBodySchema,
  examples,
  idempotencyHeaders,
  invoiceEventSchema,
  singleAnswerSchema,
} from './invoice-schemas.ts';

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

  const api = app.withTypeProvider<ZodTypeProvider>();
  api.post(
    '/v1/invoices',
    {
      bodyLimit: SINGLE_BODY_LIMIT,
      config: { requiredScopes: ['invoices:write'] },
      schema: routeSchema({
        summary: 'Send one invoice event',
        description: [
          'One operation on one document: `insert`, `update`, `refund` or `cancel`. The document is',
          'validated against every rule the STS applies (all problems at once, each with its path,',
          'rule and hint), the patient codice fiscale is encrypted with the SanitelCF certificate',
          'at once, and the event is stored durably before the answer (202). The same event sent',
          'again answers 200 with the first one (`duplicate`). Operations on one document are kept',
          'in the order accepted; an update, refund or cancel of a document never inserted is 422.',
        ].join(' '),
        tags: ['Invoices'],
        operationId: 'sendInvoiceEvent',
        headers: idempotencyHeaders,
        body: {
          schema: invoiceEventSchema,
          validation: 'handler',
          examples: { insert: { summary: 'An invoice for a specialist visit', value: examples.event } },
        },
        response: {
          202: {
            description: 'Accepted and stored; it will be sent to the STS (see `GET /v1/invoices/{id}`).',
            schema: singleAnswerSchema,
            examples: { accepted: { value: acceptedExample('received') } },
          },
          200: {
            description: 'The same event was accepted before: its invoice, nothing new stored.',
            schema: singleAnswerSchema,
            examples: { duplicate: { value: { ...acceptedExample('queued'), duplicate: true as const } } },
          },
          409: problemResponse(
            'The document already has this operation with other content, or the Idempotency-Key is in flight.',
            keyInFlight(),
          ),
          422: problemResponse(
            'The event is not valid (every problem listed), or the Idempotency-Key was used for another request.',
            keyReused(),
          ),
        },
      }),
    },
    async (request, reply) => {
      const key = idempotencyKeyOf(request);
      return send(reply, await intake.acceptOne(principalOf(request).tenant.id, request.body, key));
    },
  );

  api.post(
    '/v1/invoices/batch',
    {
      bodyLimit: BATCH_BODY_LIMIT,
      config: { requiredScopes: ['invoices:write'] },
      schema: routeSchema({
        summary: 'Send many invoice events',
        description: [
          'As application/json, `{"events": [...]}` with at most 1,000 events; as',
          `\`${NDJSON}\`, one event per line, at most 100,000, read as they arrive (never buffered`,
          'whole). Events are taken in the order given; every valid one is stored, every invalid one',
          'answered with its problems (by index, or by line number for NDJSON).',
        ].join(' '),
        tags: ['Invoices'],
        operationId: 'sendInvoiceEvents',
        headers: idempotencyHeaders,
        body: {
          schema: batchBodySchema,
          validation: 'handler',
          examples: {
            two: {
              value: {
                events: [
                  examples.event,
                  {
                    ...examples.event,
                    operation: 'cancel' as const,
                    document: { id: examples.event.document.id },
                  },
                ],
              },
            },
          },
        },
        response: {
          200: {
            description: 'Each event answered in order: accepted, duplicate or rejected with its problems.',
            schema: batchAnswerSchema,
            examples: {
              mixed: {
                value: {
                  summary: { received: 2, accepted: 1, duplicates: 0, rejected: 1 },
                  items: [
                    { index: 0, outcome: 'accepted' as const, invoice: acceptedExample('received').invoice },
                    {
                      index: 1,
                      outcome: 'rejected' as const,
                      status: 422,
                      type: 'https://sts-gateway.dev/problems/operation-out-of-order',
                      errors: [
                        {
                          field: 'events[1].document.id',
                          rule: 'operation.document-unknown',
                          message:
                            'A cancel needs the document to have been inserted (or refunded) through this gateway first.',
                          hint: 'Check the document id, or send the insert first.',
                        },
                      ],
                    },
                  ],
                },
              },
            },
          },
          409: problemResponse('The Idempotency-Key is in flight.', keyInFlight()),
          413: problemResponse('Too many events in one request.', eventProblemTooMany()),
          415: problemResponse('Neither JSON nor NDJSON.', unsupportedType()),
          422: problemResponse('The Idempotency-Key was used for another request.', keyReused()),
        },
      }),
    },
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

function acceptedExample(status: 'received' | 'queued') {
  return {
    invoice: {
      id: '5b0c8e52-7c1d-4f7e-9a51-2d8c4b6e1f30',
      operation: 'insert' as const,
      credentialId: '9e4f2a1c-3b5d-4c6e-8f7a-0b1c2d3e4f5a',
      status,
      receivedAt: '2026-12-07T10:00:00.000Z',
    },
  };
}

const eventProblemTooMany = () =>
  new ProblemError({
    status: 413,
    type: 'too-many-events',
    title: 'Too many events in one request',
    detail: 'A batch takes at most 1000 events: split it.',
    errors: [{ field: 'events', rule: 'max-items', message: 'At most 1000 events per request.' }],
  });

const unsupportedType = () =>
  new ProblemError({
    status: 415,
    type: 'unsupported-media-type',
    title: 'Unsupported media type',
    detail: `Send the batch as application/json ({"events": [ … ]}) or as ${NDJSON} (one event per line).`,
    errors: [{ field: 'content-type', rule: 'media-type', message: `application/json or ${NDJSON}` }],
  });
