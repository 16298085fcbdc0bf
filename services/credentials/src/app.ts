import {
  type Clock,
  createHttpApp,
  type Logger,
  OPERATOR_ROUTES,
  type Pool,
  postgresCheck,
  type Redis,
  redisCheck,
  registerBackgroundTask,
  registerHealthRoute,
  registerMetricsRoute,
  type ServiceTokenVerifier,
  serviceTokenAuth,
  systemClock,
} from '@sts/shared';
import { createSanitelEncryptor, type SanitelEncryptor } from '@sts/sts';
import type { FastifyInstance } from 'fastify';
import {
  registerInternalCredentialRoutes,
  registerSharedCredentialRoutes,
} from './credentials/credential-routes.ts';
import { type CredentialPolicy, createCredentialService } from './credentials/credential-service.ts';
import type { Environment } from './credentials/credential-validation.ts';
import { createExpiryMonitor } from './credentials/expiry-monitor.ts';
import type { SanitelCertificatesConfig } from './credentials/sanitel-certificate-monitor.ts';
import { createDatabase } from './db/database.ts';
import { createCredentialEvents } from './events/credential-events.ts';
import { type CredentialMetrics, createCredentialMetrics } from './health/credential-metrics.ts';
import { createLeaseService } from './leases/lease-service.ts';
import { registerLoginBudgetRoutes } from './logins/login-budget-routes.ts';
import { operatorAuth, operatorContext } from './operators/operator-auth.ts';
import type { StsClientFactory } from './sts/sts-client-factory.ts';
import { createEnvelopeEncryption } from './vault/envelope-encryption.ts';
import type { Keyring } from './vault/keyring.ts';
import { createSecretVault } from './vault/secret-vault.ts';

/** Mutual TLS for operators' CNS cards: the server's own certificate and the CAs of the cards. */
export interface OperatorTls {
  cert: string;
  key: string;
  /** PEM of the CNS issuing CAs; a client certificate must chain to one of them. */
  clientCa: string | string[];
}

export interface CredentialsDeps {
  logger: Logger;
  pool: Pool;
  redis: Redis;
  clock?: Clock;
  keyring: Keyring;
  /**
   * SanitelCF encryptors per environment (the test one may be the simulator's stand-in). Default:
   * one per set of `sanitelCertificates`, which must then hold both environments.
   */
  sanitel?: Record<Environment, SanitelEncryptor>;
  /**
   * The SanitelCF certificates behind those encryptors, watched by the expiry monitor (logs and
   * warnings) and the `credentials_sanitel_certificate_days_left` gauge; not watched when absent.
   */
  sanitelCertificates?: SanitelCertificatesConfig;
  stsClientFactory: StsClientFactory;
  serviceTokens: ServiceTokenVerifier;
  policy?: Partial<CredentialPolicy>;
  leaseTtlMs?: number;
  metrics?: CredentialMetrics;
  operatorTls?: OperatorTls;
  /** How often the expiry monitor looks for passwords and certificates about to expire. */
  expiryCheckIntervalMs?: number;
}

export const DEFAULT_POLICY: CredentialPolicy = {
  passwordValidityDays: 90,
  expiryWarningDays: [14, 7, 3, 1],
  testPauseAfterFailureMs: 6 * 3_600_000,
  testCall: 'point-query',
  testLockTtlMs: 5 * 60_000,
  loginFailureBudget: 3,
};

const BODY_LIMIT = 256 * 1024;
const DEFAULT_EXPIRY_CHECK_INTERVAL_MS = 3_600_000;

function createServer(logger: Logger, tls: OperatorTls | undefined): FastifyInstance {
  if (!tls) return createHttpApp({ logger, bodyLimit: BODY_LIMIT });
  // HTTPS that asks every client for a certificate without demanding one: token callers connect
  // without, operators with their CNS card; operatorAuth decides per route.
  return createHttpApp({
    logger,
    bodyLimit: BODY_LIMIT,
    https: {
      cert: tls.cert,
      key: tls.key,
      ca: tls.clientCa,
      requestCert: true,
      rejectUnauthorized: false,
      // Many CNS cards in circulation carry RSA-1024 keys, which OpenSSL 3's default security
      // level 2 refuses ("ee key too small"); level 1 accepts them (and nothing weaker).
      ciphers: 'DEFAULT:@SECLEVEL=1',
    },
  });
}

/** One encryptor per environment, each encrypting with the newest valid certificate of its set. */
function sanitelEncryptorsOf(
  certificates: SanitelCertificatesConfig | undefined,
): Record<Environment, SanitelEncryptor> {
  const { production, test } = certificates?.sets ?? {};
  if (!production || !test) {
    throw new Error('buildApp: give `sanitel`, or `sanitelCertificates` with the sets of both environments');
  }
  return { production: createSanitelEncryptor(production), test: createSanitelEncryptor(test) };
}

export function buildApp(deps: CredentialsDeps): FastifyInstance {
  const { logger, pool, redis } = deps;
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? createCredentialMetrics();
  const policy = { ...DEFAULT_POLICY, ...deps.policy };
  const db = createDatabase(pool);
  const sanitel = deps.sanitel ?? sanitelEncryptorsOf(deps.sanitelCertificates);
  const envelope = createEnvelopeEncryption(deps.keyring);
  const events = createCredentialEvents({
    redis,
    logger,
    onFailure: () => metrics.increment('credentials_events_publish_failures_total'),
  });
  const credentials = createCredentialService({
    db,
    redis,
    logger,
    clock,
    vault: createSecretVault(envelope),
    keyring: deps.keyring,
    events,
    metrics,
    stsClientFactory: deps.stsClientFactory,
    sanitel,
    policy,
  });
  const leases = createLeaseService({
    db,
    clock,
    credentials,
    metrics,
    sanitel,
    leaseTtlMs: deps.leaseTtlMs ?? 5 * 60_000,
  });

  const app = createServer(logger, deps.operatorTls);
  // The expiry monitor belongs to the app: it starts when the app is ready and stops when it closes.
  const monitor = createExpiryMonitor({
    db,
    logger,
    clock,
    events,
    metrics,
    warningDays: policy.expiryWarningDays,
    ...(deps.sanitelCertificates ? { sanitel: deps.sanitelCertificates } : {}),
  });
  if (deps.sanitelCertificates) metrics.watchSanitelCertificates(deps.sanitelCertificates.sets, clock);
  registerBackgroundTask(
    app,
    {
      name: 'expiry-monitor',
      intervalMs: deps.expiryCheckIntervalMs ?? DEFAULT_EXPIRY_CHECK_INTERVAL_MS,
      run: () => monitor.runOnce(),
    },
    logger,
  );
  registerHealthRoute(app, {
    service: 'credentials',
    checks: { postgres: postgresCheck(pool), redis: redisCheck(redis) },
  });
  metrics.readGaugesFrom(db, clock);
  metrics.countSpentLoginsWith(() => credentials.logins.countSpent(db));
  registerMetricsRoute(app, metrics.registry);
  void app.register(async (internal) => {
    await internal.register(serviceTokenAuth, { verifier: deps.serviceTokens });
    registerInternalCredentialRoutes(internal, { service: credentials, leases });
  });
  void app.register(async (operators) => {
    await operators.register(operatorAuth);
    registerSharedCredentialRoutes(operators, {
      prefix: OPERATOR_ROUTES.credentials,
      service: credentials,
      contextOf: operatorContext,
    });
    registerLoginBudgetRoutes(operators, {
      prefix: OPERATOR_ROUTES.credentials,
      service: credentials,
      contextOf: operatorContext,
    });
  });
  return app;
}
