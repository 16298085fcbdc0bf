import { configFragments } from '@sts/shared';
import { z } from 'zod';

export const credentialsConfigSchema = z.object({
  ...configFragments.service,
  ...configFragments.http,
  PORT: configFragments.http.PORT.default(8081),
  ...configFragments.postgres,
  ...configFragments.redis,
  ...configFragments.telemetry,
});

export type CredentialsConfig = z.infer<typeof credentialsConfigSchema>;
