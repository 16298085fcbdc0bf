import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, configFragments, loadConfig } from './config.ts';

const schema = z.object({
  ...configFragments.service,
  ...configFragments.http,
  ...configFragments.postgres,
  ...configFragments.redis,
});

describe('loadConfig', () => {
  it('parses and applies defaults', () => {
    const config = loadConfig(schema, {
      PORT: '8080',
      DATABASE_URL: 'postgres://u@localhost/db',
      REDIS_URL: 'redis://localhost:6379',
    });
    expect(config).toMatchObject({ PORT: 8080, HOST: '127.0.0.1', LOG_LEVEL: 'info', DATABASE_POOL_MAX: 10 });
  });

  it('names every bad variable at once', () => {
    let error: unknown;
    try {
      loadConfig(schema, { PORT: 'eighty', DATABASE_URL: 'mysql://x/y', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const variables = (error as ConfigError).issues.map((issue) => issue.variable).sort();
    expect(variables).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'PORT', 'REDIS_URL']);
    expect((error as ConfigError).message).toMatch(/DATABASE_URL: must use postgres: or postgresql:/);
  });

  it('names a value that is not a URL at all, once, instead of throwing from inside the check', () => {
    const attempt = () =>
      loadConfig(schema, { PORT: '8080', DATABASE_URL: 'not a url', REDIS_URL: 'redis://localhost:6379' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/^Invalid configuration \(1 problem\):\n {2}- DATABASE_URL: must be a URL/);
  });
});
