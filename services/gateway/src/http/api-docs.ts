import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { invalidRequest, ProblemError, unauthenticated } from '@sts/shared';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';
import { missingScopes } from '../api-keys/api-key-auth.ts';
import { overloaded, rateLimited } from './protection.ts';
import {
  type Example,
  jsonSerializerCompiler,
  problemResponse,
  type ResponseSpec,
  type RouteSpec,
  routeSpecOf,
  zodValidatorCompiler,
} from './route-schema.ts';

/**
 * OpenAPI 3.1 for the gateway, generated from the routes' `routeSchema` declarations:
 * `/docs` (Swagger UI, every asset served from the package: nothing from a CDN) and
 * `/docs/openapi.json`. Only routes declared with `routeSchema` appear; `/health`, `/metrics` and
 * the docs themselves do not (they are for operators, not for clients of the API).
 */

export const API_KEY_SECURITY_SCHEME = 'apiKey';

type JsonSchema = Record<string, unknown>;
type Examples = Record<string, Example<unknown>>;
type AnyResponse = ResponseSpec<z.ZodType>;

const API_DESCRIPTION = `The public API of the STS gateway: healthcare expense documents in, their Sistema TS status out.

- **Authentication**: every \`/v1\` route needs an API key, \`Authorization: Bearer sts_<prefix>_<secret>\`, holding the scopes the route names (its security requirement lists them).
- **Errors** are \`application/problem+json\` (RFC 9457): \`type\`, \`title\`, \`status\`, \`detail\`, and for a bad request \`errors: [{ field, rule, message }]\` naming each bad field.
- **Limits**: each API key may make a number of requests per minute (\`RateLimit-Limit\`, \`RateLimit-Remaining\`, \`RateLimit-Reset\` on every answer; 429 with \`Retry-After\` past it); an overloaded gateway answers 503 with \`Retry-After\`.`;

/** A zod schema as the JSON Schema 2020-12 that OpenAPI 3.1 speaks; shared definitions go to components. */
function jsonSchemaOf(
  schema: z.ZodType,
  io: 'input' | 'output',
  components: Record<string, unknown>,
): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  const defs = json.$defs as Record<string, unknown> | undefined;
  if (!defs) return json;
  delete json.$defs;
  for (const [name, definition] of Object.entries(defs)) {
    const existing = components[name];
    if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(definition))
      throw new Error(`OpenAPI: two different schemas are both named "${name}" (zod .meta({ id }))`);
    components[name] = definition;
  }
  return JSON.parse(JSON.stringify(json).replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema;
}

/** The answers every route of a kind may give, documented for it unless it declares the status itself. */
function standardResponses(
  spec: RouteSpec,
  scopes: readonly string[] | undefined,
): Record<number, AnyResponse> {
  const responses: Record<number, AnyResponse> = {};
  // A body the handler validates itself is refused with the same problem.
  if (spec.params || spec.querystring || spec.headers || spec.body)
    responses[400] = problemResponse(
      'The request is not valid: `errors` names each bad field, the rule it broke and what to do.',
      invalidRequest([
        {
          field: 'documents.0.amount',
          rule: 'type',
          message: 'Invalid input: expected number, received string',
        },
      ]),
    );
  if (scopes) {
    responses[401] = problemResponse(
      'No API key, or one that is not valid or was revoked.',
      unauthenticated('Send an API key as "Authorization: Bearer <key>".'),
      { headers: { 'www-authenticate': { description: 'Bearer', schema: z.string() } } },
    );
    responses[403] = problemResponse(
      scopes.length
        ? 'The API key lacks a scope the route needs, or its tenant is disabled.'
        : 'The tenant of the API key is disabled.',
      scopes.length
        ? missingScopes(scopes)
        : new ProblemError({
            status: 403,
            type: 'tenant-disabled',
            title: 'Tenant disabled',
            detail:
              'The tenant of this API key is disabled: no key of it is accepted. Contact the gateway operator.',
          }),
    );
    const seconds = z.int().min(0);
    responses[429] = problemResponse(
      'The API key made more requests this minute than it may: send again after `Retry-After` seconds.',
      rateLimited(6_000, '42 seconds'),
      {
        headers: {
          'retry-after': { description: 'Seconds until the window resets', schema: seconds },
          'ratelimit-limit': { description: 'Requests allowed per minute', schema: seconds },
          'ratelimit-remaining': { description: 'Requests left in this window', schema: seconds },
          'ratelimit-reset': { description: 'Seconds until the window resets', schema: seconds },
        },
      },
    );
  }
  responses[503] = problemResponse(
    'The gateway is overloaded, or cannot check API keys right now: send again after `Retry-After` seconds.',
    overloaded(10),
    { headers: { 'retry-after': { description: 'Seconds to wait', schema: z.int().min(0) } } },
  );
  return responses;
}

const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * `transform` and `transformObject` for @fastify/swagger: the first turns a route's `routeSchema`
 * into the JSON Schemas @fastify/swagger reads (hiding every route declared otherwise), the second
 * puts the examples into the finished document (@fastify/swagger would rewrite keys inside example
 * values, e.g. `const`, as if they were schemas).
 */
