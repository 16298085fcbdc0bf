import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { testClock, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCredentialEvent } from '../contracts/credential-events.ts';
import { MAX_TENANT_ID_LENGTH } from '../contracts/tenant-id.ts';
import { createHttpApp } from '../http-app.ts';
import { createLogger } from '../logger.ts';
import { createRedis, type Redis } from '../redis.ts';
import {
  createServiceTokenSigner,
  createServiceTokenVerifier,
  parseServiceTokenKeys,
  type ServiceTokenKey,
} from './service-token.ts';
import { serviceTokenAuth, serviceTokenOf } from './service-token-plugin.ts';

const gatewayScopes = ['credentials:manage', 'things:read'];
const keyA: ServiceTokenKey = { id: 'k1', issuer: 'gateway', scopes: gatewayScopes, secret: randomBytes(32) };
const keyB: ServiceTokenKey = { id: 'k2', issuer: 'gateway', scopes: gatewayScopes, secret: randomBytes(32) };
const submitterKey: ServiceTokenKey = {
  id: 's1',
  issuer: 'submitter',
  scopes: ['credentials:lease', 'credentials:report'],
  secret: randomBytes(32),
};
const start = new Date('2026-03-01T10:00:00Z');

function fixedClock(initial: Date) {
  const clock = testClock(initial);
  return { clock, advance: (seconds: number) => clock.advance(seconds * 1000) };
}

const request = {
  audience: 'credentials',
  tenantId: 'tenant-1',
  subject: 'api-key:42',
  scopes: ['credentials:manage'],
};

