import { type IncomingMessage, maxHeaderSize, STATUS_CODES } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from './logger.ts';
import {
  type FieldProblem,
  frameworkProblem,
  MAX_PARAM_LENGTH,
  problemFor,
  problemPlugin,
  requestProblem,
  sendProblem,
} from './problem.ts';

export interface HttpAppOptions {
  logger: Logger;
  /** Upper bound for any request body; routes that take bulk payloads set their own. */
  bodyLimit?: number;
  /** Serve HTTPS with these TLS options (the credentials service, for operators' mutual TLS). */
  https?: HttpsServerOptions;
}

/** A caller's `x-request-id` is kept when it is a short token of visible ASCII; ours otherwise. */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * What Node's HTTP parser refuses before fastify sees a request (llhttp's error codes), as the part
 * of the request and the rule it broke. Every one is a 4xx: a method or HTTP version the parser does
 * not know is the client's mistake too (not 501 or 505), so that input never earns a 5xx.
 */
const PARSER_PROBLEMS: Record<string, { status: number } & FieldProblem> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    field: 'headers',
    rule: 'max-size',
    message: `The request line and headers are larger than ${maxHeaderSize} bytes in all: send fewer or shorter headers.`,
  },
  HPE_INVALID_HEADER_TOKEN: {
    status: 400,
    field: 'headers',
    rule: 'characters',
    message:
      'A header name or value has a character HTTP does not allow (NUL, a control character, a space or separator in a name): remove it.',
  },
  HPE_INVALID_METHOD: {
    status: 400,
    field: 'method',
    rule: 'http-method',
    message: 'The request method is not one HTTP defines.',
  },
  HPE_INVALID_URL: {
    status: 400,
    field: 'path',
    rule: 'url-syntax',
    message: 'The request target has characters a URL cannot contain: percent-encode them.',
  },
  HPE_INVALID_VERSION: {
    status: 400,
    field: 'http-version',
    rule: 'http-1.1',
    message: 'The HTTP version is not one this server speaks: use HTTP/1.1.',
  },
  HPE_INVALID_CONTENT_LENGTH: {
    status: 400,
    field: 'content-length',
    rule: 'number',
    message: 'The content-length header is not a number.',
  },
  HPE_UNEXPECTED_CONTENT_LENGTH: {
    status: 400,
    field: 'content-length',
    rule: 'one-length',
    message: 'A request has either content-length or chunked transfer-encoding, once, not both.',
  },
  HPE_INVALID_TRANSFER_ENCODING: {
    status: 400,
    field: 'transfer-encoding',
    rule: 'chunked',
    message: 'The only transfer-encoding this server reads is "chunked", last.',
  },
  HPE_INVALID_CHUNK_SIZE: {
    status: 400,
    field: 'transfer-encoding',
    rule: 'chunked',
    message: 'A chunk of the body does not start with its size in hexadecimal.',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    field: 'transfer-encoding',
    rule: 'max-size',
    message: 'The chunk extensions of the body are too large.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    field: 'request',
    rule: 'timeout',
    message: 'The request did not arrive in time: send it again.',
  },
};
const MALFORMED_REQUEST = {
  status: 400,
  field: 'request',
  rule: 'http-syntax',
  message: 'The request is not valid HTTP/1.1.',
};

/**
 * Node's `clientError`: the parser refused the bytes, so there is no request or reply, only the
 * socket. Writes one problem+json answer by hand, closes, and drops the socket when the client has
 * read it (or soon after), so that the answer is not lost to a reset.
 */
function answerClientError(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, ...part } = PARSER_PROBLEMS[error.code ?? ''] ?? MALFORMED_REQUEST;
  this.log.debug({ clientError: error.code, status }, 'request refused by the HTTP parser');
  // An answer already under way on this connection (keep-alive) cannot be followed by another.
  const pending = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !pending?.headersSent) {
    const body = JSON.stringify(
      requestProblem(status, 'invalid-http', 'The request is not valid HTTP', part).toProblem(),
    );
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.once('end', () => socket.destroy());
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/**
 * The fastify instance every service starts from: our logger, request ids, problem+json for every
 * error, including those raised before a route runs (bad URL encoding, over-long path parameters)
 * and those Node's HTTP parser raises (oversized or invalid headers). Services add their routes (and
 * `/health`) on top.
 */
export function createHttpApp({ logger, bodyLimit = 1024 * 1024, https }: HttpAppOptions): FastifyInstance {
  let lastId = 0;
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit,
    requestIdHeader: false,
    genReqId: (request: IncomingMessage) => {
      const given = request.headers['x-request-id'];
      if (typeof given === 'string' && REQUEST_ID.test(given)) return given;
      lastId = (lastId + 1) % 2_147_483_647;
      return `req-${lastId.toString(36)}`;
    },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: (error: FastifyError, request, reply) =>
      sendProblem(
        reply,
        request,
        frameworkProblem(error, request, { maxParamLength: MAX_PARAM_LENGTH }) ?? problemFor(error, request),
      ),
    clientErrorHandler: answerClientError,
    ...(https ? { https } : {}),
  });
  void app.register(problemPlugin);
  // Graceful close: app.close() stops accepting connections and waits for the requests in flight
  // (then runs the onClose hooks: background tasks). An answer given while closing says
  // `Connection: close`, so a keep-alive client does not hold the close up for the keep-alive timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  return app as unknown as FastifyInstance;
}
