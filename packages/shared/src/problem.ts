import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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

/** The longest path parameter a route takes (fastify's `maxParamLength`); longer ones answer 414. */
export const MAX_PARAM_LENGTH = 100;

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

/** What a request's part looks like in a message: short, one line, no control characters. */
const shown = (value: unknown, max = 80) => {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we hide
  const text = String(value ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return text.length > max ? `${text.slice(0, max)}…` : text;
};

/** A 4xx about one part of the request (`field`: a body field, a header, `path`, `body`…). */
export const requestProblem = (
  status: number,
  type: string,
  title: string,
  problem: FieldProblem,
): ProblemError => new ProblemError({ status, type, title, detail: problem.message, errors: [problem] });

/**
 * The errors fastify raises about a request before a handler runs (routing, body parsing), said as
 * problems naming the part of the request and the rule. `limits` gives the figures the rule has.
 */
export function frameworkProblem(
  error: { code?: string; message: string },
  request: { headers: Record<string, unknown> },
  limits: { bodyLimit?: number; maxParamLength?: number },
): ProblemError | undefined {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return requestProblem(400, 'invalid-url', 'The URL cannot be decoded', {
        field: 'path',
        rule: 'url-encoding',
        message:
          'The path has a "%" not followed by two hexadecimal digits, or percent-encoded bytes that are not UTF-8: percent-encode every reserved character of a path segment.',
      });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return requestProblem(414, 'uri-too-long', 'A path segment is too long', {
        field: 'path',
        rule: 'max-length',
        message: `A path parameter is longer than ${limits.maxParamLength ?? 100} characters: no identifier of this API is that long.`,
      });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return requestProblem(413, 'payload-too-large', 'The body is too large', {
        field: 'body',
        rule: 'max-size',
        message: `The body is larger than ${limits.bodyLimit ?? 'the limit of'} bytes this route takes.`,
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return requestProblem(415, 'unsupported-media-type', 'The body is of a type this route does not read', {
        field: 'content-type',
        rule: 'media-type',
        message: `The body's content type "${shown(request.headers['content-type'])}" is not one this route reads: send JSON with "content-type: application/json".`,
      });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return requestProblem(400, 'invalid-request', 'The request is not valid', {
        field: 'content-length',
        rule: 'matches-body',
        message: 'The content-length header does not match the length of the body.',
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return requestProblem(400, 'invalid-request', 'The request is not valid', {
        field: 'body',
        rule: 'json',
        message:
          'The body is empty but the content type says JSON: send a JSON document, or no content-type.',
      });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return requestProblem(400, 'invalid-request', 'The request is not valid', {
        field: 'body',
        rule: 'json',
        message:
          'The body is not valid JSON (or has a "__proto__" or "constructor.prototype" key, which is refused): send a JSON document.',
      });
    default:
      return undefined;
  }
}

/** Any other 4xx fastify or a plugin raised: said as it is, naming the request as the part at fault. */
function otherClientProblem(error: FastifyError, status: number): ProblemError {
  const rule = error.code
    ? error.code
        .replace(/^FST_ERR_/, '')
        .toLowerCase()
        .replaceAll('_', '-')
    : 'http';
  return requestProblem(status, 'client-error', 'The request cannot be processed', {
    field: 'request',
    rule,
    message: shown(error.message, 300),
  });
}

/** The status an error asks for when it is the client's: 4xx only, anything else is ours. */
const clientStatus = (error: FastifyError): number | undefined => {
  const status = error.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
};

const internalProblem = () =>
  new ProblemError({
    status: 500,
    type: 'internal',
    title: 'Internal error',
    detail: 'Something went wrong on our side; the request id identifies it in our logs.',
  });

/** The problem for any error a request ended in; logs what is not the client's doing. */
export function problemFor(error: FastifyError, request: FastifyRequest): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error.validation) return fromFastifyValidation(error);
  const framework = frameworkProblem(error, request, {
    maxParamLength: MAX_PARAM_LENGTH,
    // Only a routed request has route options (not one fastify refused while routing).
    ...(error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? { bodyLimit: request.routeOptions.bodyLimit } : {}),
  });
  if (framework) return framework;
  const status = clientStatus(error);
  if (status) return otherClientProblem(error, status);
  request.log.error({ err: error }, 'unhandled error');
  return internalProblem();
}

/** Sends `problem` as application/problem+json, its instance the path without the query. */
export function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: ProblemError) {
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .send(problem.toProblem(request.url.split('?')[0]));
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
        detail: `No route for ${shown(request.method, 20)} ${shown(request.url.split('?')[0], 200)}.`,
      });
      return sendProblem(reply, request, problem);
    });

    app.setErrorHandler((error: FastifyError, request, reply) =>
      sendProblem(reply, request, problemFor(error, request)),
    );
  },
  { name: 'problem-details' },
);
