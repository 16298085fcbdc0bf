import { API_KEY_SCOPE_NAMES } from '@sts/shared';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { routeSchema, type ZodTypeProvider } from '../http/route-schema.ts';
import { principalOf } from './api-key-auth.ts';

const whoamiAnswer = z.object({
  tenant: z.object({ id: z.uuid(), name: z.string() }),
  apiKey: z.object({
    id: z.uuid(),
    prefix: z.string().regex(/^[0-9a-f]{16}$/),
    scopes: z.array(z.enum(API_KEY_SCOPE_NAMES)).min(1),
    label: z.string().nullable(),
  }),
});

/** `GET /v1/whoami`: the tenant and the key a request authenticated with (any valid key). */
export function registerWhoamiRoute(app: FastifyInstance): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/whoami',
    {
      config: { requiredScopes: [] },
      schema: routeSchema({
        summary: 'The tenant and API key of this request',
        description:
          'Answers which tenant the API key belongs to and what the key may do: a way to check a key before using it. Any valid key may call it.',
        tags: ['API keys'],
        operationId: 'whoami',
        response: {
          200: {
            description: 'The tenant and the key (never its secret).',
            schema: whoamiAnswer,
            examples: {
              erp: {
                summary: 'A key for an ERP that sends and reads invoices',
                value: {
                  tenant: { id: '0a6d9f5e-3c1b-4e7a-9b2d-5f8e1c4a7b3d', name: 'Clinica San Luca' },
                  apiKey: {
                    id: '7c2e4b1a-9d3f-4a6e-8b5c-1f0e2d3c4b5a',
                    prefix: '3f9c0a1b2c3d4e5f',
                    scopes: ['invoices:write', 'invoices:read'],
                    label: 'ERP',
                  },
                },
              },
            },
          },
        },
      }),
    },
    async (request) => {
      const { tenant, apiKey } = principalOf(request);
      return { tenant: { id: tenant.id, name: tenant.name }, apiKey };
    },
  );
}
