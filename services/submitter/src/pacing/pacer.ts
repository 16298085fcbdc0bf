import type { Redis } from '@sts/shared';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * Pacing of calls to the STS (docs/architecture.md §3, "Pacing, per credential and overall"), shared
 * by every submitter replica through Redis, with rate-limiter-flexible:
 *
 * - **In flight per credential**: at most `maxInFlight` calls at once (default 1). A slot is taken
 *   at `acquire` and given back by `release()`. A holder that dies never gives it back, so every
 *   slot count carries a **safety expiry** (`inFlightExpirySeconds`, default 600 s, far beyond the
 *   STS answer timeout of 120 s): the count disappears that long after the credential's latest
 *   acquire. With one slot per credential (the default) a crashed holder's slot is free again 10
 *   minutes after it was taken; with several, a dead slot is freed once the credential has been
 *   quiet for that long (until then the credential runs with one slot less: never with one more).
 *   A `release()` later than the expiry does nothing: the slot is gone already and giving it back
 *   would free someone else's.
 * - **Requests per minute**, per credential (`pacing.requestsPerMinute`) and overall
 *   (`global.requestsPerMinute`): rate-limiter-flexible's Redis counters, each a window of 60 s
 *   that opens with its first call (at most that many calls per window).
 *
 * Order: the in-flight slot first (a busy credential is refused without touching the budgets),
 * then the credential's budget, then the global one; a refusal further on gives back what was
 * taken before it (the slot, the credential's call). A Redis failure is thrown (the caller retries
 * its job later), after giving back what was taken.
 *
 * The in-flight counts use a script of their own (below) on a connection of their own
 * (`redis.duplicate()`, closed by `close()`): rate-limiter-flexible defines its script as a command
 * of the ioredis client it is given, so a client holds one script, and the stock one counts a
 * refused attempt and never extends the expiry, which suits a rate but not a count of holders.
 */

export interface PacerOptions {
  redis: Redis;
  global: { requestsPerMinute: number };
  /** Safety expiry of an in-flight slot count, in whole seconds (default 600; at least 1). */
  inFlightExpirySeconds?: number;
  /** What `retryAfterMs` says when every slot of the credential is taken (default 1000). */
  inFlightRetryAfterMs?: number;
  /** Prefix of the Redis keys (default `submitter:pacing`). */
  keyPrefix?: string;
  clock?: () => number;
}

export interface CredentialPacing {
  maxInFlight: number;
  requestsPerMinute: number;
}

export type PacingRefusalReason = 'in-flight' | 'credential-rate' | 'global-rate';

export type PacingDecision =
  | {
      ok: true;
      /** Gives the in-flight slot back; call it once the STS call is over (idempotent). */
      release(): Promise<void>;
    }
  | { ok: false; retryAfterMs: number; reason: PacingRefusalReason };

export interface Pacer {
  acquire(credentialId: string, pacing: CredentialPacing): Promise<PacingDecision>;
  /** Closes the pacer's own Redis connection (not the one it was given). */
  close(): Promise<void>;
}

export const DEFAULT_IN_FLIGHT_EXPIRY_SECONDS = 600;
const MINUTE_SECONDS = 60;

/**
 * rate-limiter-flexible's script slot (`customIncrTtlLuaScript`) as a count of holders. ARGV: the
 * change (+n at acquire, -n at release), the expiry in seconds, the limit. An acquire that would
 * exceed the limit writes nothing and answers `limit + n` (refused, the count untouched); an
 * accepted one renews the expiry; a release that brings the count to 0 deletes it.
 */
const IN_FLIGHT_SCRIPT = `
local change = tonumber(ARGV[1])
local held = tonumber(redis.call('get', KEYS[1]) or '0')
if change > 0 then
  if held + change > tonumber(ARGV[3]) then
    return {held + change, redis.call('pttl', KEYS[1])}
  end
  held = redis.call('incrby', KEYS[1], change)
  redis.call('expire', KEYS[1], ARGV[2])
  return {held, 1000 * tonumber(ARGV[2])}
end
held = held + change
if held <= 0 then
  redis.call('del', KEYS[1])
  return {0, 0}
end
redis.call('set', KEYS[1], held, 'KEEPTTL')
return {held, redis.call('pttl', KEYS[1])}
`;

