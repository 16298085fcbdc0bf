import type { Redis } from '@sts/shared';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { Semaphore } from 'redis-semaphore';

/**
 * Pacing of calls to the STS (docs/architecture.md §3, "Pacing, per credential and overall"), shared
 * by every submitter replica through Redis:
 *
 * - **In flight per credential**: at most `maxInFlight` calls at once (default 1), with
 *   redis-semaphore's `Semaphore` (a sorted set per credential: one member per holder, scored with
 *   the time of its latest renewal). Every `acquire` that gets a slot holds a **lease** of its own
 *   (a random identifier) that lasts `inFlightLeaseMs` (default 30 s) and is renewed every third
 *   of that while the slot is held; `release()` removes it. A holder that dies (SIGKILL, a lost
 *   host) stops renewing, so its slot is free again at most one lease after its last renewal,
 *   whatever the number of slots and whatever the other holders do: an expired member is dropped
 *   by the next acquire of anyone, one by one. A `release()` removes only its own member, so a late
 *   one (after its lease was lost) never frees another holder's slot.
 * - **A lost lease**: a renewal that finds the member gone (it expired: the process stalled, Redis
 *   was unreachable for a whole lease), or no renewal confirmed for a whole lease, marks the slot
 *   `lost`, stops renewing and tells `onLeaseWarning`. The holder carries on: its STS call cannot
 *   be taken back, so it finishes it and releases as usual (the main process logs a warning).
 *   Meanwhile another replica may have taken the slot and started a second call of the credential,
 *   for the rest of this call at most. A lease outlasts many Redis blips (a renewal that fails is
 *   tried again at the next third) but not a whole lease without Redis.
 * - **Requests per minute**, per credential (`pacing.requestsPerMinute`) and overall
 *   (`global.requestsPerMinute`): rate-limiter-flexible's Redis counters, each a window of 60 s
 *   that opens with its first call (at most that many calls per window).
 *
 * Order: the in-flight slot first (a busy credential is refused without touching the budgets),
 * then the credential's budget, then the global one; a refusal further on gives back what was
 * taken before it (the slot, the credential's call). A Redis failure is thrown (the caller retries
 * its job later), after giving back what was taken; an acquire whose answer was lost leaves at
 * worst an unrenewed member behind, gone within one lease.
 *
 * The renewals are this file's timer, not the library's (`refreshInterval: 0`): the library's timer
 * lets a Redis error escape as an unhandled rejection, which ends the process
 * (swarthy/redis-semaphore#199). Each renewal is the library's documented refresh of a lock
 * acquired elsewhere (`identifier` + `acquiredExternally`), its own Lua script. Leases are timed
 * with each replica's clock (the library scores members with `Date.now()`): clocks must agree to
 * well within two thirds of a lease (20 s by default), which NTP does.
 */

export interface PacerOptions {
  redis: Redis;
  global: { requestsPerMinute: number };
  /** Lease of an in-flight slot in ms (default 30 000), renewed every third of it while held. */
  inFlightLeaseMs?: number;
  /** What `retryAfterMs` says when every slot of the credential is taken (default 1000). */
  inFlightRetryAfterMs?: number;
  /** Prefix of the Redis keys (default `submitter:pacing`). */
  keyPrefix?: string;
  /** Told when a held slot's lease is lost, or when a release could not remove it (it then expires). */
  onLeaseWarning?: (warning: LeaseWarning) => void;
}

export interface LeaseWarning {
  kind: 'lease-lost' | 'release-failed';
  credentialId: string;
  /** The Redis error, when there was one. */
  error?: unknown;
}

export interface CredentialPacing {
  maxInFlight: number;
  requestsPerMinute: number;
}

export type PacingRefusalReason = 'in-flight' | 'credential-rate' | 'global-rate';

export type PacingDecision =
  | {
      ok: true;
      /** The lease was lost while held (another replica may hold the slot now): see above. */
      readonly lost: boolean;
      /**
       * Gives the in-flight slot back; call it once the STS call is over (idempotent). Never
       * rejects: a removal that fails leaves the lease to expire, and tells `onLeaseWarning`.
       */
      release(): Promise<void>;
    }
  | { ok: false; retryAfterMs: number; reason: PacingRefusalReason };

export interface Pacer {
  acquire(credentialId: string, pacing: CredentialPacing): Promise<PacingDecision>;
  /**
   * Stops renewing the leases still held (each expires within one lease; a call still running is
   * not cut short by freeing its slot). The Redis connection is the caller's.
   */
  close(): Promise<void>;
}

export const DEFAULT_IN_FLIGHT_LEASE_MS = 30_000;
const MINUTE_SECONDS = 60;

