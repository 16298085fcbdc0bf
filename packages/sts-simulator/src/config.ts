import { configFragments } from '@sts/shared';
import { z } from 'zod';
import { DECRYPTION_MODES } from './crypto/field-decryptor.ts';
import { CALENDAR_MODES } from './documents/document-intake.ts';
import { pathList } from './key-pair-files.ts';
import { DEFAULTS } from './simulator.ts';

const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => ['true', '1', 'yes', 'on'].includes(value));
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Environment of `src/main.ts`; every variable is documented in the README. */
export const simulatorConfigSchema = z
  .object({
    ...configFragments.service,
    ...configFragments.http,
    PORT: configFragments.http.PORT.default(8790),
    STS_SIM_KIT_DIR: z.string().min(1).optional(),
    STS_SIM_KIT_USERS: flag(true),
    STS_SIM_USERS_FILE: z.string().min(1).optional(),
    STS_SIM_USERS: z.string().min(1).optional(),
    /** One path, or a comma list paired by position with STS_SIM_PRIVATE_KEY_FILE (current first). */
    STS_SIM_CERTIFICATE_FILE: z.string().min(1).optional(),
    STS_SIM_PRIVATE_KEY_FILE: z.string().min(1).optional(),
    STS_SIM_DECRYPTION: z.enum(DECRYPTION_MODES).default(DEFAULTS.decryption.mode),
    STS_SIM_DECRYPTION_SAMPLE_EVERY: positiveInt(DEFAULTS.decryption.sampleEvery),
    STS_SIM_SCHEMA_VALIDATION: flag(true),
    STS_SIM_VALIDATION_WORKERS: positiveInt(DEFAULTS.validationWorkers),
    STS_SIM_PROCESSING_DELAY_MS: z.coerce.number().int().min(0).default(DEFAULTS.processingDelayMs),
    STS_SIM_RECEIPT_DELAY_MS: z.coerce.number().int().min(0).default(DEFAULTS.receiptDelayMs),
    STS_SIM_MAX_FILE_BYTES: positiveInt(DEFAULTS.maxFileBytes),
    STS_SIM_MAX_UNCOMPRESSED_BYTES: positiveInt(DEFAULTS.maxUncompressedBytes),
    STS_SIM_BODY_LIMIT_BYTES: positiveInt(DEFAULTS.bodyLimitBytes),
    STS_SIM_LOCKOUT_THRESHOLD: positiveInt(DEFAULTS.lockoutThreshold),
    STS_SIM_STRICT_TAX_CODES: flag(false),
    STS_SIM_CALENDAR: z.enum(CALENDAR_MODES).default(DEFAULTS.calendar),
    STS_SIM_STATE_FILE: z.string().min(1).optional(),
    STS_SIM_ADMIN_TOKEN: z.string().min(16, 'must have at least 16 characters').optional(),
    /** Where a generated admin token is kept; default: `admin-token` beside STS_SIM_STATE_FILE. */
    STS_SIM_ADMIN_TOKEN_FILE: z.string().min(1).optional(),
    STS_SIM_PUBLIC_URL: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .refine((value) => !/[?#]/.test(value), 'must have no query or fragment')
      .optional(),
  })
  .refine((config) => !!config.STS_SIM_CERTIFICATE_FILE === !!config.STS_SIM_PRIVATE_KEY_FILE, {
    path: ['STS_SIM_PRIVATE_KEY_FILE'],
    message: 'STS_SIM_CERTIFICATE_FILE and STS_SIM_PRIVATE_KEY_FILE go together',
  })
  .refine(
    (config) =>
      pathList(config.STS_SIM_CERTIFICATE_FILE).length === pathList(config.STS_SIM_PRIVATE_KEY_FILE).length,
    {
      path: ['STS_SIM_PRIVATE_KEY_FILE'],
      message: 'as many private key files as certificate files, paired by position (comma lists)',
    },
  );

export type SimulatorConfig = z.infer<typeof simulatorConfigSchema>;
