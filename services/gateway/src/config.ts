import { configFragments, serviceTokenConfigFragment } from '@sts/shared';
import { z } from 'zod';

/** Paths separated by commas or line ends, blanks dropped. */
const fileList = z.string().transform((text) =>
  text
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter(Boolean),
);
/** A secret key given as base64 of at least 32 bytes. */
const base64Key = z
  .string()
  .refine((text) => /^[A-Za-z0-9+/]+={0,2}$/.test(text) && Buffer.from(text, 'base64').length >= 32, {
    message: 'must be base64 of at least 32 random bytes (e.g. `openssl rand -base64 32`)',
  });
const booleanFlag = z
  .enum(['true', 'false'], { message: 'must be "true" or "false"' })
  .transform((value) => value === 'true');

export const gatewayConfigSchema = z.object({
  ...configFragments.service,
  ...configFragments.http,
  PORT: configFragments.http.PORT.default(8080),
  ...configFragments.postgres,
  ...configFragments.redis,
  ...configFragments.telemetry,

  // Public development stand-ins for missing keys (src/development-fallbacks.ts): only when this is
  // exactly "true", never in production.
  GATEWAY_ALLOW_DEVELOPMENT_KEYS: booleanFlag.default(false),

  // The key of the patient look-up HMAC (src/invoices/patient-privacy.ts). Changing it makes
  // `?patient=` find nothing accepted before the change.
  GATEWAY_PATIENT_HASH_KEY: base64Key.optional(),
  // The key webhook endpoint secrets are encrypted with at rest (src/webhooks/).
  GATEWAY_WEBHOOK_SECRET_KEY: base64Key.optional(),
  // Accept http:// webhook URLs (local receivers, tests); ignored when NODE_ENV=production (https only).
  GATEWAY_WEBHOOK_ALLOW_HTTP: booleanFlag.default(false),

  // Service tokens the gateway signs for the credentials service and the submitter
  // (packages/shared/src/service-token); its key has issuer `gateway`.
  ...serviceTokenConfigFragment,
  // The credentials service (`/v1/credentials…` passes through to its internal API, src/credentials/).
  CREDENTIALS_URL: z
    .url({ message: "must be the credentials service's base URL, e.g. http://127.0.0.1:8081", abort: true })
    .refine((value) => ['http:', 'https:'].includes(new URL(value).protocol), {
      message: 'must start with http:// or https://',
    })
    .default('http://127.0.0.1:8081'),
  // How long a call to it may take; calls that run a credential test wait for the STS (its own STS
  // timeout is 120 s), so they get longer.
  CREDENTIALS_TIMEOUT_MS: z.coerce
    .number({ message: 'must be a number of milliseconds' })
    .int()
    .min(100, { message: 'must be at least 100 (milliseconds)' })
    .default(10_000),
  CREDENTIALS_TEST_TIMEOUT_MS: z.coerce
    .number({ message: 'must be a number of milliseconds' })
    .int()
    .min(1_000, { message: 'must be at least 1000 (milliseconds)' })
    .default(150_000),

  // The SanitelCF certificates a patient's codice fiscale is encrypted with, per environment of the
  // credential (as the credentials service reads them): commas or line ends between paths; the
  // newest valid one is used. The test environment defaults to the production ones. Default: the
  // kit's certificate, with GATEWAY_ALLOW_DEVELOPMENT_KEYS=true only.
  SANITEL_CERTIFICATE_FILES: fileList.optional(),
  SANITEL_TEST_CERTIFICATE_FILES: fileList.optional(),
  // The kit's test environment seems not to refuse closed tax years (docs/protocol.md §4.3): in
  // `relaxed` mode a closed year is a notice for test credentials, not a refusal.
  GATEWAY_TEST_CALENDAR: z.enum(['relaxed', 'enforce']).default('relaxed'),

  // The outbox relay (src/outbox/outbox-relay.ts): how often it looks when idle, rows per round.
  GATEWAY_RELAY_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(100),
  GATEWAY_RELAY_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(200),
  // An event still `received` (no status back from the submitter) this long after it was relayed is
  // relayed again: its job may have been lost with Redis's data (src/outbox/outbox-redelivery.ts).
  GATEWAY_REDELIVER_AFTER_MS: z.coerce.number().int().min(1000).default(600_000),
  // An event under way (not received, not final) whose status has not changed for this long is
  // relayed again too, then again after twice as long each time (at most 24 hours; a status change
  // starts over): the submitter answers with its current status, in case status jobs were lost with
  // Redis's data (src/outbox/outbox-redelivery.ts). Documents waiting days for the STS are asked
  // once a day.
  GATEWAY_RESYNC_AFTER_MS: z.coerce
    .number({ message: 'must be a number of milliseconds' })
    .int({ message: 'must be a whole number of milliseconds' })
    .min(1000, { message: 'must be at least 1000 (milliseconds)' })
    .default(900_000),
  // Protection (src/http/protection.ts, docs/decisions.md "OpenAPI and protection"). Requests one
  // API key may make per minute, counted in Redis across every replica (429 past it).
  GATEWAY_RATE_LIMIT_PER_MINUTE: z.coerce
    .number({ message: 'must be a number of requests per minute' })
    .int({ message: 'must be a whole number of requests per minute' })
    .min(1, { message: 'must be at least 1 (requests per minute)' })
    .default(6_000),
  // Load shedding (503 with Retry-After): the mean event-loop delay in milliseconds, the V8 heap in
  // use in bytes (default: 90% of the heap limit) and the event-loop utilisation (0–1) above which
  // requests are refused; 0 turns a check off.
  GATEWAY_OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: z.coerce
    .number({ message: 'must be a number of milliseconds (0: not checked)' })
    .int({ message: 'must be a whole number of milliseconds' })
    .min(0, { message: 'must be 0 (not checked) or more milliseconds' })
    .default(1_000),
  GATEWAY_OVERLOAD_MAX_HEAP_USED_BYTES: z.coerce
    .number({ message: 'must be a number of bytes (0: not checked)' })
    .int({ message: 'must be a whole number of bytes' })
    .min(0, { message: 'must be 0 (not checked) or more bytes' })
    .optional(),
  GATEWAY_OVERLOAD_MAX_EVENT_LOOP_UTILIZATION: z.coerce
    .number({ message: 'must be a number between 0 and 1 (0: not checked)' })
    .min(0, { message: 'must be between 0 and 1' })
    .max(1, { message: 'must be between 0 and 1' })
    .default(0),
  GATEWAY_OVERLOAD_RETRY_AFTER_SECONDS: z.coerce
    .number({ message: 'must be a number of seconds' })
    .int({ message: 'must be a whole number of seconds' })
    .min(1, { message: 'must be at least 1 (second)' })
    .max(3_600, { message: 'must be at most 3600 (seconds)' })
    .default(10),

  // The gateway's BullMQ workers (document.status from the submitter, webhook.deliver): "false" on
  // replicas that should serve HTTP only.
  GATEWAY_WORKERS: booleanFlag.default(true),
  // Status events applied at once (each is a short transaction on one invoice row): four per
  // document, so at volume one at a time falls hours behind (docs/benchmarks.md, "Pipeline").
  GATEWAY_STATUS_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(16),
  // The submitter (`/v1/submissions/:protocol/receipt|errors` read its proofs); the service-token
  // signing key must grant submissions:read for those routes to be served.
  SUBMITTER_URL: z
    .url({ message: "must be the submitter's base URL, e.g. http://127.0.0.1:8082", abort: true })
    .refine((value) => ['http:', 'https:'].includes(new URL(value).protocol), {
      message: 'must start with http:// or https://',
    })
    .default('http://127.0.0.1:8082'),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
