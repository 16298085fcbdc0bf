import type { FastifyInstance } from 'fastify';
import { principalOf } from './api-key-auth.ts';

/** `GET /v1/whoami`: the tenant and the key a request authenticated with (any valid key). */
export function registerWhoamiRoute(app: FastifyInstance): void {
  app.get('/v1/whoami', { config: { requiredScopes: [] } }, async (request) => {
    const { tenant, apiKey } = principalOf(request);
    return { tenant: { id: tenant.id, name: tenant.name }, apiKey };
  });
}
