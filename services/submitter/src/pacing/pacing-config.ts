import { z } from 'zod';
import { DEFAULT_IN_FLIGHT_LEASE_MS, type PacerOptions } from './pacer.ts';

/**
 * Config fragment of the pacer (src/pacing/pacer.ts): the overall budget of calls to the STS, shared
 * by every replica, and the lease of an in-flight slot (renewed while the call runs; a killed
 * sender's slot is free again at most one lease after its last renewal). The per-credential limits
 * come with each credential (`pacing` of its lease).
 */
export const pacingConfigFragment = {
  SUBMITTER_GLOBAL_REQUESTS_PER_MINUTE: z.coerce
    .number({ message: 'must be a number of calls per minute' })
    .int()
    .min(1, { message: 'must be at least 1' })
    .default(600),
  SUBMITTER_IN_FLIGHT_LEASE_MS: z.coerce
    .number({ message: 'must be a number of milliseconds' })
    .int()
    // Renewed every third of it: shorter would renew faster than Redis answers under load.
    .min(1_000, { message: 'must be at least 1000 (milliseconds)' })
    .default(DEFAULT_IN_FLIGHT_LEASE_MS),
} as const;

export interface PacingConfig {
  SUBMITTER_GLOBAL_REQUESTS_PER_MINUTE: number;
  SUBMITTER_IN_FLIGHT_LEASE_MS: number;
}

/** The pacer's options from the configuration; the backbone adds its Redis connection. */
export const pacerOptions = (config: PacingConfig): Omit<PacerOptions, 'redis'> => ({
  global: { requestsPerMinute: config.SUBMITTER_GLOBAL_REQUESTS_PER_MINUTE },
  inFlightLeaseMs: config.SUBMITTER_IN_FLIGHT_LEASE_MS,
});