function openApiTransforms() {
  const examplesByOperation = new Map<
    string,
    {
      body?: { contentType: string; examples: Examples; description?: string };
      responses: Map<string, Examples>;
    }
  >();

  const transform = ({
    schema,
    url,
    route,
    openapiObject,
  }: {
    schema: unknown;
    url: string;
    route: RouteOptions;
    openapiObject: { components?: { schemas?: Record<string, unknown> } };
  }) => {
    const spec = routeSpecOf(schema);
    const methods = [route.method].flat();
    if (!spec || methods.includes('HEAD')) return { schema: { hide: true }, url };
    openapiObject.components ??= {};
    openapiObject.components.schemas ??= {};
    const components = openapiObject.components.schemas;
    const scopes = route.config?.requiredScopes;
    const out: Record<string, unknown> = {
      summary: spec.summary,
      tags: [...spec.tags],
      ...(spec.description ? { description: spec.description } : {}),
      ...(spec.operationId ? { operationId: spec.operationId } : {}),
      ...(spec.deprecated ? { deprecated: true } : {}),
      ...(scopes ? { security: [{ [API_KEY_SECURITY_SCHEME]: [...scopes] }] } : {}),
    };
    for (const part of ['params', 'querystring', 'headers'] as const) {
      const partSchema = spec[part];
      if (!partSchema) continue;
      const json = jsonSchemaOf(partSchema, 'input', components);
      if (json.type !== 'object' || typeof json.properties !== 'object')
        throw new Error(`OpenAPI: ${methods.join(',')} ${url}: ${part} must be a z.object of its parameters`);
      out[part] = json;
    }
    const operation: {
      body?: { contentType: string; examples: Examples; description?: string };
      responses: Map<string, Examples>;
    } = { responses: new Map() };
    if (spec.body) {
      const contentType = spec.body.contentType ?? 'application/json';
      out.body = {
        content: { [contentType]: { schema: jsonSchemaOf(spec.body.schema, 'input', components) } },
      };
      operation.body = {
        contentType,
        examples: spec.body.examples as Examples,
        ...(spec.body.description ? { description: spec.body.description } : {}),
      };
    }
    const responses: Record<string, unknown> = {};
    const all = { ...standardResponses(spec, scopes), ...(spec.response as Record<number, AnyResponse>) };
    for (const [status, answer] of Object.entries(all)) {
      const headers = answer.headers
        ? Object.fromEntries(
            Object.entries(answer.headers).map(([name, header]) => [
              name,
              { ...jsonSchemaOf(header.schema, 'output', components), description: header.description },
            ]),
          )
        : undefined;
      if (!answer.schema) {
        responses[status] = {
          description: answer.description,
          type: 'null',
          ...(headers ? { headers } : {}),
        };
        continue;
      }
      const contentType = answer.contentType ?? 'application/json';
      responses[status] = {
        description: answer.description,
        ...(headers ? { headers } : {}),
        content: { [contentType]: { schema: jsonSchemaOf(answer.schema, 'output', components) } },
      };
      operation.responses.set(status, (answer.examples ?? {}) as Examples);
    }
    out.response = responses;
    for (const method of methods)
      examplesByOperation.set(`${method.toLowerCase()} ${openApiPath(url)}`, operation);
    return { schema: out, url };
  };

  type Media = { schema?: unknown; examples?: Examples };
  type Operation = {
    requestBody?: { description?: string; content: Record<string, Media> };
    responses?: Record<string, { content?: Record<string, Media> }>;
  };
  const transformObject = ({ openapiObject }: { openapiObject: unknown }) => {
    const document = openapiObject as { paths?: Record<string, Record<string, Operation>> };
    for (const [path, operations] of Object.entries(document.paths ?? {})) {
      for (const [method, operation] of Object.entries(operations)) {
        const examples = examplesByOperation.get(`${method} ${path}`);
        if (!examples) continue;
        const body = examples.body;
        const bodyMedia = body ? operation.requestBody?.content[body.contentType] : undefined;
        if (body && bodyMedia) {
          bodyMedia.examples = body.examples;
          if (body.description && operation.requestBody) operation.requestBody.description = body.description;
        }
        for (const [status, named] of examples.responses) {
          for (const media of Object.values(operation.responses?.[status]?.content ?? {}))
            media.examples = named;
        }
      }
    }
    return document as never;
  };
  return { transform, transformObject };
}

/**
 * Sets the gateway's schema compilers (zod validation answered as problems, JSON.stringify for
 * answers) and serves the documentation. Call it on the root app before any route is added.
 */
export function registerApiDocs(app: FastifyInstance): void {
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(jsonSerializerCompiler);
  const { transform, transformObject } = openApiTransforms();
  void app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'STS gateway API', version: '1', description: API_DESCRIPTION },
      components: {
        securitySchemes: {
          [API_KEY_SECURITY_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'sts_<prefix>_<secret>',
            description:
              'An API key of the tenant (made with the gateway CLI), as `Authorization: Bearer sts_…`. The security requirement of each route lists the scopes the key must hold.',
          },
        },
      },
    },
    transform: transform as never,
    transformObject: transformObject as never,
  });
  void app.register(swaggerUi, {
    routePrefix: '/docs',
    theme: { title: 'STS gateway API' },
    uiConfig: { deepLinking: true, displayOperationId: false, defaultModelsExpandDepth: 0 },
  });
  app.get('/docs/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
