import { z } from 'zod';
import { DEFAULT_IN_FLIGHT_EXPIRY_SECONDS, type PacerOptions } from './pacer.ts';

/**
 * Config fragment of the pacer (src/pacing/pacer.ts): the overall budget of calls to the STS, shared
 * by every replica, and the safety expiry of an in-flight slot (a crashed sender's slot is free
 * again after it). The per-credential limits come with each credential (`pacing` of its lease).
 */
export const pacingConfigFragment = {
  SUBMITTER_GLOBAL_REQUESTS_PER_MINUTE: z.coerce
    .number({ message: 'must be a number of calls per minute' })
    .int()
    .min(1, { message: 'must be at least 1' })
    .default(600),
  SUBMITTER_IN_FLIGHT_EXPIRY_SECONDS: z.coerce
    .number({ message: 'must be a number of seconds' })
    .int()
    // Beyond the STS answer timeout, or a slow call would lose its slot while still running:
    // checked against STS_RESPONSE_TIMEOUT_MS by the submitter's config (inFlightExpiryCheck).
    .min(1, { message: 'must be at least 1 (second)' })
    .default(DEFAULT_IN_FLIGHT_EXPIRY_SECONDS),
} as const;

/** Time an in-flight slot must outlast the STS answer timeout by (the lease, the settling around the call). */
export const IN_FLIGHT_MARGIN_MS = 30_000;

/**
 * The safety expiry must outlast the slowest STS call (the answer timeout) by IN_FLIGHT_MARGIN_MS: at
 * least 150 s with the default 120 s timeout, less where the timeout is shorter (a killed sender's
 * slot then frees sooner).
 */
export function inFlightExpiryCheck(
  config: { SUBMITTER_IN_FLIGHT_EXPIRY_SECONDS: number; STS_RESPONSE_TIMEOUT_MS: number },
  context: z.RefinementCtx,
): void {
  const minimum = Math.ceil((config.STS_RESPONSE_TIMEOUT_MS + IN_FLIGHT_MARGIN_MS) / 1000);
  if (config.SUBMITTER_IN_FLIGHT_EXPIRY_SECONDS < minimum)
    context.addIssue({
      code: 'custom',
      path: ['SUBMITTER_IN_FLIGHT_EXPIRY_SECONDS'],
      message: `must be at least ${minimum} (seconds): STS_RESPONSE_TIMEOUT_MS plus ${IN_FLIGHT_MARGIN_MS / 1000} s, longer than the slowest STS call`,
    });
}

export interface PacingConfig {
  SUBMITTER_GLOBAL_REQUESTS_PER_MINUTE: number;
  SUBMITTER_IN_FLIGHT_EXPIRY_SECONDS: number;
}

/** The pacer's options from the configuration; the backbone adds its Redis connection. */
export const pacerOptions = (config: PacingConfig): Omit<PacerOptions, 'redis'> => ({
  global: { requestsPerMinute: config.SUBMITTER_GLOBAL_REQUESTS_PER_MINUTE },
  inFlightExpirySeconds: config.SUBMITTER_IN_FLIGHT_EXPIRY_SECONDS,
});
