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
    // Beyond the STS answer timeout (120 s), or a slow call would lose its slot while still running.
    .min(150, { message: 'must be at least 150 (seconds): longer than the slowest STS call' })
    .default(DEFAULT_IN_FLIGHT_EXPIRY_SECONDS),
} as const;

export interface PacingConfig {
  SUBMITTER_GLOBAL_REQUESTS_PER_MINUTE: number;
  SUBMITTER_IN_FLIGHT_EXPIRY_SECONDS: number;
}

/** The pacer's options from the configuration; the backbone adds its Redis connection. */
export const pacerOptions = (config: PacingConfig): Omit<PacerOptions, 'redis'> => ({
  global: { requestsPerMinute: config.SUBMITTER_GLOBAL_REQUESTS_PER_MINUTE },
  inFlightExpirySeconds: config.SUBMITTER_IN_FLIGHT_EXPIRY_SECONDS,
});
