import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  createLogger,
  createPool,
  createRedis,
  createServiceTokenSigner,
  createServiceTokenVerifier,
  type Pool,
  type Redis,
  type ServiceTokenKey,
} from '@sts/shared';
import {
  createSanitelDecryptor,
  createSanitelEncryptor,
  generateSanitelStandIn,
  parseSanitelCertificate,
  type SanitelDecryptor,
} from '@sts/sts';
import { buildSimulator, type Simulator, type SimulatorOptions } from '@sts/sts-simulator';
import { type TestClock, testClock } from '@sts/testkit';
import type { FastifyInstance } from 'fastify';
import { buildApp, type CredentialsDeps, type OperatorTls } from '../src/app.ts';
import type { CredentialPolicy } from '../src/credentials/credential-service.ts';
import { createDatabase, type Database } from '../src/db/database.ts';
import { type CredentialMetrics, createCredentialMetrics } from '../src/health/credential-metrics.ts';
import { createStsClientFactory } from '../src/sts/sts-client-factory.ts';
import { createKeyring, type Keyring } from '../src/vault/keyring.ts';

/**
 * Everything a test of the credentials service needs, real: Postgres and Redis from the testkit,
 * the STS simulator over HTTP (or an address where nothing listens), a controllable clock, captured
 * log lines, and service tokens as the gateway and the submitter will mint them.
 */

const tokenKey = (id: string, issuer: string, scopes: string[]): ServiceTokenKey => ({
  id,
  issuer,
  scopes,
  secret: randomBytes(32),
});
/** One key per calling service, each bound to its issuer and scopes, as configured in production. */
export const TOKEN_KEYS = {
  gateway: tokenKey('test-gateway-1', 'gateway', ['credentials:manage']),
  submitter: tokenKey('test-submitter-1', 'submitter', ['credentials:lease', 'credentials:report']),
};
/** Where nothing listens: every STS call fails before anything is sent. */
export const NOWHERE = 'http://127.0.0.1:9';

export { type TestClock, testClock };

export const newMasterKey = () => randomBytes(32);

/** The harness always gives its encryptors (the simulator's stand-in key), so tests can use them. */
type HarnessDeps = CredentialsDeps & Required<Pick<CredentialsDeps, 'sanitel'>>;

export interface HarnessOptions {
  databaseUrl: string;
  redisUrl: string;
  /** Start an STS simulator (and point both environments at it). */
  simulator?: boolean | SimulatorOptions;
  keyring?: Keyring;
  policy?: Partial<CredentialPolicy>;
  clock?: TestClock;
  operatorTls?: OperatorTls;
  /** Listen on a port (needed for mutual TLS); otherwise tests use `inject`. */
  listen?: boolean;
}

