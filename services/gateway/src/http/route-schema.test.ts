import { createHttpApp, createLogger } from '@sts/shared';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { registerApiDocs } from './api-docs.ts';
import { routeSchema, type ZodTypeProvider } from './route-schema.ts';

const logger = createLogger({ name: 'gateway', level: 'silent' });

const thing = z.strictObject({
  name: z.string().min(1),
  amount: z.number().positive(),
  lines: z.array(z.object({ code: z.enum(['SP', 'TK']) })).min(1),
});

function appWithRoutes() {
  const app = createHttpApp({ logger });
  registerApiDocs(app);
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.post(
    '/things/:id',
    {
      schema: routeSchema({
        summary: 'Make a thing',
        tags: ['Test'],
        params: z.object({ id: z.string().regex(/^\d+$/) }),
        querystring: z.object({ limit: z.coerce.number().int().max(100).optional() }),
        body: {
          schema: thing,
          examples: { one: { value: { name: 'a', amount: 1, lines: [{ code: 'SP' }] } } },
        },
        response: {
          200: {
            description: 'Made',
            schema: z.object({ ok: z.boolean() }),
            examples: { ok: { value: { ok: true } } },
          },
        },
      }),
    },
    async (request) => {
      // Typed from the zod schemas: a parsed number, a parsed body.
      const limit: number | undefined = request.query.limit;
      const name: string = request.body.name;
      return { ok: Boolean(name) && (limit ?? 0) >= 0 };
    },
  );
  typed.post(
    '/raw',
    {
      schema: routeSchema({
        summary: 'A body the handler reads itself',
        tags: ['Test'],
        body: {
          schema: thing,
          contentType: 'application/json',
          validation: 'handler',
          examples: { one: { value: { name: 'a', amount: 1, lines: [{ code: 'SP' }] } } },
        },
        response: { 200: { description: 'Echo', schema: z.unknown(), examples: { any: { value: {} } } } },
      }),
    },
    async (request) => ({ received: request.body }),
  );
  return app;
}

describe('routeSchema validation', () => {
  it('answers a bad request with one invalid-request problem naming each field, rule and message', async () => {
    const app = appWithRoutes();
    const response = await app.inject({
      method: 'POST',
      url: '/things/abc?limit=500',
      payload: { amount: '3', lines: [{ code: 'XX' }], extra: 1 },
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json() as {
      type: string;
      errors: { field: string; rule: string; message: string }[];
    };
    expect(problem.type).toMatch(/\/invalid-request$/);
    // fastify validates params first, and stops at the first part that fails.
    expect(problem.errors).toEqual([{ field: 'id', rule: 'pattern', message: expect.any(String) }]);

    const body = await app.inject({
      method: 'POST',
      url: '/things/12',
      payload: { amount: '3', lines: [{ code: 'XX' }], extra: 1 },
    });
    expect(body.statusCode).toBe(400);
    const fields = (body.json() as { errors: { field: string; rule: string; message: string }[] }).errors;
    expect(fields.map(({ field, rule }) => ({ field, rule }))).toEqual(
      expect.arrayContaining([
        { field: 'name', rule: 'required' },
        { field: 'amount', rule: 'type' },
        { field: 'lines.0.code', rule: 'one-of' },
        { field: 'extra', rule: 'unknown-field' },
      ]),
    );
    for (const { message } of fields) expect(message).not.toMatch(/must have required property|must be/);

    const query = await app.inject({
      method: 'POST',
      url: '/things/12?limit=500',
      payload: { name: 'x', amount: 3, lines: [{ code: 'SP' }] },
    });
    expect(query.statusCode).toBe(400);
    expect((query.json() as { errors: unknown[] }).errors).toEqual([
      { field: 'limit', rule: 'maximum', message: expect.any(String) },
    ]);
    const good = await app.inject({
      method: 'POST',
      url: '/things/12?limit=5',
      payload: { name: 'x', amount: 3, lines: [{ code: 'SP' }] },
    });
    expect(good.statusCode, good.body).toBe(200);
    expect(good.json()).toEqual({ ok: true });
    const noBody = await app.inject({ method: 'POST', url: '/things/12' });
    expect(noBody.statusCode).toBe(400);
    expect((noBody.json() as { errors: { field: string }[] }).errors[0]?.field).toBe('body');
    await app.close();
  });

  it("passes a body declared validation: 'handler' through untouched", async () => {
    const app = appWithRoutes();
    const response = await app.inject({ method: 'POST', url: '/raw', payload: { anything: [1, 2] } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: { anything: [1, 2] } });
    await app.close();
  });

  it('refuses, when the app starts, a route whose schema is not zod, naming it', async () => {
    const app = createHttpApp({ logger });
    registerApiDocs(app);
    app.post('/plain', { schema: { body: { type: 'object' } } }, async () => ({}));
    await expect(app.ready()).rejects.toThrow(
      /POST \/plain: schema\.body is not a zod schema.*routeSchema\(\)/,
    );
  });

  it('refuses a declaration without a summary, tag or examples, saying what is missing', () => {
    expect(() =>
      routeSchema({ summary: '', tags: ['x'], response: {} } as unknown as Parameters<typeof routeSchema>[0]),
    ).toThrow(/needs a summary/);
    expect(() =>
      routeSchema({
        summary: 'Read it',
        tags: ['X'],
        response: { 200: { description: 'ok', schema: z.object({}) } },
      }),
    ).toThrow(/Read it\): response 200 has a schema but no example/);
  });
});
