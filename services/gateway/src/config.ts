import { configFragments } from '@sts/shared';
import { z } from 'zod';

export const gatewayConfigSchema = z.object({
  ...configFragments.service,
  ...configFragments.http,
  PORT: configFragments.http.PORT.default(8080),
  ...configFragments.postgres,
  ...configFragments.redis,
  ...configFragments.telemetry,
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
