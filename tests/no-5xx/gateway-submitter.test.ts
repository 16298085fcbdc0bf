import { connect } from 'node:net';
import { buildApp as buildGateway } from '@sts/gateway';
import { createLogger, createPool, createRedis, type Pool, type Redis } from '@sts/shared';
import { buildApp as buildSubmitter } from '@sts/submitter';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, fuzz, PARSER_CASES, rawExchange, requests, routesOf, violation } from './route-fuzz.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

// The gateway and the submitter serve /health and /metrics so far; the property holds for them, for
// every path they do not serve, and for what Node's parser refuses.
const RUNS = 300;

describe.each([
  ['gateway', buildGateway],
  ['submitter', buildSubmitter],
])('%s: no 5xx from input', (name, build) => {
  let pool: Pool;
  let redis: Redis;
  let app: ReturnType<typeof buildGateway>;
  let port: number;
  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: `no-5xx-${name}` });
    redis = createRedis(redisDatabase.url, `no-5xx-${name}`);
    app = build({ logger: createLogger({ name, level: 'silent' }), pool, redis });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
    redis.disconnect();
  });

  it(`answers ${RUNS} generated requests over every route without a 5xx, errors as problem+json`, async () => {
    const routes = routesOf(app);
    expect(routes.map((route) => `${route.method} ${route.url}`)).toEqual(
      expect.arrayContaining(['GET /health', 'GET /metrics']),
    );
    await fuzz(
      `${name} (${routes.length} routes)`,
      requests({
        routes,
        auth: fc.constant('none'),
        strangers: ['/internal/v1/credentials', '/operator/v1/credentials', '/__admin/users'],
      }),
      async (request): Promise<Answer> => {
        const response = await app.inject({
          method: request.method as 'GET',
          url: request.url,
          headers: request.headers,
          ...(request.body !== undefined ? { payload: request.body } : {}),
        });
        return { statusCode: response.statusCode, headers: response.headers, body: response.body };
      },
      { runs: RUNS },
    );
  });

  it.each(PARSER_CASES)('answers $name, refused by the HTTP parser, with a 4xx problem', async ({ raw }) => {
    const answer = await rawExchange(connect(port, '127.0.0.1'), raw('/health'));
    expect(answer.statusCode).toBeGreaterThanOrEqual(400);
    expect(violation({ method: 'GET' }, answer)).toBeUndefined();
  });
});
