import { notFound, ProblemError, SUBMISSION_PROTOCOL_PATTERN, submissionStatusSchema } from '@sts/shared';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../api-keys/api-key-auth.ts';
import { problemResponse, routeSchema, type ZodTypeProvider } from '../http/route-schema.ts';
import type { InvoiceReadService } from '../invoices/read/invoice-read-service.ts';
import { type SubmissionProofClient, SubmitterUnavailableError } from './submission-proof-client.ts';

const params = z.object({
  protocol: z
    .string()
    .regex(SUBMISSION_PROTOCOL_PATTERN, 'An STS protocol is 17 digits.')
    .describe('The STS protocol of the submission (17 digits), as an invoice event shows it'),
});

/** The submitter's answer (packages/shared/src/contracts/submission-status.ts) and where its proofs are. */
const submission = submissionStatusSchema
  .extend({
    receiptUrl: z
      .string()
      .describe(
        'Where the STS receipt (PDF) is downloaded: `GET /v1/submissions/{protocol}/receipt` (409 while the STS has not produced it; 404 for a single-document send, which has none)',
      ),
    errorsUrl: z
      .string()
      .describe(
        'Where the per-document errors (CSV) are downloaded: `GET /v1/submissions/{protocol}/errors` (404 when there are none: a file without errors, a single-document send)',
      ),
  })
  .describe('A submission to the STS (a 730 file, or a single-document send) and its documents by outcome');
type Submission = z.infer<typeof submission>;

const EXAMPLE_PROTOCOL = '26030211354512345';
const examples = {
  completed: {
    summary: 'A 730 file the STS has processed',
    value: {
      protocol: EXAMPLE_PROTOCOL,
      credentialId: '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f',
      state: 'completed',
      sentAt: '2026-03-02T10:35:45.000Z',
      completedAt: '2026-03-02T11:02:10.000Z',
      documents: { total: 2500, accepted: 2480, acceptedWithWarnings: 12, rejected: 8, pending: 0 },
      receiptUrl: `/v1/submissions/${EXAMPLE_PROTOCOL}/receipt`,
      errorsUrl: `/v1/submissions/${EXAMPLE_PROTOCOL}/errors`,
    },
  },
  received: {
    summary: 'A 730 file still being processed',
    value: {
      protocol: '26030299999999999',
      credentialId: '3f1c2a4e-8b7d-4c6a-9e2f-1a2b3c4d5e6f',
      state: 'received',
      sentAt: '2026-03-02T10:35:45.000Z',
      completedAt: null,
      documents: { total: 2500, accepted: 0, acceptedWithWarnings: 0, rejected: 0, pending: 2500 },
      receiptUrl: '/v1/submissions/26030299999999999/receipt',
      errorsUrl: '/v1/submissions/26030299999999999/errors',
    },
  },
  single: {
    summary: 'A single-document send',
    value: {
      protocol: '26030288888888888',
      credentialId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      state: 'completed',
      sentAt: '2026-03-02T10:35:45.000Z',
      completedAt: '2026-03-02T10:35:46.000Z',
      documents: { total: 1, accepted: 1, acceptedWithWarnings: 0, rejected: 0, pending: 0 },
      receiptUrl: '/v1/submissions/26030288888888888/receipt',
      errorsUrl: '/v1/submissions/26030288888888888/errors',
    },
  },
} as const satisfies Record<string, { summary: string; value: Submission }>;

const unavailable = () =>
  new ProblemError({
    status: 503,
    type: 'unavailable',
    title: 'Temporarily unavailable',
    detail: 'The status of submissions cannot be read right now; try again.',
  });

/**
 * `GET /v1/submissions/:protocol`, scope `invoices:read`: how one send to the STS is doing (a 730
 * file, or a single-document send), its documents by outcome, and where its proofs are. As for the
 * receipt route, only a protocol that one of the tenant's invoice events carries is asked of the
 * submitter (404 otherwise, without calling it); the submitter answers only for the token's tenant.
 */
export function registerSubmissionStatusRoute(
  app: FastifyInstance,
  {
    invoices,
    submissions,
  }: { invoices: Pick<InvoiceReadService, 'hasProtocol'>; submissions: SubmissionProofClient },
) {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/submissions/:protocol',
    {
      config: { requiredScopes: ['invoices:read'] },
      schema: routeSchema({
        summary: 'A submission and its documents by outcome',
        description: [
          'How the submission with this STS protocol is doing: a 730 file (batch) or a single-document send (`total` 1).',
          '`state`: `received` (the STS has it, outcome not known yet), `completed` (each document’s outcome in `documents`), `rejected` (the STS refused the file as a whole).',
          '`receiptUrl` and `errorsUrl` are the routes of its receipt (PDF) and error detail (CSV); a single-document send has neither (those routes answer 404 for it), the single-document answer being its proof.',
          'Only a protocol that one of the tenant’s invoice events carries is served (404 otherwise); a protocol that is not 17 digits is a 400 naming the field `protocol` and the rule `pattern`.',
        ].join('\n\n'),
        tags: ['Submissions'],
        operationId: 'getSubmission',
        params,
        response: {
          200: { description: 'The submission.', schema: submission, examples },
          404: problemResponse(
            'No submission of this tenant has this protocol.',
            notFound('The submission'),
            {
              instance: `/v1/submissions/${EXAMPLE_PROTOCOL}`,
            },
          ),
        },
      }),
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { protocol } = request.params;
      if (!(await invoices.hasProtocol(principal.tenant.id, protocol))) throw notFound('The submission');
      let answer: Awaited<ReturnType<SubmissionProofClient['status']>>;
      try {
        answer = await submissions.status(
          { tenantId: principal.tenant.id, apiKeyId: principal.apiKey.id, requestId: request.id },
          protocol,
        );
      } catch (error) {
        if (!(error instanceof SubmitterUnavailableError)) throw error;
        request.log.warn(
          { reason: error.reason, upstreamStatus: error.upstreamStatus, code: error.code },
          'submitter unavailable for a submission status',
        );
        reply.header('retry-after', '5');
        throw unavailable();
      }
      if (answer.status === 404) throw notFound('The submission');
      const path = `/v1/submissions/${protocol}`;
      reply.header('cache-control', 'private, no-store');
      return {
        ...answer.body,
        receiptUrl: `${path}/receipt`,
        errorsUrl: `${path}/errors`,
      } satisfies Submission;
    },
  );
}
