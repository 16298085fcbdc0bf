import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { inFlightExpiryCheck } from './pacing-config.ts';

const schema = z
  .object({ SUBMITTER_IN_FLIGHT_EXPIRY_SECONDS: z.number(), STS_RESPONSE_TIMEOUT_MS: z.number() })
  .superRefine(inFlightExpiryCheck);
const check = (expirySeconds: number, timeoutMs: number) =>
  schema.safeParse({ SUBMITTER_IN_FLIGHT_EXPIRY_SECONDS: expirySeconds, STS_RESPONSE_TIMEOUT_MS: timeoutMs });

describe('the in-flight expiry against the STS answer timeout', () => {
  it('must outlast the answer timeout by 30 s: 150 s with the default 120 s timeout', () => {
    expect(check(150, 120_000).success).toBe(true);
    const refused = check(149, 120_000);
    expect(refused.success).toBe(false);
    expect(refused.error?.issues).toEqual([
      expect.objectContaining({
        path: ['SUBMITTER_IN_FLIGHT_EXPIRY_SECONDS'],
        message: expect.stringMatching(/^must be at least 150 \(seconds\)/),
      }),
    ]);
  });

  it('may be shorter with a shorter timeout (a killed sender holds its credential less long)', () => {
    expect(check(33, 3_000).success).toBe(true);
    expect(check(32, 3_000).success).toBe(false);
  });
});
