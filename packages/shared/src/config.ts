import { z } from 'zod';

/** Thrown at boot when the environment does not satisfy a service's config schema; names every bad variable. */
export class ConfigError extends Error {
  readonly issues: readonly { variable: string; problem: string }[];

  constructor(issues: readonly { variable: string; problem: string }[]) {
    super(
      `Invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${issues
        .map((issue) => `  - ${issue.variable}: ${issue.problem}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/**
 * For `main.ts`: the same, but a bad environment ends the process with the list, not a stack trace.
 * `complete` finishes the parsed configuration (e.g. development stand-ins) and may throw a
 * `ConfigError` too.
 */
export function loadConfigOrExit<Schema extends z.ZodType, Config = z.infer<Schema>>(
  schema: Schema,
  complete?: (config: z.infer<Schema>) => Config,
): Config {
  try {
    const parsed = loadConfig(schema);
    return complete ? complete(parsed) : (parsed as Config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(1);
  }
}

/** Parses the environment once, at boot. Every failing variable is reported, not just the first. */
export function loadConfig<Schema extends z.ZodType>(
  schema: Schema,
  env: Record<string, string | undefined> = process.env,
): z.infer<Schema> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      variable: issue.path.map(String).join('.') || '(environment)',
      problem: issue.message,
    })),
  );
}

const port = z.coerce.number().int().min(0).max(65535);
const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

const urlWithProtocol = (protocols: readonly string[]) =>
  z
    .url({
      message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
      abort: true,
    })
    .refine((value) => URL.canParse(value) && protocols.includes(new URL(value).protocol), {
      message: `must use ${protocols.join(' or ')}`,
    });

/** Shared fragments: each service spreads the ones it needs into its own `z.object`. */
export const configFragments = {
  service: {
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: logLevel.default('info'),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  },
  http: {
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: port,
  },
  postgres: {
    DATABASE_URL: urlWithProtocol(['postgres:', 'postgresql:']),
    DATABASE_POOL_MAX: z.coerce.number().int().positive().default(10),
  },
  redis: {
    REDIS_URL: urlWithProtocol(['redis:', 'rediss:']),
  },
  telemetry: {
    OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  },
} as const;
