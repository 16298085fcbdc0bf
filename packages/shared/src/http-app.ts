import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from './logger.ts';
import { problemPlugin } from './problem.ts';

export interface HttpAppOptions {
  logger: Logger;
  /** Upper bound for any request body; routes that take bulk payloads set their own. */
  bodyLimit?: number;
}

/**
 * The fastify instance every service starts from: our logger, request ids, problem+json errors.
 * Services add their routes (and `/health`) on top.
 */
export function createHttpApp({ logger, bodyLimit = 1024 * 1024 }: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit,
    requestIdHeader: 'x-request-id',
  });
  void app.register(problemPlugin);
  return app as unknown as FastifyInstance;
}
