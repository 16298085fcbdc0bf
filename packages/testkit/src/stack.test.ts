import { describe, expect, inject, it } from 'vitest';
import { startTestStack, TestStackError } from './stack.ts';

const nothingAvailable = {
  DOCKER_HOST: 'unix:///nonexistent/docker.sock',
  TESTKIT_PG_BIN: '/nonexistent/postgresql/bin',
  TESTKIT_REDIS_SERVER: '/nonexistent/redis-server',
};

describe('startTestStack', () => {
  it('fails loudly, with every reason, when neither an engine nor binaries can be had', async () => {
    const attempt = startTestStack(nothingAvailable);
    await expect(attempt).rejects.toBeInstanceOf(TestStackError);
    await expect(attempt).rejects.toThrow(/cannot start PostgreSQL/);
    await expect(attempt).rejects.toThrow(/explicit: TEST_DATABASE_URL is not set/);
    await expect(attempt).rejects.toThrow(
      /testcontainers: no Docker engine at DOCKER_HOST=unix:\/\/\/nonexistent/,
    );
    await expect(attempt).rejects.toThrow(
      /local: no PostgreSQL server at \/nonexistent\/postgresql\/bin\/postgres/,
    );
  });

  it('reports Redis separately when only Redis is missing', async () => {
    const attempt = startTestStack({
      ...nothingAvailable,
      TEST_DATABASE_URL: inject('testStack').postgresAdminUrl,
    });
    await expect(attempt).rejects.toThrow(/cannot start Redis/);
    await expect(attempt).rejects.toThrow(/local: cannot run \/nonexistent\/redis-server/);
  });

  it('uses explicit URLs as they are', async () => {
    const { postgresAdminUrl, redisUrl } = inject('testStack');
    const stack = await startTestStack({ TEST_DATABASE_URL: postgresAdminUrl, TEST_REDIS_URL: redisUrl });
    expect(stack.mode).toEqual({ postgres: 'explicit', redis: 'explicit' });
    expect(stack.postgresAdminUrl).toBe(postgresAdminUrl);
    await stack.stop();
  });
});
