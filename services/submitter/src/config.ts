import { configFragments } from '@sts/shared';
import { z } from 'zod';

export const submitterConfigSchema = z.object({
  ...configFragments.service,
  ...configFragments.http,
  PORT: configFragments.http.PORT.default(8082),
  ...configFragments.postgres,
  ...configFragments.redis,
  ...configFragments.telemetry,
});

export type SubmitterConfig = z.infer<typeof submitterConfigSchema>;
