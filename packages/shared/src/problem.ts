import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** One bad field in a request: where, which rule it broke, and a sentence a person can act on. */
export interface FieldProblem {
  field: string;
  rule: string;
  message: string;
}

/** RFC 9457 problem details, as every service answers errors. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldProblem[];
}

const PROBLEM_BASE = 'https://sts-gateway.dev/problems/';

/** An error that knows how to present itself to a client. Throw it from any route. */
export class ProblemError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly errors: FieldProblem[] | undefined;

  constructor(options: {
    status: number;
    type: string;
    title: string;
    detail?: string;
    errors?: FieldProblem[];
  }) {
    super(options.detail ?? options.title);
    this.name = 'ProblemError';
    this.status = options.status;
    this.type = options.type;
    this.title = options.title;
    this.errors = options.errors;
  }

  toProblem(instance?: string): ProblemDetails {
    return {
      type: PROBLEM_BASE + this.type,
      title: this.title,
      status: this.status,
      detail: this.message,
      ...(instance ? { instance } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export const notFound = (what: string) =>
  new ProblemError({ status: 404, type: 'not-found', title: 'Not found', detail: `${what} was not found.` });

export const invalidRequest = (errors: FieldProblem[]) =>
  new ProblemError({
    status: 400,
    type: 'invalid-request',
    title: 'The request is not valid',
    detail: `${errors.length} field${errors.length === 1 ? '' : 's'} did not pass validation.`,
    errors,
  });

function fromFastifyValidation(error: FastifyError): ProblemError {
  return invalidRequest(
    (error.validation ?? []).map((item) => {
      const missing = (item.params as { missingProperty?: string } | undefined)?.missingProperty;
      const base = item.instancePath ? item.instancePath.slice(1).replaceAll('/', '.') : '';
      const field = missing
        ? [base, missing].filter(Boolean).join('.')
        : base || (error.validationContext ?? 'body');
      return { field, rule: item.keyword, message: item.message ?? 'is not valid' };
    }),
  );
}

/**
 * Answers every error as application/problem+json. Client errors keep their message; anything
 * unexpected becomes a bare 500 whose detail never echoes internals (they may hold secrets).
 */
export const problemPlugin = fp(
  async (app: FastifyInstance) => {
    app.setNotFoundHandler((request, reply) => {
      const problem = new ProblemError({
        status: 404,
        type: 'not-found',
        title: 'Not found',
        detail: `No route for ${request.method} ${request.url.split('?')[0]}.`,
      });
      return reply.code(404).type('application/problem+json').send(problem.toProblem(request.url));
    });

    app.setErrorHandler((error: FastifyError, request, reply) => {
      let problem: ProblemError;
      if (error instanceof ProblemError) {
        problem = error;
      } else if (error.validation) {
        problem = fromFastifyValidation(error);
      } else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
        problem = new ProblemError({
          status: error.statusCode,
          type: 'client-error',
          title: 'The request cannot be processed',
          detail: error.message,
        });
      } else {
        request.log.error({ err: error }, 'unhandled error');
        problem = new ProblemError({
          status: 500,
          type: 'internal',
          title: 'Internal error',
          detail: 'Something went wrong on our side; the request id identifies it in our logs.',
        });
      }
      return reply
        .code(problem.status)
        .type('application/problem+json')
        .send(problem.toProblem(request.url.split('?')[0]));
    });
  },
  { name: 'problem-details' },
);
