import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_IN_FLIGHT_LEASE_MS } from './pacer.ts';
import { pacerOptions, pacingConfigFragment } from './pacing-config.ts';

const schema = z.object(pacingConfigFragment);

describe('the pacing configuration', () => {
  it('defaults to 600 calls a minute overall and a 30 s in-flight lease', () => {
    const config = schema.parse({});
    expect(config).toEqual({
      SUBMITTER_GLOBAL_REQUESTS_PER_MINUTE: 600,
      SUBMITTER_IN_FLIGHT_LEASE_MS: DEFAULT_IN_FLIGHT_LEASE_MS,
    });
    expect(DEFAULT_IN_FLIGHT_LEASE_MS).toBe(30_000);
    expect(pacerOptions(schema.parse({ SUBMITTER_IN_FLIGHT_LEASE_MS: '5000' }))).toEqual({
      global: { requestsPerMinute: 600 },
      inFlightLeaseMs: 5_000,
    });
  });

  it('refuses a lease shorter than a second, or not a whole number of milliseconds', () => {
    const short = schema.safeParse({ SUBMITTER_IN_FLIGHT_LEASE_MS: '999' });
    expect(short.success).toBe(false);
    expect(short.error?.issues).toEqual([
      expect.objectContaining({
        path: ['SUBMITTER_IN_FLIGHT_LEASE_MS'],
        message: 'must be at least 1000 (milliseconds)',
      }),
    ]);
    expect(schema.safeParse({ SUBMITTER_IN_FLIGHT_LEASE_MS: '1500.5' }).success).toBe(false);
    expect(schema.safeParse({ SUBMITTER_IN_FLIGHT_LEASE_MS: 'soon' }).success).toBe(false);
  });
});
