import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, MANAGE, startHarness } from '../test-support/harness.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

describe('service tokens are single use', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ databaseUrl: database.url, redisUrl: redisDatabase.url });
  });
  afterAll(() => h.close());

  it('refuses a replayed token with 401 problem+json, on this app and on a second replica sharing Redis', async () => {
    const { authorization } = h.auth({ tenantId: 'replay-clinic', scopes: MANAGE });
    const list = (app = h.app) =>
      app.inject({ method: 'GET', url: '/internal/v1/credentials', headers: { authorization } });
    expect((await list()).statusCode).toBe(200);
    const replayed = await list();
    expect(replayed.statusCode).toBe(401);
    expect(replayed.headers['content-type']).toContain('application/problem+json');
    expect(replayed.json().type).toMatch(/\/service-token-replayed$/);
    const replica = h.buildApp();
    expect((await list(replica)).statusCode).toBe(401);
  });

  it('the harness mints a fresh token each time its header is read, so one `h.auth(...)` serves several calls', async () => {
    const manage = h.auth({ tenantId: 'replay-clinic', scopes: MANAGE });
    for (let call = 0; call < 3; call++) {
      const answer = await h.app.inject({ method: 'GET', url: '/internal/v1/credentials', headers: manage });
      expect(answer.statusCode).toBe(200);
    }
  });
});
