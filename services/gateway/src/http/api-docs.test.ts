import { createLogger, createPool, createRedis, type Pool, type Redis } from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testInvoiceDeps } from '../../test-support/invoice-deps.ts';
import { buildApp } from '../app.ts';
import { createCredentialsClient } from '../credentials/credentials-client.ts';
import { createSubmissionProofClient } from '../submissions/submission-proof-client.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

type Media = { schema?: Record<string, unknown>; examples?: Record<string, { value: unknown }> };
type Operation = {
  summary?: string;
  security?: Record<string, string[]>[];
  requestBody?: { content: Record<string, Media> };
  responses?: Record<string, { content?: Record<string, Media> }>;
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown>; securitySchemes?: Record<string, unknown> };
};

/** Every route of a ready app as `METHOD /url`, from `printRoutes` (as tests/no-5xx reads them). */
function routesOf(app: FastifyInstance): { method: string; url: string }[] {
  const routes: { method: string; url: string }[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.*?)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    stack.length = (match[1] ?? '').length / 4;
    stack.push(match[2] ?? '');
    for (const method of match[3]?.split(', ') ?? []) routes.push({ method, url: stack.join('') });
  }
  return routes;
}

/**
 * Routes registered before routeSchema existed and not declared with it yet: listed here so that the
 * test holds for every other route. The list may only shrink: a route on it that is documented fails
 * the test until it is taken off. Do not add to it: declare new routes with routeSchema.
 */
const NOT_YET_DOCUMENTED = new Set<string>([]);

describe('OpenAPI at /docs', () => {
  let pool: Pool;
  let redis: Redis;
  let app: FastifyInstance;
  let document: Document;

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-docs-test' });
    redis = createRedis(redisDatabase.url, 'gateway-docs-test');
    // Every optional dependency given, so that every route the gateway can have is registered (the
    // credentials and submitter clients are never called: documentation only).
    const credentials = createCredentialsClient({
      baseUrl: 'http://127.0.0.1:9',
      signingKey: {
        id: 'docs',
        issuer: 'gateway',
        scopes: ['credentials:manage'],
        secret: Buffer.alloc(32, 1),
      },
    });
    const { invoices, patientHasher } = testInvoiceDeps();
    app = buildApp({
      logger: createLogger({ name: 'gateway', level: 'silent' }),
      pool,
      redis,
      credentials,
      invoices,
      patientHasher,
      submissionProofs: createSubmissionProofClient({
        baseUrl: 'http://127.0.0.1:9',
        signingKey: {
          id: 'docs',
          issuer: 'gateway',
          scopes: ['submissions:read'],
          secret: Buffer.alloc(32, 2),
        },
      }),
    });
    await app.ready();
    const response = await app.inject({ method: 'GET', url: '/docs/openapi.json' });
    expect(response.statusCode, response.body).toBe(200);
    document = response.json() as Document;
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
    redis.disconnect();
  });

  it('is OpenAPI 3.1 with the API key as a bearer scheme, and hides the routes that are not the API', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.components?.securitySchemes?.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const hidden of ['/health', '/metrics', '/docs', '/docs/openapi.json']) {
      expect(document.paths[hidden], hidden).toBeUndefined();
    }
    expect(document.paths['/v1/whoami']?.get?.security).toEqual([{ apiKey: [] }]);
    expect(document.paths['/v1/submissions/{protocol}']?.get?.security).toEqual([
      { apiKey: ['invoices:read'] },
    ]);
  });

  it('documents every /v1 route with a summary, a security requirement and examples that match their schemas', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    const problems: string[] = [];
    const v1 = routesOf(app).filter((route) => route.url.startsWith('/v1') && route.method !== 'HEAD');
    expect(v1.map((route) => `${route.method} ${route.url}`)).toContain('GET /v1/whoami');
    for (const { method, url } of v1) {
      const name = `${method} ${url}`;
      const path = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const operation = document.paths[path]?.[method.toLowerCase()];
      if (NOT_YET_DOCUMENTED.has(name)) {
        if (operation) problems.push(`${name} is documented now: take it off NOT_YET_DOCUMENTED`);
        continue;
      }
      if (!operation) {
        problems.push(
          `${name} is not in /docs/openapi.json: give it schema: routeSchema({...}) (src/http/route-schema.ts)`,
        );
        continue;
      }
      if (!operation.summary) problems.push(`${name} has no summary`);
      if (!operation.security?.some((requirement) => 'apiKey' in requirement))
        problems.push(`${name} has no security requirement: is it registered behind apiKeyAuth?`);
      const media: { where: string; media: Media }[] = [
        ...Object.entries(operation.requestBody?.content ?? {}).map(([type, m]) => ({
          where: `request body (${type})`,
          media: m,
        })),
        ...Object.entries(operation.responses ?? {}).flatMap(([status, response]) =>
          Object.entries(response.content ?? {}).map(([type, m]) => ({
            where: `response ${status} (${type})`,
            media: m,
          })),
        ),
      ];
      const own = media.filter(
        ({ where }) => !/^response (400|401|403|429|503) \(application\/problem/.test(where),
      );
      if (!own.some(({ media: m }) => Object.keys(m.examples ?? {}).length))
        problems.push(`${name} has no example of its own (give its body or a response examples)`);
      for (const { where, media: m } of media) {
        if (!m.schema) continue;
        if (!Object.keys(m.examples ?? {}).length)
          problems.push(`${name}: ${where} has a schema but no example`);
        const validate = ajv.compile({ ...m.schema, components: document.components });
        for (const [exampleName, example] of Object.entries(m.examples ?? {})) {
          if (!validate(example.value))
            problems.push(
              `${name}: ${where}, example "${exampleName}" does not match its schema: ${ajv.errorsText(validate.errors)}`,
            );
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('serves the UI at /docs from its own assets, nothing from another host', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? '');
    expect(assets.length).toBeGreaterThan(2);
    for (const asset of assets) {
      expect(asset).not.toMatch(/^(?:[a-z]+:)?\/\//i);
      const url = asset.startsWith('/') ? asset : `/docs/${asset.replace(/^\.\//, '')}`;
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
    }
    const initializer = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    // No spec validator badge (it would call validator.swagger.io); the spec is read from here.
    expect(initializer.body).toContain('validatorUrl: null');
    expect(initializer.body).toContain("resolveUrl('./json')");
  });
});
