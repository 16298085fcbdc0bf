export { type BackgroundTask, registerBackgroundTask } from './background-task.ts';
export { ConfigError, configFragments, loadConfig, loadConfigOrExit } from './config.ts';
export * from './contracts/index.ts';
export { refusedCharacters, replaceRefusedCharacters } from './free-text.ts';
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
export {
  checkJobHandlers,
  createJobProducer,
  DeferJob,
  type JobHandler,
  type JobHandlers,
  JobHandlersError,
  JobPayloadError,
  type JobProducer,
  type JobWorkers,
  type RetryOverrides,
  startJobWorkers,
} from './jobs/job-queues.ts';
export { createOutboxRelay, type OutboxRelay } from './jobs/outbox-relay.ts';
export { createLogger, type Logger, type LoggerOptions, REDACTED_KEYS } from './logger.ts';
export { createServiceRegistry, type Registry, registerMetricsRoute } from './metrics.ts';
export {
  createPool,
  inTransaction,
  type Pool,
  type PoolClient,
  type PoolOptions,
  runMigrations,
  type ServiceMigrations,
} from './postgres.ts';
export {
  type FieldProblem,
  invalidRequest,
  notFound,
  type ProblemDetails,
  ProblemError,
  problemPlugin,
  requestProblem,
} from './problem.ts';
export { createRedis, type Redis, type RedisOptions } from './redis.ts';
export {
  type BaseServiceConfig,
  type ServiceRuntime,
  type ServiceStartup,
  startService,
} from './service-runtime.ts';
export {
  createServiceTokenSigner,
  createServiceTokenVerifier,
  forbidden,
  loadServiceTokenKeys,
  MAX_SERVICE_TOKEN_LIFETIME_SECONDS,
  MIN_SERVICE_TOKEN_KEY_BYTES,
  parseServiceTokenKeys,
  SERVICE_TOKEN_PROBLEMS,
  type ServiceTokenAuthOptions,
  type ServiceTokenClaims,
  type ServiceTokenKey,
  type ServiceTokenProblem,
  type ServiceTokenRequest,
  type ServiceTokenSigner,
  type ServiceTokenSignerOptions,
  type ServiceTokenVerification,
  type ServiceTokenVerifier,
  type ServiceTokenVerifierOptions,
  serviceTokenAuth,
  serviceTokenConfigFragment,
  serviceTokenOf,
  unauthenticated,
} from './service-token/index.ts';
export { createShutdown, type Shutdown } from './shutdown.ts';
export { startTelemetry, type Telemetry } from './telemetry.ts';
export { type Clock, type RomeTime, romeDate, romeTime, systemClock } from './time.ts';
export { currentTraceContext } from './trace-context.ts';
