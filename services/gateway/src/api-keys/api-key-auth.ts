import { type ApiKeyScope, forbidden, ProblemError, unauthenticated } from '@sts/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiKeyAuthentication, ApiKeyPrincipal, ApiKeyService } from './api-key-service.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant and key of this request; set by `apiKeyAuth` on the routes it guards. */
    apiKeyPrincipal: ApiKeyPrincipal | null;
  }
  interface FastifyContextConfig {
    /**
     * The API key scopes a public route needs, all of them (`[]`: any valid key). Every route
     * behind `apiKeyAuth` must say: one that does not is refused when it is registered.
     */
    requiredScopes?: readonly ApiKeyScope[];
  }
}

export interface ApiKeyAuthOptions {
  apiKeys: Pick<ApiKeyService, 'authenticate'>;
}

/** Longer than any key with its scheme: the header is refused without being looked at. */
const MAX_HEADER_LENGTH = 200;

const REFUSALS: Record<Exclude<ApiKeyAuthentication, { ok: true }>['reason'], () => ProblemError> = {
  malformed: () =>
    unauthenticated(
      'The bearer token is not an API key of this gateway (they look like sts_<prefix>_<secret>).',
    ),
  unknown: () => unauthenticated('The API key is not valid: check it was copied whole, or create a new one.'),
  revoked: () =>
    new ProblemError({
      status: 401,
      type: 'api-key-revoked',
      title: 'API key revoked',
      detail: 'This API key was revoked: use another key of the tenant, or create a new one.',
    }),
  'tenant-disabled': () =>
    new ProblemError({
      status: 403,
      type: 'tenant-disabled',
      title: 'Tenant disabled',
      detail:
        'The tenant of this API key is disabled: no key of it is accepted. Contact the gateway operator.',
    }),
};

const unavailable = () =>
  new ProblemError({
    status: 503,
    type: 'unavailable',
    title: 'Temporarily unavailable',
    detail: 'API keys cannot be checked right now; try again.',
  });

export const missingScopes = (missing: readonly string[]) =>
  new ProblemError({
    status: 403,
    type: 'missing-scope',
    title: 'API key lacks a scope',
    detail: `This route needs the scope${missing.length === 1 ? '' : 's'} ${missing.join(', ')}, which this API key does not have: use a key that has ${missing.length === 1 ? 'it' : 'them'}.`,
    errors: missing.map((scope) => ({
      field: 'authorization',
      rule: 'scope',
      message: `The API key needs the scope ${scope}.`,
    })),
  });

function bearerOf(request: FastifyRequest, reply: FastifyReply): string {
  const header = request.headers.authorization;
  const match =
    typeof header === 'string' && header.length <= MAX_HEADER_LENGTH
      ? /^Bearer +([^ ]+) *$/i.exec(header)
      : null;
  if (!match) {
    reply.header('www-authenticate', 'Bearer');
    throw unauthenticated('Send an API key as "Authorization: Bearer <key>".');
  }
  return match[1] ?? '';
}

/**
 * Guards every route registered in the same (encapsulated) scope with an API key: `Authorization:
 * Bearer sts_…` (401 when missing, unknown, wrong or revoked; 403 for a disabled tenant), holding
 * every scope of the route's `config.requiredScopes` (403 naming the missing ones). The key is read
 * from the database on every request: nothing is cached, so a revocation holds at once.
 */
export const apiKeyAuth = fp(
  async (app: FastifyInstance, { apiKeys }: ApiKeyAuthOptions) => {
    if (!app.hasRequestDecorator('apiKeyPrincipal')) app.decorateRequest('apiKeyPrincipal', null);

    app.addHook('onRoute', (route) => {
      if (!Array.isArray(route.config?.requiredScopes)) {
        throw new Error(
          `${route.method} ${route.url} is behind apiKeyAuth but declares no config.requiredScopes ([] for any valid key)`,
        );
      }
    });

    app.addHook('onRequest', async (request, reply) => {
      const key = bearerOf(request, reply);
      let result: ApiKeyAuthentication;
      try {
        result = await apiKeys.authenticate(key);
      } catch (error) {
        request.log.error({ err: error }, 'API key check failed');
        reply.header('retry-after', '5');
        throw unavailable();
      }
      if (!result.ok) {
        if (result.reason !== 'tenant-disabled')
          reply.header('www-authenticate', 'Bearer error="invalid_token"');
        request.log.info({ apiKeyRefused: result.reason }, 'API key refused');
        throw REFUSALS[result.reason]();
      }
      request.apiKeyPrincipal = result.principal;
      const required = request.routeOptions.config.requiredScopes;
      if (!required) throw forbidden('This route accepts no API key.');
      const missing = required.filter((scope) => !result.principal.apiKey.scopes.includes(scope));
      if (missing.length) {
        reply.header('www-authenticate', `Bearer error="insufficient_scope", scope="${missing.join(' ')}"`);
        throw missingScopes(missing);
      }
    });
  },
  { name: 'api-key-auth', fastify: '5.x' },
);

/** The tenant and key of a guarded route's request (a guarded route always has them). */
export function principalOf(request: FastifyRequest): ApiKeyPrincipal {
  if (!request.apiKeyPrincipal) throw unauthenticated('This route needs an API key.');
  return request.apiKeyPrincipal;
}