const positiveInteger = (value: number, what: string) => {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${what} must be a positive integer`);
  return value;
};

/** A refusal of rate-limiter-flexible (as opposed to a Redis error, which is an `Error`). */
const isRefusal = (value: unknown): value is RateLimiterRes => value instanceof RateLimiterRes;

export function createPacer(options: PacerOptions): Pacer {
  const prefix = options.keyPrefix ?? 'submitter:pacing';
  const expirySeconds = positiveInteger(
    options.inFlightExpirySeconds ?? DEFAULT_IN_FLIGHT_EXPIRY_SECONDS,
    'inFlightExpirySeconds',
  );
  const inFlightRetryAfterMs = options.inFlightRetryAfterMs ?? 1_000;
  const now = options.clock ?? Date.now;
  const globalLimiter = new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: `${prefix}:rate:global`,
    points: positiveInteger(options.global.requestsPerMinute, 'global.requestsPerMinute'),
    duration: MINUTE_SECONDS,
  });
  // Its own connection: the script becomes a command of the client (see above).
  const inFlightRedis = options.redis.duplicate();
  // One limiter per distinct limit (they are cheap; the key is the credential's either way).
  const inFlightLimiters = new Map<number, RateLimiterRedis>();
  const rateLimiters = new Map<number, RateLimiterRedis>();
  const inFlightLimiter = (maxInFlight: number) => {
    let limiter = inFlightLimiters.get(maxInFlight);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: inFlightRedis,
        keyPrefix: `${prefix}:in-flight`,
        points: maxInFlight,
        duration: expirySeconds,
        customIncrTtlLuaScript: IN_FLIGHT_SCRIPT,
      });
      inFlightLimiters.set(maxInFlight, limiter);
    }
    return limiter;
  };
  const rateLimiter = (requestsPerMinute: number) => {
    let limiter = rateLimiters.get(requestsPerMinute);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: options.redis,
        keyPrefix: `${prefix}:rate:credential`,
        points: requestsPerMinute,
        duration: MINUTE_SECONDS,
      });
      rateLimiters.set(requestsPerMinute, limiter);
    }
    return limiter;
  };

  return {
    async acquire(credentialId, pacing) {
      const maxInFlight = positiveInteger(pacing.maxInFlight, 'pacing.maxInFlight');
      const requestsPerMinute = positiveInteger(pacing.requestsPerMinute, 'pacing.requestsPerMinute');
      const slots = inFlightLimiter(maxInFlight);
      // Taken before the call: the expiry runs from a moment after it, so this side never thinks
      // the slot is still held when Redis has let it go.
      const acquiredAt = now();
      try {
        await slots.consume(credentialId, 1);
      } catch (error) {
        if (!isRefusal(error)) throw error;
        return {
          ok: false,
          reason: 'in-flight',
          retryAfterMs: Math.max(
            1,
            Math.min(inFlightRetryAfterMs, error.msBeforeNext || inFlightRetryAfterMs),
          ),
        };
      }
      let released = false;
      const release = async () => {
        if (released) return;
        released = true;
        // Past the expiry the count no longer holds this slot: giving one back would free another's.
        if (now() - acquiredAt >= expirySeconds * 1000) return;
        await slots.reward(credentialId, 1);
      };

      const credentialRate = rateLimiter(requestsPerMinute);
      try {
        try {
          await credentialRate.consume(credentialId, 1);
        } catch (error) {
          if (!isRefusal(error)) throw error;
          await release();
          return { ok: false, reason: 'credential-rate', retryAfterMs: Math.max(1, error.msBeforeNext) };
        }
        try {
          await globalLimiter.consume('all', 1);
        } catch (error) {
          // The credential's call was not made after all.
          await credentialRate.reward(credentialId, 1);
          if (!isRefusal(error)) throw error;
          await release();
          return { ok: false, reason: 'global-rate', retryAfterMs: Math.max(1, error.msBeforeNext) };
        }
      } catch (error) {
        await release().catch(() => undefined);
        throw error;
      }
      return { ok: true, release };
    },

    async close() {
      inFlightRedis.disconnect();
    },
  };
}
