import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { MAX_TENANT_ID_LENGTH } from '../contracts/tenant-id.ts';
import { refusedCharacters } from '../free-text.ts';
import type { Redis } from '../redis.ts';
import { systemClock } from '../time.ts';

/**
 * Service tokens: short-lived, HMAC-SHA256 signed bearer tokens that one of our services gives
 * another, saying who calls (issuer service and actor), for which tenant, with which scopes.
 *
 * The format is a compact JWS with `alg: HS256` (header.payload.signature, base64url, no padding),
 * so any JWT tool can read one while debugging. Only HS256 is accepted and the key is chosen by
 * `kid`: `alg: none` and algorithm confusion are impossible by construction.
 *
 * Every key belongs to one issuer and grants a fixed set of scopes: a token is refused when its
 * `iss` is not its key's issuer or it claims a scope its key may not grant. So the gateway's key
 * cannot mint a submitter's lease token, whatever the payload says.
 *
 * A token serves one call: its `jti` (128 random bits) is recorded in Redis, shared by every replica
 * of the audience, for the rest of the token's lifetime plus the clock skew, and a second use within
 * that time is refused (`replayed`). The record is written only once every other check has passed,
 * so an invalid token never uses up a `jti`.
 */

/** What a verified token says. */
export interface ServiceTokenClaims {
  /** Issuer: the calling service (`gateway`, `submitter`). */
  issuer: string;
  /** Audience: the service the token is for (`credentials`). */
  audience: string;
  /** The tenant the call acts for; every lookup is confined to it. */
  tenantId: string;
  /** Who is behind the call (an API key id, a user, a worker): for the audit log. */
  subject: string;
  scopes: readonly string[];
  issuedAt: Date;
  expiresAt: Date;
  /** Unique per token (`jti`): a token is accepted once; also correlates audit lines. */
  tokenId: string;
  /** Which signing key was used. */
  keyId: string;
}

/**
 * A named HMAC key, bound to the one service that signs with it and the scopes it may grant.
 * Several may be configured so keys rotate without downtime.
 */
export interface ServiceTokenKey {
  id: string;
  /** The only issuer a token signed with this key may name (`gateway`, `submitter`). */
  issuer: string;
  /** The only scopes a token signed with this key may carry. */
  scopes: readonly string[];
  secret: Buffer;
}

/** Why a token was refused. Stable codes; messages never repeat the token. */
export const SERVICE_TOKEN_PROBLEMS = [
  'malformed',
  'unsupported-algorithm',
  'unknown-key',
  'bad-signature',
  'expired',
  'not-yet-valid',
  'lifetime-too-long',
  'wrong-audience',
  'untrusted-issuer',
  'issuer-mismatch',
  'scope-not-allowed',
  'missing-claim',
  'replayed',
] as const;
export type ServiceTokenProblem = (typeof SERVICE_TOKEN_PROBLEMS)[number];

export type ServiceTokenVerification =
  | { ok: true; claims: ServiceTokenClaims }
  | { ok: false; problem: ServiceTokenProblem; message: string };

/** The smallest HMAC-SHA256 key we accept: 256 bits, as RFC 7518 §3.2 asks. */
export const MIN_SERVICE_TOKEN_KEY_BYTES = 32;
/** Upper bound of a token's lifetime: they are minted per call or per job, never stored. */
export const MAX_SERVICE_TOKEN_LIFETIME_SECONDS = 300;
const DEFAULT_LIFETIME_SECONDS = 60;
const DEFAULT_CLOCK_SKEW_SECONDS = 30;
const MAX_TOKEN_LENGTH = 4096;
/** A `jti` is a Redis key part: printable ASCII, bounded. Ours are 22 characters (16 bytes, base64url). */
const JTI_PATTERN = /^[\x21-\x7e]{1,128}$/;
/**
 * `iss`, `tid` and `sub` reach queries, audit lines and logs: bounded text without control characters.
 * `tid` is a tenant id: its limit is the contracts' (`MAX_TENANT_ID_LENGTH`), so every event and job
 * can carry any tenant a token may name.
 */
