import { getHeapStatistics } from 'node:v8';
import rateLimit from '@fastify/rate-limit';
import underPressure from '@fastify/under-pressure';
import { ProblemError, type Redis } from '@sts/shared';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/**
 * The gateway's protection (issue 11, item 11): a rate limit per API key shared by every replica
 * (Redis), and load shedding with 503 when this process is overloaded. Both answer problem+json with
 * `Retry-After`. Figures and reasons: docs/decisions.md, "OpenAPI and protection".
 */

export interface OverloadOptions {
  /** Mean event-loop delay over a sample above which requests are refused; 0: not checked. */
  maxEventLoopDelayMs: number;
  /** V8 heap in use above which requests are refused; 0: not checked. */
  maxHeapUsedBytes: number;
  /** Event-loop utilisation (0–1) above which requests are refused; 0: not checked. */
  maxEventLoopUtilization: number;
  /** What `Retry-After` says on a 503. */
  retryAfterSeconds: number;
  /** How often the figures are sampled (under-pressure's default, 1 s, when not given). */
  sampleIntervalMs?: number;
}

export interface ProtectionOptions {
  /** Requests one API key may make per minute, across every replica. */
  rateLimitPerMinute: number;
  overload: OverloadOptions;
}

/** 90% of the V8 heap this process may grow to: past it, it is close to running out of memory. */
export const defaultMaxHeapUsedBytes = () => Math.floor(getHeapStatistics().heap_size_limit * 0.9);

/**
 * What `buildApp` uses when it is given no protection (tests, tools): the rate limit and the heap
 * check of production, but no event-loop check, which a test process loading modules or running
 * others in parallel would trip (a loop blocked for a whole sample counts as an infinite delay).
 * `main.ts` takes the configuration's, whose event-loop check is on (1 s).
 */
export const DEFAULT_PROTECTION: ProtectionOptions = {
  rateLimitPerMinute: 6_000,
  overload: {
    maxEventLoopDelayMs: 0,
    maxHeapUsedBytes: defaultMaxHeapUsedBytes(),
    maxEventLoopUtilization: 0,
    retryAfterSeconds: 10,
  },
};

/** Routes never refused for overload: probes and scrapes must see the process as it is. */
const OVERLOAD_EXEMPT = new Set(['/health', '/metrics']);

export const overloaded = (retryAfterSeconds: number) =>
  new ProblemError({
    status: 503,
    type: 'overloaded',
    title: 'Overloaded',
    detail: `The gateway is overloaded and refused this request before doing any of it: send it again in ${retryAfterSeconds} seconds.`,
  });

export const rateLimited = (max: number, after: string) =>
  new ProblemError({
    status: 429,
    type: 'rate-limited',
    title: 'Too many requests',
    detail: `This API key made more than ${max} requests in a minute: send again in ${after} (Retry-After), or spread requests over time.`,
  });

/**
 * Load shedding for the whole app: when the event loop lags, or the heap nears its limit, each
 * request (but `/health` and `/metrics`) is refused at once with 503 `overloaded` and `Retry-After`,
 * before authentication or parsing. Register it on the root app before the routes.
 */
export function registerOverloadProtection(app: FastifyInstance, options: OverloadOptions): void {
  void app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs,
    maxHeapUsedBytes: options.maxHeapUsedBytes,
    maxEventLoopUtilization: options.maxEventLoopUtilization,
    retryAfter: options.retryAfterSeconds,
    ...(options.sampleIntervalMs ? { sampleInterval: options.sampleIntervalMs } : {}),
    // A promise: resolved lets the request through, rejected is answered by the error handler.
    pressureHandler: async (request: FastifyRequest, reply, type, value) => {
      if (OVERLOAD_EXEMPT.has(request.routeOptions.url ?? '')) return;
      request.log.warn({ pressure: type, value }, 'overloaded: request refused');
      reply.header('retry-after', String(options.retryAfterSeconds));
      throw overloaded(options.retryAfterSeconds);
    },
  });
}

export interface ApiKeyRateLimitOptions {
  redis: Redis;
  perMinute: number;
}

/**
 * A fixed window of a minute per API key, counted in Redis (shared by every replica): past
 * `perMinute` requests, 429 `rate-limited` with `Retry-After`; every answer carries
 * `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`. Register it right after
 * `apiKeyAuth`, in the same scope: it keys requests by the key `apiKeyAuth` found (its hook runs
 * after the scope's `onRequest` hooks, so before the body is read). Redis away: requests pass.
 */
export const apiKeyRateLimit = fp(
  async (app: FastifyInstance, { redis, perMinute }: ApiKeyRateLimitOptions) => {
    await app.register(rateLimit, {
      max: perMinute,
      timeWindow: 60_000,
      hook: 'onRequest',
      redis,
      nameSpace: 'gateway:rate-limit:',
      // A limit protects, it does not bill: when Redis cannot count, requests go through.
      skipOnError: true,
      enableDraftSpec: true,
      keyGenerator: (request) => {
        const principal = request.apiKeyPrincipal;
        return principal ? `key:${principal.apiKey.id}` : `ip:${request.ip}`;
      },
      onExceeded: (request, key) => request.log.info({ rateLimitKey: key }, 'rate limit exceeded'),
      errorResponseBuilder: (_request, context) => rateLimited(context.max, context.after),
    });
  },
  { name: 'api-key-rate-limit', fastify: '5.x' },
);

/** The protection the configuration asks for (`GATEWAY_RATE_LIMIT_PER_MINUTE`, `GATEWAY_OVERLOAD_*`). */
export const protectionFromConfig = (config: {
  GATEWAY_RATE_LIMIT_PER_MINUTE: number;
  GATEWAY_OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: number;
  GATEWAY_OVERLOAD_MAX_HEAP_USED_BYTES?: number | undefined;
  GATEWAY_OVERLOAD_MAX_EVENT_LOOP_UTILIZATION: number;
  GATEWAY_OVERLOAD_RETRY_AFTER_SECONDS: number;
}): ProtectionOptions => ({
  rateLimitPerMinute: config.GATEWAY_RATE_LIMIT_PER_MINUTE,
  overload: {
    maxEventLoopDelayMs: config.GATEWAY_OVERLOAD_MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedBytes: config.GATEWAY_OVERLOAD_MAX_HEAP_USED_BYTES ?? defaultMaxHeapUsedBytes(),
    maxEventLoopUtilization: config.GATEWAY_OVERLOAD_MAX_EVENT_LOOP_UTILIZATION,
    retryAfterSeconds: config.GATEWAY_OVERLOAD_RETRY_AFTER_SECONDS,
  },
});
