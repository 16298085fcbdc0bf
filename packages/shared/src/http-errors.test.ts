import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from './http-app.ts';
import { createLogger } from './logger.ts';

const logger = createLogger({ name: 'http-errors-test', level: 'silent' });

function exampleApp(): FastifyInstance {
  const app = createHttpApp({ logger, bodyLimit: 1_000 });
  app.get('/items/:id', async (request) => ({ id: (request.params as { id: string }).id }));
  app.post('/items', async (request) => ({ got: request.body }));
  app.get('/id', async (request) => ({ id: request.id }));
  return app;
}

interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  json(): unknown;
}

function expectProblem(answer: Answer, status: number, field: string, rule: string) {
  expect(answer.statusCode).toBe(status);
  expect(answer.headers['content-type']).toContain('application/problem+json');
  expect(answer.json()).toMatchObject({
    type: expect.stringMatching(/^https:\/\//),
    title: expect.any(String),
    status,
    errors: [{ field, rule, message: expect.any(String) }],
  });
}

/** Writes `raw` to the listening app and reads the answer until the server closes. */
function rawRequest(port: number, raw: string | Buffer): Promise<Answer & { raw: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers = Object.fromEntries(
        headerLines.map((line) => [
          line.slice(0, line.indexOf(':')).toLowerCase(),
          line.slice(line.indexOf(':') + 1).trim(),
        ]),
      );
      resolve({
        raw: text,
        statusCode: Number(statusLine.split(' ')[1]),
        headers,
        json: () => JSON.parse(body),
      });
    });
    socket.end(raw);
  });
}

describe('framework errors as problem+json', () => {
  const app = exampleApp();
  afterAll(() => app.close());

  it.each([
    [
      'a path parameter longer than 100 characters',
      { method: 'GET', url: `/items/${'a'.repeat(101)}` },
      414,
      'path',
      'max-length',
    ],
    ['a "%" that is no escape', { method: 'GET', url: '/items/%zz' }, 400, 'path', 'url-encoding'],
    ['a lone "%"', { method: 'GET', url: '/%' }, 400, 'path', 'url-encoding'],
    [
      'malformed JSON',
      { method: 'POST', url: '/items', headers: { 'content-type': 'application/json' }, payload: '{"a":' },
      400,
      'body',
      'json',
    ],
    [
      'an empty JSON body',
      { method: 'POST', url: '/items', headers: { 'content-type': 'application/json' }, payload: '' },
      400,
      'body',
      'json',
    ],
    [
      'prototype poisoning',
      {
        method: 'POST',
        url: '/items',
        headers: { 'content-type': 'application/json' },
        payload: '{"__proto__":{"admin":true}}',
      },
      400,
      'body',
      'json',
    ],
    [
      'a content type no parser reads',
      { method: 'POST', url: '/items', headers: { 'content-type': 'text/csv' }, payload: 'a,b' },
      415,
      'content-type',
      'media-type',
    ],
    [
      'a body over the limit',
      {
        method: 'POST',
        url: '/items',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ a: 'x'.repeat(2_000) }),
      },
      413,
      'body',
      'max-size',
    ],
  ] as const)('%s', async (_name, request, status, field, rule) => {
    expectProblem(await app.inject(request as never), status, field, rule);
  });

  it('answers an unknown route or method with a 404 problem', async () => {
    for (const method of ['PUT', 'DELETE', 'PROPFIND'] as const) {
      const answer = await app.inject({ method, url: '/items?x=1' });
      expect(answer.statusCode).toBe(404);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.json()).toMatchObject({ status: 404, title: 'Not found', instance: '/items' });
    }
  });

  it("keeps a caller's request id only when it is a short visible token", async () => {
    const kept = await app.inject({ method: 'GET', url: '/id', headers: { 'x-request-id': 'gw-42' } });
    expect(kept.json()).toEqual({ id: 'gw-42' });
    for (const given of ['a\u0000b', 'x'.repeat(129), 'with space']) {
      const replaced = await app.inject({ method: 'GET', url: '/id', headers: { 'x-request-id': given } });
      expect((replaced.json() as { id: string }).id).toMatch(/^req-[0-9a-z]+$/);
    }
  });
});

describe("errors Node's HTTP parser raises, over a real socket", () => {
  const app = exampleApp();
  let port: number;
  beforeAll(async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(() => app.close());

  it.each([
    [
      'headers larger than 16 KiB',
      `GET /items/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'headers',
      'max-size',
    ],
    [
      'a NUL in a header value',
      'GET /items/1 HTTP/1.1\r\nHost: x\r\nX-Odd: a\u0000b\r\n\r\n',
      400,
      'headers',
      'characters',
    ],
    [
      'a control character in a header name',
      'GET /items/1 HTTP/1.1\r\nHost: x\r\nX-\u0001: a\r\n\r\n',
      400,
      'headers',
      'characters',
    ],
    [
      'a method HTTP does not define',
      'FROB /items/1 HTTP/1.1\r\nHost: x\r\n\r\n',
      400,
      'method',
      'http-method',
    ],
    [
      'an HTTP version that is not 1.x',
      'GET /items/1 HTTP/3.7\r\nHost: x\r\n\r\n',
      400,
      'http-version',
      'http-1.1',
    ],
    [
      'a content-length that is no number',
      'POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n',
      400,
      'content-length',
      'number',
    ],
    [
      'a space in the request target',
      'GET /items/a b/c HTTP/1.1\r\nHost: x\r\n\r\n',
      400,
      'request',
      'http-syntax',
    ],
  ] as const)('%s', async (_name, raw, status, field, rule) => {
    const answer = await rawRequest(port, raw);
    expect(answer.raw).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
    expectProblem(answer, status, field, rule);
  });

  it('still serves the next connection', async () => {
    const answer = await rawRequest(port, 'GET /items/7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual({ id: '7' });
  });
});