const MAX_CLAIM_LENGTH = 256;
const JTI_BYTES = 16;
const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const SCOPE_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;
/** How one configured key is written. */
const SERVICE_TOKEN_KEY_FORMAT = '<key id>:<issuer>:<scope>[+<scope>…]:<base64 secret>';

const base64url = (input: Buffer | string) => Buffer.from(input).toString('base64url');
const signature = (secret: Buffer, signingInput: string) =>
  createHmac('sha256', secret).update(signingInput).digest();

/**
 * Reads keys from configuration, separated by commas or newlines, each written
 * `<key id>:<issuer>:<scope>[+<scope>…]:<base64 secret>`, e.g.
 * `gateway-2026a:gateway:credentials:manage:3q2+7w==…,submitter-2026a:submitter:credentials:lease+credentials:report:…`.
 * Ids and issuers hold no `:`, scopes may (base64 never does), so the first two colons and the last
 * one split an entry. Every secret must hold at least 32 bytes. Errors never repeat a secret.
 */
export function parseServiceTokenKeys(text: string): ServiceTokenKey[] {
  const keys: ServiceTokenKey[] = [];
  const entries = text
    .split(/[\n,]/)
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const [index, entry] of entries.entries()) {
    const parts = entry.split(':');
    const id = parts.length >= 4 ? parts[0]! : '';
    if (!NAME_PATTERN.test(id)) {
      throw new Error(
        `service token key #${index + 1}: write it as ${SERVICE_TOKEN_KEY_FORMAT}; the id is 1-64 letters, digits, '.', '_' or '-'`,
      );
    }
    const issuer = parts[1]!;
    if (!NAME_PATTERN.test(issuer)) {
      throw new Error(
        `service token key ${id}: the issuer (the one service signing with this key) is 1-64 letters, digits, '.', '_' or '-'`,
      );
    }
    const scopes = parts.slice(2, -1).join(':').split('+');
    const badScope = scopes.findIndex((scope) => !SCOPE_PATTERN.test(scope));
    if (badScope >= 0) {
      throw new Error(
        `service token key ${id}: scope #${badScope + 1} must be 1-64 letters, digits, '.', '_', ':' or '-'; separate scopes with '+'`,
      );
    }
    const secret = Buffer.from(parts.at(-1)!, 'base64');
    if (secret.length < MIN_SERVICE_TOKEN_KEY_BYTES) {
      throw new Error(
        `service token key ${id}: the secret must decode to at least ${MIN_SERVICE_TOKEN_KEY_BYTES} bytes (generate one with: openssl rand -base64 32)`,
      );
    }
    if (keys.some((key) => key.id === id)) throw new Error(`service token key ${id} is configured twice`);
    keys.push({ id, issuer, scopes, secret });
  }
  if (keys.length === 0) throw new Error('no service token key is configured');
  return keys;
}

export interface ServiceTokenSignerOptions {
  /** The key tokens are signed with; its issuer is written as `iss`. */
  key: ServiceTokenKey;
  clock?: () => Date;
}

export interface ServiceTokenRequest {
  audience: string;
  tenantId: string;
  subject: string;
  scopes: readonly string[];
  /** Default 60 s; at most 300 s. */
  lifetimeSeconds?: number;
}

/** The scopes of `scopes` a key may not grant. */
const scopesBeyond = (key: ServiceTokenKey, scopes: readonly string[]) =>
  scopes.filter((scope) => !key.scopes.includes(scope));

