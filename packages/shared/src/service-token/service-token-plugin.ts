import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ProblemError } from '../problem.ts';
import type { ServiceTokenClaims, ServiceTokenVerification, ServiceTokenVerifier } from './service-token.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified service token of this request; set by `serviceTokenAuth` on the routes it guards. */
    serviceToken: ServiceTokenClaims | null;
  }
  interface FastifyContextConfig {
    /** The token must carry at least one of these scopes. A guarded route without it refuses every call. */
    acceptedScopes?: readonly string[];
  }
}

export interface ServiceTokenAuthOptions {
  verifier: ServiceTokenVerifier;
}

export const unauthenticated = (detail: string) =>
  new ProblemError({ status: 401, type: 'unauthenticated', title: 'Authentication required', detail });

/** A token presented a second time: its own type, so a caller can tell it from a bad token. */
const replayedToken = () =>
  new ProblemError({
    status: 401,
    type: 'service-token-replayed',
    title: 'Service token already used',
    detail: 'This service token was already used: a token serves one call; mint a new one for every call.',
  });

const replayCheckUnavailable = () =>
  new ProblemError({
    status: 503,
    type: 'unavailable',
    title: 'Temporarily unavailable',
    detail: 'Service tokens cannot be checked right now; try again.',
  });

export const forbidden = (detail: string) =>
  new ProblemError({ status: 403, type: 'forbidden', title: 'Not allowed', detail });

/**
 * Guards every route registered in the same (encapsulated) scope: a valid `Authorization: Bearer`
 * service token is required (401 otherwise), and it must hold one of the route's
 * `config.acceptedScopes` (403 otherwise; routes that declare none are closed). A token is accepted
 * once: a replay is a 401 of type `service-token-replayed`. Register it inside
 * the `register` callback that adds the guarded routes, so other routes (health, mTLS) stay apart.
 */
export const serviceTokenAuth = fp(
  async (app: FastifyInstance, { verifier }: ServiceTokenAuthOptions) => {
    if (!app.hasRequestDecorator('serviceToken')) app.decorateRequest('serviceToken', null);

    app.addHook('onRequest', async (request, reply) => {
      const header = request.headers.authorization;
      const match = typeof header === 'string' ? /^Bearer +([^ ]+) *$/i.exec(header) : null;
      if (!match) {
        reply.header('www-authenticate', 'Bearer');
        throw unauthenticated('Send a service token as "Authorization: Bearer <token>".');
      }
      let result: ServiceTokenVerification;
      try {
        result = await verifier.verify(match[1]!);
      } catch (error) {
        // Redis is away: whether the token was used cannot be known, so it is not accepted.
        request.log.error({ err: error }, 'service token replay check failed');
        throw replayCheckUnavailable();
      }
      if (!result.ok) {
        reply.header('www-authenticate', `Bearer error="invalid_token"`);
        request.log.warn({ tokenProblem: result.problem }, 'service token refused');
        if (result.problem === 'replayed') throw replayedToken();
        throw unauthenticated(`The service token was refused: ${result.message}.`);
      }
      request.serviceToken = result.claims;
      const accepted = request.routeOptions.config.acceptedScopes ?? [];
      if (!accepted.some((scope) => result.claims.scopes.includes(scope))) {
        throw forbidden(
          accepted.length === 0
            ? 'This route accepts no service token.'
            : `The service token lacks the scope this route needs (one of: ${accepted.join(', ')}).`,
        );
      }
    });
  },
  { name: 'service-token-auth', fastify: '5.x' },
);

/** The verified token of a guarded route's request (a guarded route always has one). */
export function serviceTokenOf(request: FastifyRequest): ServiceTokenClaims {
  if (!request.serviceToken) throw unauthenticated('This route needs a service token.');
  return request.serviceToken;
}