const positiveInteger = (value: number, what: string) => {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${what} must be a positive integer`);
  return value;
};

/** A refusal of rate-limiter-flexible (as opposed to a Redis error, which is an `Error`). */
const isRefusal = (value: unknown): value is RateLimiterRes => value instanceof RateLimiterRes;

export function createPacer(options: PacerOptions): Pacer {
  const prefix = options.keyPrefix ?? 'submitter:pacing';
  const leaseMs = positiveInteger(options.inFlightLeaseMs ?? DEFAULT_IN_FLIGHT_LEASE_MS, 'inFlightLeaseMs');
  const renewEveryMs = Math.max(1, Math.floor(leaseMs / 3));
  const inFlightRetryAfterMs = options.inFlightRetryAfterMs ?? 1_000;
  const warn = (warning: LeaseWarning) => {
    try {
      options.onLeaseWarning?.(warning);
    } catch {
      // A failing warning must not end the process from inside a timer.
    }
  };
  const globalLimiter = new RateLimiterRedis({
    storeClient: options.redis,
    keyPrefix: `${prefix}:rate:global`,
    points: positiveInteger(options.global.requestsPerMinute, 'global.requestsPerMinute'),
    duration: MINUTE_SECONDS,
  });
  // One limiter per distinct limit (they are cheap; the key is the credential's either way).
  const rateLimiters = new Map<number, RateLimiterRedis>();
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
  /** Renewal timers of the slots held now, stopped by `close()`. */
  const renewals = new Set<NodeJS.Timeout>();

  /** The credential's semaphore; with `identifier`, the handle of a lease already held (to renew it). */
  const semaphore = (credentialId: string, maxInFlight: number, identifier?: string) =>
    new Semaphore(options.redis, `${prefix}:in-flight:${credentialId}`, maxInFlight, {
      lockTimeout: leaseMs,
      refreshInterval: 0,
      acquireAttemptsLimit: 1,
      retryInterval: 0,
      ...(identifier ? { identifier, acquiredExternally: true as const } : {}),
    });

  /** Takes a slot of the credential and keeps its lease renewed until `release()`. */
  async function takeSlot(credentialId: string, maxInFlight: number) {
    const slot = semaphore(credentialId, maxInFlight);
    // Taken before the call: Redis scores the lease a moment later, so this side never thinks it
    // still holds the slot when Redis has let it go.
    let confirmedAt = Date.now();
    if (!(await slot.tryAcquire())) return undefined;
    let lost = false;
    let released = false;
    let renewing = false;
    const lose = (error?: unknown) => {
      if (lost || released) return;
      lost = true;
      stop();
      warn({ kind: 'lease-lost', credentialId, ...(error === undefined ? {} : { error }) });
    };
    const renew = async () => {
      renewing = true;
      const startedAt = Date.now();
      try {
        // Refreshes this lease only if it is still there (never takes a slot anew).
        if (await semaphore(credentialId, maxInFlight, slot.identifier).tryAcquire()) confirmedAt = startedAt;
        else lose();
      } catch (error) {
        // Tried again at the next third, unless the lease has run out meanwhile.
        if (Date.now() - confirmedAt >= leaseMs) lose(error);
      } finally {
        renewing = false;
      }
    };
    const timer = setInterval(() => {
      if (lost || released) return;
      if (Date.now() - confirmedAt >= leaseMs) lose();
      else if (!renewing) void renew();
    }, renewEveryMs);
    timer.unref();
    renewals.add(timer);
    function stop() {
      clearInterval(timer);
      renewals.delete(timer);
    }
    return {
      get lost() {
        return lost;
      },
      async release() {
        if (released) return;
        released = true;
        stop();
        // Removes this lease's member only: after a loss, another holder's slot stays taken.
        await slot.release().catch((error: unknown) => warn({ kind: 'release-failed', credentialId, error }));
      },
    };
  }

  return {
    async acquire(credentialId, pacing) {
      const maxInFlight = positiveInteger(pacing.maxInFlight, 'pacing.maxInFlight');
      const requestsPerMinute = positiveInteger(pacing.requestsPerMinute, 'pacing.requestsPerMinute');
      const slot = await takeSlot(credentialId, maxInFlight);
      if (!slot) return { ok: false, reason: 'in-flight', retryAfterMs: Math.max(1, inFlightRetryAfterMs) };

      const credentialRate = rateLimiter(requestsPerMinute);
      try {
        try {
          await credentialRate.consume(credentialId, 1);
        } catch (error) {
          if (!isRefusal(error)) throw error;
          await slot.release();
          return { ok: false, reason: 'credential-rate', retryAfterMs: Math.max(1, error.msBeforeNext) };
        }
        try {
          await globalLimiter.consume('all', 1);
        } catch (error) {
          // The credential's call was not made after all.
          await credentialRate.reward(credentialId, 1);
          if (!isRefusal(error)) throw error;
          await slot.release();
          return { ok: false, reason: 'global-rate', retryAfterMs: Math.max(1, error.msBeforeNext) };
        }
      } catch (error) {
        await slot.release();
        throw error;
      }
      return {
        ok: true,
        get lost() {
          return slot.lost;
        },
        release: () => slot.release(),
      };
    },

    async close() {
      for (const timer of renewals) clearInterval(timer);
      renewals.clear();
    },
  };
}