/** Mints tokens for calls to another service; used by the gateway and the submitter (and tests). */
export function createServiceTokenSigner({ key, clock = systemClock }: ServiceTokenSignerOptions) {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: key.id }));
  return {
    sign(request: ServiceTokenRequest): string {
      const lifetime = request.lifetimeSeconds ?? DEFAULT_LIFETIME_SECONDS;
      if (!(lifetime > 0 && lifetime <= MAX_SERVICE_TOKEN_LIFETIME_SECONDS)) {
        throw new Error(`a service token lives 1 to ${MAX_SERVICE_TOKEN_LIFETIME_SECONDS} seconds`);
      }
      // Refused here already, so a misconfigured signer fails at once rather than at every callee.
      const beyond = scopesBeyond(key, request.scopes);
      if (beyond.length > 0) {
        throw new Error(`service token key ${key.id} may not grant ${beyond.join(', ')}`);
      }
      const now = Math.floor(clock().getTime() / 1000);
      const payload = base64url(
        JSON.stringify({
          iss: key.issuer,
          aud: request.audience,
          tid: request.tenantId,
          sub: request.subject,
          scope: request.scopes.join(' '),
          iat: now,
          exp: now + lifetime,
          jti: randomBytes(JTI_BYTES).toString('base64url'),
        }),
      );
      const signingInput = `${header}.${payload}`;
      return `${signingInput}.${signature(key.secret, signingInput).toString('base64url')}`;
    },
  };
}

export type ServiceTokenSigner = ReturnType<typeof createServiceTokenSigner>;

/** What the verifier needs of Redis: `SET key value PX ms NX`. */
export type ServiceTokenReplayRedis = Pick<Redis, 'set'>;

export type ServiceTokenVerifierOptions = {
  /** Every key a valid token may be signed with (current and previous during a rotation), each bound to its issuer and scopes. */
  keys: readonly ServiceTokenKey[];
  /** This service's name: tokens for anyone else are refused. */
  audience: string;
  /** Services allowed to call; when omitted, any issuer holding a key is. */
  trustedIssuers?: readonly string[];
  clock?: () => Date;
  clockSkewSeconds?: number;
} & (
  | {
      /** Where used `jti`s are recorded, shared by every replica: what makes a token single use. */
      redis: ServiceTokenReplayRedis;
      allowReplays?: undefined;
    }
  | {
      redis?: undefined;
      /** Unit tests of the token checks only: without Redis nothing stops a replay. Never in a service. */
      allowReplays: true;
    }
);

/** The Redis key of a used `jti`, namespaced per audience. */
const usedTokenKey = (audience: string, jti: string) => `service-token:jti:${audience}:${jti}`;

const refuse = (problem: ServiceTokenProblem, message: string): ServiceTokenVerification => ({
  ok: false,
  problem,
  message,
});

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isSeconds = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value);