describe('service tokens', () => {
  it('round-trips the claims', async () => {
    const { clock } = fixedClock(start);
    const token = createServiceTokenSigner({ key: keyA, clock }).sign(request);
    const verifier = createServiceTokenVerifier({
      keys: [keyA],
      audience: 'credentials',
      clock,
      allowReplays: true,
    });
    const result = await verifier.verify(token);
    expect(result).toMatchObject({
      ok: true,
      claims: {
        issuer: 'gateway',
        audience: 'credentials',
        tenantId: 'tenant-1',
        subject: 'api-key:42',
        scopes: ['credentials:manage'],
        issuedAt: start,
        expiresAt: new Date(start.getTime() + 60_000),
        keyId: 'k1',
      },
    });
  });

  it('verifies with any configured key, so keys rotate', async () => {
    const { clock } = fixedClock(start);
    const verifier = createServiceTokenVerifier({
      keys: [keyA, keyB],
      audience: 'credentials',
      clock,
      allowReplays: true,
    });
    for (const key of [keyA, keyB]) {
      const token = createServiceTokenSigner({ key, clock }).sign(request);
      expect((await verifier.verify(token)).ok).toBe(true);
    }
    const onlyB = createServiceTokenVerifier({
      keys: [keyB],
      audience: 'credentials',
      clock,
      allowReplays: true,
    });
    const signedWithA = createServiceTokenSigner({ key: keyA, clock }).sign(request);
    expect(await onlyB.verify(signedWithA)).toMatchObject({ ok: false, problem: 'unknown-key' });
  });

  it('refuses expired, future, over-long, misdirected and untrusted tokens', async () => {
    const { clock, advance } = fixedClock(start);
    const signer = createServiceTokenSigner({ key: keyA, clock });
    const verifier = createServiceTokenVerifier({
      keys: [keyA],
      audience: 'credentials',
      trustedIssuers: ['gateway', 'submitter'],
      clock,
      clockSkewSeconds: 5,
      allowReplays: true,
    });
    const token = signer.sign({ ...request, lifetimeSeconds: 30 });
    advance(36);
    expect(await verifier.verify(token)).toMatchObject({ ok: false, problem: 'expired' });

    const { clock: early } = fixedClock(new Date(start.getTime() - 60_000));
    const fromThePast = createServiceTokenVerifier({
      keys: [keyA],
      audience: 'credentials',
      clock: early,
      allowReplays: true,
    });
    expect(await fromThePast.verify(signer.sign(request))).toMatchObject({
      ok: false,
      problem: 'not-yet-valid',
    });

    expect(await verifier.verify(signer.sign({ ...request, audience: 'submitter' }))).toMatchObject({
      ok: false,
      problem: 'wrong-audience',
    });
    const relayKey = { ...keyA, issuer: 'webhook-relay' };
    const intruder = createServiceTokenSigner({ key: relayKey, clock });
    const relayVerifier = createServiceTokenVerifier({
      keys: [relayKey],
      audience: 'credentials',
      trustedIssuers: ['gateway', 'submitter'],
      clock,
      allowReplays: true,
    });
    expect(await relayVerifier.verify(intruder.sign(request))).toMatchObject({
      ok: false,
      problem: 'untrusted-issuer',
    });
    expect(() => signer.sign({ ...request, lifetimeSeconds: 3600 })).toThrow(/1 to 300 seconds/);

    // A hand-made token that claims a day of life, correctly signed: still refused.
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: 'k1' })).toString('base64url');
    const now = Math.floor(clock().getTime() / 1000);
    const payload = Buffer.from(
      JSON.stringify({
        iss: 'gateway',
        aud: 'credentials',
        tid: 't',
        sub: 's',
        scope: 'x',
        iat: now,
        exp: now + 86_400,
        jti: 'j',
      }),
    ).toString('base64url');
    const sig = createHmac('sha256', keyA.secret).update(`${header}.${payload}`).digest('base64url');
    expect(await verifier.verify(`${header}.${payload}.${sig}`)).toMatchObject({
      ok: false,
      problem: 'lifetime-too-long',
    });
  });

  it("binds each key to one issuer and its scopes: the gateway's key cannot mint a lease token", async () => {
    const { clock } = fixedClock(start);
    const verifier = createServiceTokenVerifier({
      keys: [keyA, submitterKey],
      audience: 'credentials',
      trustedIssuers: ['gateway', 'submitter'],
      clock,
      allowReplays: true,
    });
    // The genuine tokens of each service pass.
    expect((await verifier.verify(handMade(keyA, { iss: 'gateway', scope: 'credentials:manage' }))).ok).toBe(
      true,
    );
    expect(
      (
        await verifier.verify(
          handMade(submitterKey, { iss: 'submitter', scope: 'credentials:lease credentials:report' }),
        )
      ).ok,
    ).toBe(true);
    // The gateway's key, posing as the submitter, or granting itself the submitter's scope.
    expect(
      await verifier.verify(handMade(keyA, { iss: 'submitter', scope: 'credentials:lease' })),
    ).toMatchObject({
      ok: false,
      problem: 'issuer-mismatch',
    });
    expect(
      await verifier.verify(handMade(keyA, { iss: 'gateway', scope: 'credentials:lease' })),
    ).toMatchObject({
      ok: false,
      problem: 'scope-not-allowed',
    });
    expect(
      await verifier.verify(
        handMade(keyA, { iss: 'gateway', scope: 'credentials:manage credentials:lease' }),
      ),
    ).toMatchObject({ ok: false, problem: 'scope-not-allowed' });
    // And the submitter's key cannot manage.
    expect(
      await verifier.verify(handMade(submitterKey, { iss: 'submitter', scope: 'credentials:manage' })),
    ).toMatchObject({ ok: false, problem: 'scope-not-allowed' });
    // A signer refuses to write what its key may not grant, and always names its key's issuer.
    const gatewaySigner = createServiceTokenSigner({ key: keyA, clock });
    expect(() => gatewaySigner.sign({ ...request, scopes: ['credentials:lease'] })).toThrow(
      /k1 may not grant credentials:lease/,
    );
    const claims = await verifier.verify(gatewaySigner.sign(request));
    expect(claims).toMatchObject({ ok: true, claims: { issuer: 'gateway', keyId: 'k1' } });
  });

  it('refuses tampering, alg none and garbage', async () => {
    const { clock } = fixedClock(start);
    const token = createServiceTokenSigner({ key: keyA, clock }).sign(request);
    const verifier = createServiceTokenVerifier({
      keys: [keyA],
      audience: 'credentials',
      clock,
      allowReplays: true,
    });
    const [header, payload, sig] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const otherTenant = Buffer.from(JSON.stringify({ ...claims, tid: 'tenant-2' })).toString('base64url');
    expect(await verifier.verify(`${header}.${otherTenant}.${sig}`)).toMatchObject({
      ok: false,
      problem: 'bad-signature',
    });
    const none = Buffer.from(JSON.stringify({ alg: 'none', kid: 'k1' })).toString('base64url');
    expect(await verifier.verify(`${none}.${payload}.${sig}`)).toMatchObject({
      ok: false,
      problem: 'unsupported-algorithm',
    });
    expect(await verifier.verify('not-a-token')).toMatchObject({ ok: false, problem: 'malformed' });
    expect(await verifier.verify(`${header}.${payload}.`)).toMatchObject({ ok: false, problem: 'malformed' });
  });

  it('parses configured keys, each bound to an issuer and its scopes, and names what is wrong', () => {
    const secret = randomBytes(32).toString('base64');
    const keys = parseServiceTokenKeys(
      `gw-1:gateway:credentials:manage:${secret},\n sub-1:submitter:credentials:lease+credentials:report:${secret}`,
    );
    expect(keys.map(({ id, issuer, scopes }) => ({ id, issuer, scopes }))).toEqual([
      { id: 'gw-1', issuer: 'gateway', scopes: ['credentials:manage'] },
      { id: 'sub-1', issuer: 'submitter', scopes: ['credentials:lease', 'credentials:report'] },
    ]);
    expect(keys[0]!.secret).toEqual(Buffer.from(secret, 'base64'));
    const short = randomBytes(16).toString('base64');
    expect(() => parseServiceTokenKeys(`a:gateway:x:${short}`)).toThrow(/at least 32 bytes/);
    expect(() => parseServiceTokenKeys(`a:gateway:x:${secret},a:gateway:x:${secret}`)).toThrow(/twice/);
    // The old `id:secret` form binds nothing: refused, and the message does not repeat the secret.
    for (const entry of [secret, `a:${secret}`, `a:gateway:${secret}`]) {
      expect(() => parseServiceTokenKeys(entry)).toThrow(
        /<key id>:<issuer>:<scope>\[\+<scope>…\]:<base64 secret>/,
      );
      try {
        parseServiceTokenKeys(entry);
      } catch (error) {
        expect((error as Error).message).not.toContain(secret);
      }
    }
    expect(() => parseServiceTokenKeys(`a:gate way:x:${secret}`)).toThrow(/key a: the issuer/);
    expect(() => parseServiceTokenKeys(`a:gateway:x++y:${secret}`)).toThrow(/key a: scope #2/);
    expect(() => parseServiceTokenKeys(' ')).toThrow(/no service token key/);
  });
});

