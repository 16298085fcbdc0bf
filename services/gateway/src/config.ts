import { configFragments, serviceTokenConfigFragment } from '@sts/shared';
import { z } from 'zod';

export const gatewayConfigSchema = z.object({
  ...configFragments.service,
  ...configFragments.http,
  PORT: configFragments.http.PORT.default(8080),
  ...configFragments.postgres,
  ...configFragments.redis,
  ...configFragments.telemetry,

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
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
