import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { databaseUrl } from './database.ts';
import { useTestDatabase, useTestRedis } from './fixtures.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

describe('test database', () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(() => client.end());

  it('is a database of its own, cloned from the template', async () => {
    const { rows } = await client.query<{ name: string }>('select current_database() as name');
    expect(rows[0]!.name).toBe(database.name);
    expect(database.name).not.toBe(inject('testStack').template);
  });

  it('carries every service schema with its migrations applied on the template', async () => {
    for (const schema of ['gateway', 'credentials', 'submitter']) {
      const { rows } = await client.query<{ count: string }>(
        `select count(*) from "${schema}"."__migrations"`,
      );
      expect(Number(rows[0]!.count), schema).toBeGreaterThanOrEqual(1);
    }
  });

  it('keeps what a test writes away from the template', async () => {
    await client.query('create table gateway.fixture_probe (id int)');
    const template = new pg.Client({
      connectionString: databaseUrl(inject('testStack').postgresAdminUrl, inject('testStack').template),
    });
    await template.connect();
    try {
      const { rows } = await template.query("select to_regclass('gateway.fixture_probe') as found");
      expect(rows[0].found).toBeNull();
    } finally {
      await template.end();
    }
  });
});

describe('test redis', () => {
  it('is a logical database of its own that round-trips values', async () => {
    const redis = new Redis(redisDatabase.url);
    try {
      expect(new URL(redisDatabase.url).pathname).not.toBe('/0');
      await redis.set('probe', 'value-1', 'EX', 60);
      expect(await redis.get('probe')).toBe('value-1');
      const shared = new Redis(inject('testStack').redisUrl);
      expect(await shared.get('probe')).toBeNull();
      shared.disconnect();
    } finally {
      redis.disconnect();
    }
  });
});
