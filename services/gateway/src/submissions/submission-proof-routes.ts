import {
  MAX_SUBMISSION_PROTOCOL_LENGTH,
  notFound,
  ProblemError,
  type SubmissionProofKind,
} from '@sts/shared';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../api-keys/api-key-auth.ts';
import { problemResponse, routeSchema, type ZodTypeProvider } from '../http/route-schema.ts';
import type { InvoiceReadService } from '../invoices/read/invoice-read-service.ts';
import { type SubmissionProofClient, SubmitterUnavailableError } from './submission-proof-client.ts';

const FILES: Record<
  SubmissionProofKind,
  { name: string; extension: string; what: string; contentType: string; example: string; summary: string }
> = {
  receipt: {
    name: 'receipt',
    extension: 'pdf',
    what: 'receipt (PDF)',
    contentType: 'application/pdf',
    example: '%PDF-1.4 …',
    summary: 'The STS receipt of a submission (PDF)',
  },
  errors: {
    name: 'errors',
    extension: 'csv',
    what: 'error detail (CSV)',
    contentType: 'text/csv',
    example: 'PROTOCOLLO;…;CODICE ERRORE;DESCRIZIONE ERRORE\n…',
    summary: 'The per-document errors the STS reported for a submission (CSV)',
  },
};

const protocolParams = z.object({
  protocol: z.string().describe('The STS protocol of the submission, as an invoice event shows it'),
});

/** What a protocol can be: printable ASCII (anything else is no protocol, and Postgres refuses NUL). */
const PRINTABLE = /^[\x21-\x7e]+$/;

const notReady = (what: string, retryAfterSeconds: number) =>
  new ProblemError({
    status: 409,
    type: 'proof-not-ready',
    title: 'Not ready yet',
    detail: `The Sistema TS has not produced the ${what} of this submission yet: try again in ${retryAfterSeconds} seconds.`,
  });

const unavailable = () =>
  new ProblemError({
    status: 503,
    type: 'unavailable',
    title: 'Temporarily unavailable',
    detail: 'The proofs of submissions cannot be read right now; try again.',
  });

/**
 * `GET /v1/submissions/:protocol/receipt` (PDF) and `/errors` (CSV), scope `invoices:read`: the
 * proofs the submitter keeps of a send to the STS, streamed through. Only a protocol that one of the
 * tenant's invoice events carries is asked for (404 otherwise, without calling the submitter).
 */
export function registerSubmissionProofRoutes(
  app: FastifyInstance,
  { invoices, proofs }: { invoices: Pick<InvoiceReadService, 'hasProtocol'>; proofs: SubmissionProofClient },
) {
  for (const kind of ['receipt', 'errors'] as const) {
    const file = FILES[kind];
    app.withTypeProvider<ZodTypeProvider>().get(
      `/v1/submissions/:protocol/${file.name}`,
      {
        config: { requiredScopes: ['invoices:read'] },
        schema: routeSchema({
          summary: file.summary,
          description: `The ${file.what} the Sistema TS gave for the submission with this protocol, as it gave it, downloaded as an attachment. Only a protocol that one of the tenant’s invoice events carries is served (404 otherwise); 409 with \`Retry-After\` while the STS has not produced it yet.`,
          tags: ['Submissions'],
          operationId: kind === 'receipt' ? 'getSubmissionReceipt' : 'getSubmissionErrors',
          params: protocolParams,
          response: {
            200: {
              description: `The ${file.what}.`,
              contentType: file.contentType,
              schema: z.string().describe(`The ${file.what}, as the STS produced it`),
              examples: { file: { value: file.example } },
            },
            404: problemResponse(
              'No submission of this tenant has this protocol, or it has no such proof.',
              notFound('The submission'),
              {
                instance: `/v1/submissions/26030211354512345/${file.name}`,
              },
            ),
            409: problemResponse('The STS has not produced it yet.', notReady(file.what, 60), {
              instance: `/v1/submissions/26030211354512345/${file.name}`,
            }),
          },
        }),
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const { protocol } = request.params;
        const known =
          protocol.length <= MAX_SUBMISSION_PROTOCOL_LENGTH &&
          PRINTABLE.test(protocol) &&
          (await invoices.hasProtocol(principal.tenant.id, protocol));
        if (!known) throw notFound('The submission');
        let answer: Awaited<ReturnType<SubmissionProofClient['fetch']>>;
        try {
          answer = await proofs.fetch(
            { tenantId: principal.tenant.id, apiKeyId: principal.apiKey.id, requestId: request.id },
            protocol,
            kind,
          );
        } catch (error) {
          if (!(error instanceof SubmitterUnavailableError)) throw error;
          request.log.warn(
            { reason: error.reason, upstreamStatus: error.upstreamStatus, code: error.code },
            'submitter unavailable for a submission proof',
          );
          reply.header('retry-after', '5');
          throw unavailable();
        }
        if (answer.status === 404) throw notFound(`The ${file.what} of this submission`);
        if (answer.status === 409) {
          const seconds = answer.retryAfterSeconds ?? 60;
          reply.header('retry-after', String(seconds));
          throw notReady(file.what, seconds);
        }
        const safeName = protocol.replace(/[^A-Za-z0-9_.-]/g, '_');
        reply
          .header('content-type', answer.contentType)
          .header('content-disposition', `attachment; filename="${file.name}-${safeName}.${file.extension}"`)
          .header('cache-control', 'private, no-store');
        if (answer.contentLength !== undefined) reply.header('content-length', answer.contentLength);
        // Streamed through as it arrives (the response schema documents it; nothing serialises it).
        return reply.send(answer.body as never);
      },
    );
  }
}