export function createServiceTokenVerifier(options: ServiceTokenVerifierOptions) {
  const {
    keys,
    audience,
    trustedIssuers,
    clock = systemClock,
    clockSkewSeconds = DEFAULT_CLOCK_SKEW_SECONDS,
    redis,
  } = options;
  if (!redis && options.allowReplays !== true) {
    throw new Error(
      'createServiceTokenVerifier: pass redis, where used token ids are recorded (allowReplays: true is for unit tests only)',
    );
  }
  const byId = new Map(keys.map((key) => [key.id, key]));
  return {
    /**
     * Checks a token and, when it is valid, records its `jti` so it is accepted only once. Rejects
     * (throws) only when Redis cannot be reached: the caller cannot tell a replay from a first use.
     */
    async verify(token: string): Promise<ServiceTokenVerification> {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) {
        return refuse('malformed', 'the token is not a compact HS256 token');
      }
      const parts = token.split('.');
      if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) {
        return refuse('malformed', 'the token is not three base64url parts separated by dots');
      }
      const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
      const header = decodeJson(headerPart);
      if (!header) return refuse('malformed', 'the token header is not a JSON object');
      if (header.alg !== 'HS256') return refuse('unsupported-algorithm', 'only HS256 tokens are accepted');
      const key = typeof header.kid === 'string' ? byId.get(header.kid) : undefined;
      if (!key) return refuse('unknown-key', 'the token is signed with a key this service does not know');

      const expected = signature(key.secret, `${headerPart}.${payloadPart}`);
      const given = Buffer.from(signaturePart, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return refuse('bad-signature', 'the token signature does not match');
      }

      const payload = decodeJson(payloadPart);
      if (!payload) return refuse('malformed', 'the token payload is not a JSON object');
      const { iss, aud, tid, sub, scope, iat, exp, jti } = payload;
      if (!isText(iss) || !isText(aud) || !isText(tid) || !isText(sub) || typeof scope !== 'string') {
        return refuse('missing-claim', 'the token lacks one of iss, aud, tid, sub, scope');
      }
      // Who calls, for whom: these reach queries, audit lines and logs, so they are text a column
      // can hold (Postgres refuses NUL), however well signed.
      if (
        iss.length > MAX_CLAIM_LENGTH ||
        sub.length > MAX_CLAIM_LENGTH ||
        tid.length > MAX_TENANT_ID_LENGTH ||
        [iss, tid, sub].some((claim) => refusedCharacters('claim', claim))
      ) {
        return refuse(
          'malformed',
          `iss and sub are 1-${MAX_CLAIM_LENGTH} characters, tid 1-${MAX_TENANT_ID_LENGTH}, all without control characters`,
        );
      }
      if (!isSeconds(iat) || !isSeconds(exp) || !isText(jti)) {
        return refuse('missing-claim', 'the token lacks one of iat, exp, jti');
      }
      if (!JTI_PATTERN.test(jti)) {
        return refuse('missing-claim', 'the token jti is not 1-128 printable characters');
      }
      const nowMs = clock().getTime();
      const now = nowMs / 1000;
      if (exp - iat > MAX_SERVICE_TOKEN_LIFETIME_SECONDS) {
        return refuse(
          'lifetime-too-long',
          `a token may live at most ${MAX_SERVICE_TOKEN_LIFETIME_SECONDS} s`,
        );
      }
      if (now > exp + clockSkewSeconds) return refuse('expired', 'the token has expired');
      if (now < iat - clockSkewSeconds) return refuse('not-yet-valid', 'the token is issued in the future');
      if (aud !== audience) return refuse('wrong-audience', 'the token is meant for another service');
      if (trustedIssuers && !trustedIssuers.includes(iss)) {
        return refuse('untrusted-issuer', 'the token comes from a service not allowed to call this one');
      }
      // A key speaks for one service and a fixed set of scopes, whatever the payload claims.
      if (iss !== key.issuer) {
        return refuse('issuer-mismatch', 'the token names an issuer its signing key does not belong to');
      }
      const scopes = scope.split(' ').filter(Boolean);
      if (scopesBeyond(key, scopes).length > 0) {
        return refuse('scope-not-allowed', 'the token claims a scope its signing key may not grant');
      }
      // Last, so only a token that passed every other check uses up its jti. It is remembered for
      // as long as this verifier would still accept the token.
      if (redis) {
        const rememberMs = Math.max(1, Math.ceil((exp + clockSkewSeconds) * 1000 - nowMs));
        const first = await redis.set(usedTokenKey(audience, jti), '1', 'PX', rememberMs, 'NX');
        if (first !== 'OK') {
          return refuse('replayed', 'the token was already used; mint a new token for every call');
        }
      }
      return {
        ok: true,
        claims: {
          issuer: iss,
          audience: aud,
          tenantId: tid,
          subject: sub,
          scopes,
          issuedAt: new Date(iat * 1000),
          expiresAt: new Date(exp * 1000),
          tokenId: jti,
          keyId: key.id,
        },
      };
    },
  };
}

export type ServiceTokenVerifier = ReturnType<typeof createServiceTokenVerifier>;