export interface Harness {
  app: FastifyInstance;
  url: string | undefined;
  pool: Pool;
  redis: Redis;
  db: Database;
  clock: TestClock;
  keyring: Keyring;
  metrics: CredentialMetrics;
  /** Every log line written so far. */
  logs: string[];
  simulator: (Simulator & { url: string }) | undefined;
  /** What the app is built from, for tests that assemble services themselves. */
  deps: HarnessDeps;
  /** Decrypts what was encrypted for the STS (the simulator's stand-in key). */
  sanitelDecryptor: SanitelDecryptor;
  /**
   * `Authorization` header of a service token, signed with the issuer's key (an issuer without one
   * gets a key this service does not know). A token serves one call, so `authorization` is a getter
   * that mints a fresh token each time it is read: one `h.auth(...)` may be passed to several
   * requests. Read it once (`const { authorization } = h.auth(...)`) to hold one token, e.g. to replay it.
   */
  auth(options: { tenantId: string; scopes: string[]; issuer?: string; subject?: string }): {
    authorization: string;
  };
  /** `Authorization` header of a token made by hand with `key`: any claims, correctly signed; one token, single use. */
  handMadeAuth(
    key: ServiceTokenKey,
    claims: { iss: string; scope: string; tid: string },
  ): {
    authorization: string;
  };
  /** Rebuilds the app over the same database and Redis (e.g. with another keyring). */
  buildApp(overrides?: Partial<CredentialsDeps>): FastifyInstance;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ name: 'credentials', level: 'debug', destination });
  const pool = createPool({ url: options.databaseUrl, applicationName: 'credentials-test' });
  const redis = createRedis(options.redisUrl, 'credentials-test');
  const clock = options.clock ?? testClock();
  const keyring = options.keyring ?? createKeyring(new Map([['v1', newMasterKey()]]), 'v1');
  const metrics = createCredentialMetrics();

  let simulator: Harness['simulator'];
  let keyPair: { certificatePem: string; privateKeyPem: string };
  if (options.simulator) {
    const sim = await buildSimulator({
      processingDelayMs: 10,
      validationWorkers: 1,
      ...(typeof options.simulator === 'object' ? options.simulator : {}),
    });
    const url = await sim.app.listen({ host: '127.0.0.1', port: 0 });
    simulator = Object.assign(sim, { url });
    keyPair = { certificatePem: sim.certificatePem, privateKeyPem: sim.privateKeyPem };
  } else {
    keyPair = generateSanitelStandIn();
  }
  const encryptor = createSanitelEncryptor(parseSanitelCertificate(keyPair.certificatePem));
  const stsUrl = simulator?.url ?? NOWHERE;

  const deps: HarnessDeps = {
    logger,
    pool,
    redis,
    clock,
    keyring,
    metrics,
    sanitel: { test: encryptor, production: encryptor },
    stsClientFactory: createStsClientFactory({
      baseUrls: { test: stsUrl, production: stsUrl },
      connectTimeoutMs: 2_000,
      responseTimeoutMs: 10_000,
    }),
    serviceTokens: createServiceTokenVerifier({
      keys: Object.values(TOKEN_KEYS),
      audience: 'credentials',
      trustedIssuers: ['gateway', 'submitter'],
      // As in production: used token ids go to Redis, so a token serves one call.
      redis,
    }),
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.operatorTls ? { operatorTls: options.operatorTls } : {}),
  };
  const apps: FastifyInstance[] = [];
  const make = (overrides: Partial<CredentialsDeps> = {}) => {
    const built = buildApp({ ...deps, ...overrides });
    apps.push(built);
    return built;
  };
  const app = make();
  const url = options.listen ? await app.listen({ host: '127.0.0.1', port: 0 }) : undefined;

  return {
    app,
    url,
    pool,
    redis,
    db: createDatabase(pool),
    clock,
    keyring,
    metrics,
    logs,
    simulator,
    deps,
    sanitelDecryptor: createSanitelDecryptor(keyPair.privateKeyPem),
    auth({ tenantId, scopes, issuer = 'gateway', subject = 'api-key:test' }) {
      // Tokens are dated by the real clock: the verifier checks them against real time.
      const key =
        issuer === 'gateway' || issuer === 'submitter'
          ? TOKEN_KEYS[issuer]
          : tokenKey(`test-${issuer}`, issuer, scopes);
      const signer = createServiceTokenSigner({ key });
      return {
        get authorization() {
          return `Bearer ${signer.sign({ audience: 'credentials', tenantId, subject, scopes })}`;
        },
      };
    },
    handMadeAuth(key, claims) {
      const now = Math.floor(Date.now() / 1000);
      const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: key.id })).toString(
        'base64url',
      );
      const payload = Buffer.from(
        JSON.stringify({
          aud: 'credentials',
          sub: 'forged',
          iat: now,
          exp: now + 60,
          jti: randomUUID(),
          ...claims,
        }),
      ).toString('base64url');
      const signature = createHmac('sha256', key.secret).update(`${header}.${payload}`).digest('base64url');
      return { authorization: `Bearer ${header}.${payload}.${signature}` };
    },
    buildApp: make,
    async close() {
      for (const built of apps) await built.close();
      await simulator?.app.close();
      await pool.end();
      redis.disconnect();
    },
  };
}

/** Calls the simulator's admin API, with its admin token. */
export async function simulatorAdmin(
  simulator: { url: string; adminToken: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${simulator.url}/__admin${path}`, {
    method,
    headers: {
      authorization: `Bearer ${simulator.adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** The kit's Entratel intermediary (Delegati/DelegatoFiscale) as a credential to create. */
export const KIT_ENTRATEL_CREDENTIAL = {
  label: 'entratel',
  environment: 'test',
  kind: 'entratel',
  user: 'MSSSMN78C13C773M',
  password: 'sotcat00',
  entratelPin: '4B64AA1D',
  entratelSiteCode: '07874631000-000',
  owner: { taxCode: 'FBNFBA62S28H501F' },
  vatNumbers: ['00265910661'],
} as const;

export const MANAGE = ['credentials:manage'];
export const LEASE = ['credentials:lease'];
export const REPORT = ['credentials:report'];
