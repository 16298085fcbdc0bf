export { ConfigError, configFragments, loadConfig, loadConfigOrExit } from './config.ts';
export { type HealthCheck, postgresCheck, redisCheck, registerHealthRoute } from './health.ts';
export { createHttpApp, type HttpAppOptions } from './http-app.ts';
export {
  checkTaxCode,
  checkVatNumber,
  decodeOmocodia,
  type IdentifierCheck,
  type IdentifierCheckOptions,
  type IdentifierProblem,
  OMOCODIA_LETTERS,
  type TaxCodeCheckOptions,
  taxCodeCheckCharacter,
  vatNumberCheckDigit,
} from './identifiers/index.ts';
export { createLogger, type Logger, type LoggerOptions, REDACTED_KEYS } from './logger.ts';
export { createPool, type Pool, runMigrations, type ServiceMigrations } from './postgres.ts';
export {
  type FieldProblem,
  invalidRequest,
  notFound,
  type ProblemDetails,
  ProblemError,
  problemPlugin,
} from './problem.ts';
export { createRedis, type Redis } from './redis.ts';
export { createShutdown, type Shutdown } from './shutdown.ts';
export { startTelemetry, type Telemetry } from './telemetry.ts';