describe('serviceTokenAuth plugin', () => {
  const logger = createLogger({ name: 'test', level: 'silent' });
  const { clock } = fixedClock(new Date());
  const signer = createServiceTokenSigner({ key: keyA });
  const verifier = createServiceTokenVerifier({
    keys: [keyA],
    audience: 'credentials',
    clock,
    allowReplays: true,
  });

  function buildApp() {
    const app = createHttpApp({ logger });
    app.get('/open', async () => ({ open: true }));
    void app.register(async (scope) => {
      await scope.register(serviceTokenAuth, { verifier });
      scope.get('/things', { config: { acceptedScopes: ['things:read'] } }, async (req) => ({
        tenant: serviceTokenOf(req).tenantId,
      }));
      scope.get('/closed', async () => ({}));
    });
    return app;
  }

  it('answers 401 problem+json without a valid token, 403 without the scope, 200 with it', async () => {
    const app = buildApp();
    const missing = await app.inject({ method: 'GET', url: '/things' });
    expect(missing.statusCode).toBe(401);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    expect(missing.json()).toMatchObject({ status: 401, title: 'Authentication required' });

    const forged = await app.inject({
      method: 'GET',
      url: '/things',
      headers: { authorization: `Bearer ${signer.sign(request).slice(0, -3)}abc` },
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().detail).toMatch(/signature/);

    const wrongScope = await app.inject({
      method: 'GET',
      url: '/things',
      headers: { authorization: `Bearer ${signer.sign(request)}` },
    });
    expect(wrongScope.statusCode).toBe(403);
    expect(wrongScope.json().detail).toMatch(/things:read/);

    const good = await app.inject({
      method: 'GET',
      url: '/things',
      headers: { authorization: `Bearer ${signer.sign({ ...request, scopes: ['things:read'] })}` },
    });
    expect(good.statusCode).toBe(200);
    expect(good.json()).toEqual({ tenant: 'tenant-1' });

    const closed = await app.inject({
      method: 'GET',
      url: '/closed',
      headers: { authorization: `Bearer ${signer.sign({ ...request, scopes: ['things:read'] })}` },
    });
    expect(closed.statusCode).toBe(403);

    expect((await app.inject({ method: 'GET', url: '/open' })).statusCode).toBe(200);
    await app.close();
  });
});

describe('replayed service tokens', () => {
  const redisDatabase = useTestRedis();
  let redis: Redis;
  beforeAll(() => {
    redis = createRedis(redisDatabase.url, 'service-token-test');
  });
  afterAll(() => redis.disconnect());

  it('a token is single use: its jti is refused a second time within its lifetime, on every replica sharing Redis', async () => {
    const { clock } = fixedClock(new Date());
    const token = createServiceTokenSigner({ key: keyA, clock }).sign(request);
    const replicaA = createServiceTokenVerifier({ keys: [keyA], audience: 'credentials', clock, redis });
    const replicaB = createServiceTokenVerifier({ keys: [keyA], audience: 'credentials', clock, redis });
    expect((await replicaA.verify(token)).ok).toBe(true);
    expect(await replicaA.verify(token)).toMatchObject({ ok: false, problem: 'replayed' });
    expect(await replicaB.verify(token)).toMatchObject({ ok: false, problem: 'replayed' });
    // A fresh token of the same caller passes.
    expect((await replicaB.verify(createServiceTokenSigner({ key: keyA, clock }).sign(request))).ok).toBe(
      true,
    );
  });

  it('remembers a jti for the rest of the token lifetime plus the clock skew, per audience', async () => {
    const { clock, advance } = fixedClock(new Date());
    const token = createServiceTokenSigner({ key: keyA, clock }).sign({ ...request, lifetimeSeconds: 120 });
    advance(20);
    const verifier = createServiceTokenVerifier({
      keys: [keyA],
      audience: 'credentials',
      clock,
      clockSkewSeconds: 10,
      redis,
    });
    expect((await verifier.verify(token)).ok).toBe(true);
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
    const ttl = await redis.pttl(`service-token:jti:credentials:${jti}`);
    // 120 s of life, 20 s gone, 10 s of skew: 110 s.
    expect(ttl).toBeGreaterThan(109_000);
    expect(ttl).toBeLessThanOrEqual(110_000);
    // Another audience keeps its own record (a token for it would be refused anyway, by audience).
    expect(await redis.exists(`service-token:jti:submitter:${jti}`)).toBe(0);
  });

  it('an invalid token never consumes a jti', async () => {
    const { clock } = fixedClock(start);
    const verifier = createServiceTokenVerifier({
      keys: [keyA, submitterKey],
      audience: 'credentials',
      trustedIssuers: ['gateway', 'submitter'],
      clock,
      redis,
    });
    const jti = `jti-${randomBytes(8).toString('hex')}`;
    const forged = handMade(keyA, { iss: 'gateway', scope: 'credentials:manage', jti });
    const [header, payload] = forged.split('.') as [string, string];
    const refusals = [
      `${header}.${payload}.${Buffer.from('x'.repeat(32)).toString('base64url')}`,
      handMade(keyA, { iss: 'gateway', scope: 'credentials:lease', jti }),
      handMade(keyA, { iss: 'submitter', scope: 'credentials:manage', jti }),
      handMade(keyA, { iss: 'gateway', scope: 'credentials:manage', jti, aud: 'submitter' }),
      handMade(
        keyA,
        { iss: 'gateway', scope: 'credentials:manage', jti },
        new Date(start.getTime() - 3_600_000),
      ),
    ];
    for (const token of refusals) {
      const result = await verifier.verify(token);
      expect(result.ok).toBe(false);
      expect(result).not.toMatchObject({ problem: 'replayed' });
    }
    expect(await redis.exists(`service-token:jti:credentials:${jti}`)).toBe(0);
    expect((await verifier.verify(forged)).ok).toBe(true);
    expect(await verifier.verify(forged)).toMatchObject({ ok: false, problem: 'replayed' });
  });

  it('refuses an over-long jti, and signs 128-bit random ones', async () => {
    const { clock } = fixedClock(start);
    const verifier = createServiceTokenVerifier({ keys: [keyA], audience: 'credentials', clock, redis });
    const long = handMade(keyA, {
      iss: 'gateway',
      scope: 'credentials:manage',
      jti: 'j'.repeat(129),
    });
    expect(await verifier.verify(long)).toMatchObject({ ok: false, problem: 'missing-claim' });
    const signer = createServiceTokenSigner({ key: keyA, clock });
    const jtis = new Set(
      Array.from({ length: 50 }, () => {
        const token = signer.sign(request);
        return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
      }),
    );
    expect(jtis.size).toBe(50);
    for (const jti of jtis) expect(Buffer.from(jti, 'base64url')).toHaveLength(16);
  });

  it('takes a tid as long as the contracts take a tenant id, and no longer', async () => {
    const { clock } = fixedClock(start);
    const verifier = createServiceTokenVerifier({ keys: [keyA], audience: 'credentials', clock, redis });
    const tid = 't'.repeat(MAX_TENANT_ID_LENGTH);
    const longest = await verifier.verify(
      handMade(keyA, { iss: 'gateway', scope: 'credentials:manage', tid }),
    );
    expect(longest).toMatchObject({ ok: true, claims: { tenantId: tid } });
    // What a token may name, a credential event carries.
    const event = {
      type: 'credential.created' as const,
      credentialId: randomUUID(),
      status: 'untested' as const,
    };
    expect(encodeCredentialEvent({ ...event, tenantId: tid, usable: false, at: start })).toContain(tid);
    const tooLong = handMade(keyA, { iss: 'gateway', scope: 'credentials:manage', tid: `${tid}t` });
    expect(await verifier.verify(tooLong)).toMatchObject({ ok: false, problem: 'malformed' });
  });

  it('needs Redis unless replays are explicitly allowed', () => {
    expect(() =>
      createServiceTokenVerifier({ keys: [keyA], audience: 'credentials' } as unknown as Parameters<
        typeof createServiceTokenVerifier
      >[0]),
    ).toThrow(/redis/i);
  });

  it('the plugin answers a replay 401 problem+json of its own type', async () => {
    const logger = createLogger({ name: 'test', level: 'silent' });
    const verifier = createServiceTokenVerifier({ keys: [keyA], audience: 'credentials', redis });
    const app = createHttpApp({ logger });
    void app.register(async (scope) => {
      await scope.register(serviceTokenAuth, { verifier });
      scope.get('/things', { config: { acceptedScopes: ['things:read'] } }, async () => ({ ok: true }));
    });
    const authorization = `Bearer ${createServiceTokenSigner({ key: keyA }).sign({ ...request, scopes: ['things:read'] })}`;
    const first = await app.inject({ method: 'GET', url: '/things', headers: { authorization } });
    expect(first.statusCode).toBe(200);
    const replay = await app.inject({ method: 'GET', url: '/things', headers: { authorization } });
    expect(replay.statusCode).toBe(401);
    expect(replay.headers['content-type']).toContain('application/problem+json');
    expect(replay.headers['www-authenticate']).toMatch(/invalid_token/);
    expect(replay.json()).toMatchObject({
      type: expect.stringMatching(/\/service-token-replayed$/),
      status: 401,
    });
    await app.close();
  });
});

/** A correctly signed token with any payload, issued at `at`: what a holder of `key` can make by hand. */
function handMade(key: ServiceTokenKey, claims: Record<string, unknown>, at = start) {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: key.id })).toString('base64url');
  const now = Math.floor(at.getTime() / 1000);
  const payload = Buffer.from(
    JSON.stringify({ aud: 'credentials', tid: 't', sub: 's', iat: now, exp: now + 60, jti: 'j', ...claims }),
  ).toString('base64url');
  const sig = createHmac('sha256', key.secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}
