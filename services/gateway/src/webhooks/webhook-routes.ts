import { API_KEY_SCOPES, notFound } from '@sts/shared';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { principalOf } from '../api-keys/api-key-auth.ts';
import { problemResponse, routeSchema, type ZodTypeProvider } from '../http/route-schema.ts';
import { MAX_WEBHOOK_URL_LENGTH } from './webhook-endpoints-table.ts';
import { WEBHOOK_EVENT_TYPES } from './webhook-events.ts';
import type { WebhookService } from './webhook-service.ts';

const MANAGE = { requiredScopes: [API_KEY_SCOPES.webhooksManage] } as const;
const TAGS = ['Webhooks'] as const;

const eventTypes = z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(20);
const endpoint = z.object({
  id: z.uuid(),
  url: z.string(),
  description: z.string().nullable(),
  eventTypes,
  enabled: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
const withSecret = z.object({
  endpoint,
  secret: z.string().describe('The signing secret, shown this once: keep it in the receiver.'),
});
const delivery = z.object({
  id: z.uuid(),
  eventId: z.uuid().describe('The Webhook-Id sent; the same for a replay'),
  eventType: z.enum(WEBHOOK_EVENT_TYPES),
  status: z.enum(['pending', 'succeeded', 'failed']),
  replayOf: z.uuid().nullable(),
  createdAt: z.iso.datetime(),
  completedAt: z.iso.datetime().nullable(),
  attempts: z.array(
    z.object({
      at: z.iso.datetime(),
      durationMs: z.number().int(),
      httpStatus: z.number().int().nullable(),
      errorClass: z.string().nullable(),
    }),
  ),
});
const idParams = z.object({ id: z.string().max(100) });
const deliveryParams = z.object({ id: z.string().max(100), deliveryId: z.string().max(100) });
const createBody = z.strictObject({
  url: z.string().max(MAX_WEBHOOK_URL_LENGTH),
  eventTypes,
  description: z.string().max(500).nullish(),
  enabled: z.boolean().optional(),
});
const updateBody = z.strictObject({
  url: z.string().max(MAX_WEBHOOK_URL_LENGTH).optional(),
  eventTypes: eventTypes.optional(),
  description: z.string().max(500).nullable().optional(),
  enabled: z.boolean().optional(),
});

const EXAMPLE_ENDPOINT = {
  id: '5b1e8c3a-2f4d-4e6a-9c7b-0d1e2f3a4b5c',
  url: 'https://erp.clinica.example/webhooks/sts',
  description: 'ERP status updates',
  eventTypes: ['submission.completed', 'credential.invalid'] as (
    | 'submission.completed'
    | 'credential.invalid'
  )[],
  enabled: true,
  createdAt: '2026-12-07T10:00:00.000Z',
  updatedAt: '2026-12-07T10:00:00.000Z',
};
const EXAMPLE_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw3Gm0C9q3Fj8=';
const EXAMPLE_DELIVERY = {
  id: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
  eventId: '1f2e3d4c-5b6a-4978-8a6b-5c4d3e2f1a0b',
  eventType: 'submission.completed' as const,
  status: 'succeeded' as const,
  replayOf: null,
  createdAt: '2026-12-07T10:05:00.000Z',
  completedAt: '2026-12-07T10:05:41.000Z',
  attempts: [
    { at: '2026-12-07T10:05:00.000Z', durationMs: 120, httpStatus: 500, errorClass: 'http-status' },
    { at: '2026-12-07T10:05:41.000Z', durationMs: 95, httpStatus: 204, errorClass: null },
  ],
};
const notFoundEndpoint = problemResponse(
  'No such endpoint for this tenant',
  notFound('The webhook endpoint'),
  {
    instance: '/v1/webhooks/5b1e8c3a-2f4d-4e6a-9c7b-0d1e2f3a4b5c',
  },
);

/**
 * `/v1/webhooks…` (scope `webhooks:manage`): a tenant's webhook endpoints, their deliveries and
 * replays. Another tenant's ids are "not found". The secret is in the answers of create and rotate
 * only.
 */
export function registerWebhookRoutes(
  app: FastifyInstance,
  { webhooks }: { webhooks: WebhookService },
): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/v1/webhooks',
    {
      config: MANAGE,
      schema: routeSchema({
        summary: 'Create a webhook endpoint',
        description:
          'Registers a URL (https; at most 2048 characters; no user or password in it) for the chosen event types. The answer holds the signing secret, shown this once.',
        tags: TAGS,
        operationId: 'createWebhook',
        body: {
          schema: createBody,
          examples: {
            erp: {
              value: {
                url: EXAMPLE_ENDPOINT.url,
                eventTypes: EXAMPLE_ENDPOINT.eventTypes,
                description: EXAMPLE_ENDPOINT.description,
              },
            },
          },
        },
        response: {
          201: {
            description: 'The endpoint and its secret',
            schema: withSecret,
            examples: { created: { value: { endpoint: EXAMPLE_ENDPOINT, secret: EXAMPLE_SECRET } } },
          },
        },
      }),
    },
    async (request, reply) => {
      const created = await webhooks.createEndpoint(principalOf(request).tenant.id, request.body);
      reply.code(201).header('location', `/v1/webhooks/${created.endpoint.id}`);
      return created;
    },
  );

  api.get(
    '/v1/webhooks',
    {
      config: MANAGE,
      schema: routeSchema({
        summary: 'List the webhook endpoints',
        tags: TAGS,
        operationId: 'listWebhooks',
        response: {
          200: {
            description: "The tenant's endpoints, oldest first",
            schema: z.object({ endpoints: z.array(endpoint) }),
            examples: { one: { value: { endpoints: [EXAMPLE_ENDPOINT] } } },
          },
        },
      }),
    },
    async (request) => ({ endpoints: await webhooks.listEndpoints(principalOf(request).tenant.id) }),
  );

  api.get(
    '/v1/webhooks/:id',
    {
      config: MANAGE,
      schema: routeSchema({
        summary: 'Get a webhook endpoint',
        tags: TAGS,
        operationId: 'getWebhook',
        params: idParams,
        response: {
          200: {
            description: 'The endpoint',
            schema: endpoint,
            examples: { one: { value: EXAMPLE_ENDPOINT } },
          },
          404: notFoundEndpoint,
        },
      }),
    },
    async (request) => webhooks.getEndpoint(principalOf(request).tenant.id, request.params.id),
  );

  api.patch(
    '/v1/webhooks/:id',
    {
      config: MANAGE,
      schema: routeSchema({
        summary: 'Change a webhook endpoint',
        description: 'Changes the URL, the event types, the description or whether it is enabled.',
        tags: TAGS,
        operationId: 'updateWebhook',
        params: idParams,
        body: { schema: updateBody, examples: { disable: { value: { enabled: false } } } },
        response: {
          200: {
            description: 'The endpoint as it is now',
            schema: endpoint,
            examples: { disabled: { value: { ...EXAMPLE_ENDPOINT, enabled: false } } },
          },
          404: notFoundEndpoint,
        },
      }),
    },
    async (request) =>
      webhooks.updateEndpoint(principalOf(request).tenant.id, request.params.id, request.body),
  );

  api.delete(
    '/v1/webhooks/:id',
    {
      config: MANAGE,
      schema: routeSchema({
        summary: 'Delete a webhook endpoint',
        description: 'Deletes the endpoint and its delivery log; deliveries in progress stop.',
        tags: TAGS,
        operationId: 'deleteWebhook',
        params: idParams,
        response: { 204: { description: 'Deleted' }, 404: notFoundEndpoint },
      }),
    },
    async (request, reply) => {
      await webhooks.deleteEndpoint(principalOf(request).tenant.id, request.params.id);
      return reply.code(204).send();
    },
  );

  api.post(
    '/v1/webhooks/:id/rotate-secret',
    {
      config: MANAGE,
      schema: routeSchema({
        summary: "Rotate a webhook endpoint's secret",
        description:
          'Makes a new secret, shown this once. For 24 hours deliveries carry two signatures, with the new and the old secret, so the receiver can switch without refusing any.',
        tags: TAGS,
        operationId: 'rotateWebhookSecret',
        params: idParams,
        response: {
          200: {
            description: 'The endpoint and its new secret',
            schema: withSecret.extend({ previousSecretExpiresAt: z.iso.datetime() }),
            examples: {
              rotated: {
                value: {
                  endpoint: EXAMPLE_ENDPOINT,
                  secret: EXAMPLE_SECRET,
                  previousSecretExpiresAt: '2026-12-08T10:00:00.000Z',
                },
              },
            },
          },
          404: notFoundEndpoint,
        },
      }),
    },
    async (request) => webhooks.rotateSecret(principalOf(request).tenant.id, request.params.id),
  );

  api.get(
    '/v1/webhooks/:id/deliveries',
    {
      config: MANAGE,
      schema: routeSchema({
        summary: "List a webhook endpoint's deliveries",
        description:
          'Newest first, each with its attempts (time, duration, HTTP status or error class). Pass `nextCursor` as `cursor` for the next page.',
        tags: TAGS,
        operationId: 'listWebhookDeliveries',
        params: idParams,
        querystring: z.object({
          cursor: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(100).optional(),
        }),
        response: {
          200: {
            description: 'One page of deliveries',
            schema: z.object({ deliveries: z.array(delivery), nextCursor: z.string().nullable() }),
            examples: { page: { value: { deliveries: [EXAMPLE_DELIVERY], nextCursor: null } } },
          },
          404: notFoundEndpoint,
        },
      }),
    },
    async (request) =>
      webhooks.listDeliveries(principalOf(request).tenant.id, request.params.id, {
        ...(request.query.cursor ? { cursor: request.query.cursor } : {}),
        ...(request.query.limit ? { limit: request.query.limit } : {}),
      }),
  );

  api.post(
    '/v1/webhooks/:id/deliveries/:deliveryId/replay',
    {
      config: MANAGE,
      schema: routeSchema({
        summary: 'Send a delivery again',
        description:
          'Sends the same event (same `Webhook-Id` and body, signed anew) as a new delivery. Refused (409) while the delivery is still being retried or the endpoint is disabled.',
        tags: TAGS,
        operationId: 'replayWebhookDelivery',
        params: deliveryParams,
        response: {
          202: {
            description: 'Queued',
            schema: z.object({ deliveryId: z.uuid(), eventId: z.uuid(), status: z.literal('pending') }),
            examples: {
              queued: {
                value: {
                  deliveryId: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f',
                  eventId: EXAMPLE_DELIVERY.eventId,
                  status: 'pending',
                },
              },
            },
          },
          404: problemResponse('No such endpoint or delivery for this tenant', notFound('The delivery')),
        },
      }),
    },
    async (request, reply) => {
      const replay = await webhooks.replayDelivery(
        principalOf(request).tenant.id,
        request.params.id,
        request.params.deliveryId,
      );
      return reply.code(202).send(replay);
    },
  );
}
