import { createHmac, randomBytes } from 'node:crypto';
import { testClock } from '@sts/testkit';
import { describe, expect, it } from 'vitest';
import { createHttpApp } from '../http-app.ts';
import { createLogger } from '../logger.ts';
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
  it('round-trips the claims', () => {
    const { clock } = fixedClock(start);
    const token = createServiceTokenSigner({ key: keyA, clock }).sign(request);
    const result = createServiceTokenVerifier({ keys: [keyA], audience: 'credentials', clock }).verify(token);
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

  it('verifies with any configured key, so keys rotate', () => {
    const { clock } = fixedClock(start);
    const verifier = createServiceTokenVerifier({ keys: [keyA, keyB], audience: 'credentials', clock });
    for (const key of [keyA, keyB]) {
      const token = createServiceTokenSigner({ key, clock }).sign(request);
      expect(verifier.verify(token).ok).toBe(true);
    }
    const onlyB = createServiceTokenVerifier({ keys: [keyB], audience: 'credentials', clock });
    const signedWithA = createServiceTokenSigner({ key: keyA, clock }).sign(request);
    expect(onlyB.verify(signedWithA)).toMatchObject({ ok: false, problem: 'unknown-key' });
  });

  it('refuses expired, future, over-long, misdirected and untrusted tokens', () => {
    const { clock, advance } = fixedClock(start);
    const signer = createServiceTokenSigner({ key: keyA, clock });
    const verifier = createServiceTokenVerifier({
      keys: [keyA],
      audience: 'credentials',
      trustedIssuers: ['gateway', 'submitter'],
      clock,
      clockSkewSeconds: 5,
    });
    const token = signer.sign({ ...request, lifetimeSeconds: 30 });
    advance(36);
    expect(verifier.verify(token)).toMatchObject({ ok: false, problem: 'expired' });

    const { clock: early } = fixedClock(new Date(start.getTime() - 60_000));
    const fromThePast = createServiceTokenVerifier({ keys: [keyA], audience: 'credentials', clock: early });
    expect(fromThePast.verify(signer.sign(request))).toMatchObject({ ok: false, problem: 'not-yet-valid' });

    expect(verifier.verify(signer.sign({ ...request, audience: 'submitter' }))).toMatchObject({
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
    });
    expect(relayVerifier.verify(intruder.sign(request))).toMatchObject({
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
    expect(verifier.verify(`${header}.${payload}.${sig}`)).toMatchObject({
      ok: false,
      problem: 'lifetime-too-long',
    });
  });

  /** A correctly signed token with any payload: what a holder of `key` can make by hand. */
  function handMade(key: ServiceTokenKey, claims: Record<string, unknown>) {
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', kid: key.id })).toString('base64url');
    const now = Math.floor(start.getTime() / 1000);
    const payload = Buffer.from(
      JSON.stringify({
        aud: 'credentials',
        tid: 't',
        sub: 's',
        iat: now,
        exp: now + 60,
        jti: 'j',
        ...claims,
      }),
    ).toString('base64url');
    const sig = createHmac('sha256', key.secret).update(`${header}.${payload}`).digest('base64url');
    return `${header}.${payload}.${sig}`;
  }

  it("binds each key to one issuer and its scopes: the gateway's key cannot mint a lease token", () => {
    const { clock } = fixedClock(start);
    const verifier = createServiceTokenVerifier({
      keys: [keyA, submitterKey],
      audience: 'credentials',
      trustedIssuers: ['gateway', 'submitter'],
      clock,
    });
    // The genuine tokens of each service pass.
    expect(verifier.verify(handMade(keyA, { iss: 'gateway', scope: 'credentials:manage' })).ok).toBe(true);
    expect(
      verifier.verify(
        handMade(submitterKey, { iss: 'submitter', scope: 'credentials:lease credentials:report' }),
      ).ok,
    ).toBe(true);
    // The gateway's key, posing as the submitter, or granting itself the submitter's scope.
    expect(verifier.verify(handMade(keyA, { iss: 'submitter', scope: 'credentials:lease' }))).toMatchObject({
      ok: false,
      problem: 'issuer-mismatch',
    });
    expect(verifier.verify(handMade(keyA, { iss: 'gateway', scope: 'credentials:lease' }))).toMatchObject({
      ok: false,
      problem: 'scope-not-allowed',
    });
    expect(
      verifier.verify(handMade(keyA, { iss: 'gateway', scope: 'credentials:manage credentials:lease' })),
    ).toMatchObject({ ok: false, problem: 'scope-not-allowed' });
    // And the submitter's key cannot manage.
    expect(
      verifier.verify(handMade(submitterKey, { iss: 'submitter', scope: 'credentials:manage' })),
    ).toMatchObject({ ok: false, problem: 'scope-not-allowed' });
    // A signer refuses to write what its key may not grant, and always names its key's issuer.
    const gatewaySigner = createServiceTokenSigner({ key: keyA, clock });
    expect(() => gatewaySigner.sign({ ...request, scopes: ['credentials:lease'] })).toThrow(
      /k1 may not grant credentials:lease/,
    );
    const claims = verifier.verify(gatewaySigner.sign(request));
    expect(claims).toMatchObject({ ok: true, claims: { issuer: 'gateway', keyId: 'k1' } });
  });

  it('refuses tampering, alg none and garbage', () => {
    const { clock } = fixedClock(start);
    const token = createServiceTokenSigner({ key: keyA, clock }).sign(request);
    const verifier = createServiceTokenVerifier({ keys: [keyA], audience: 'credentials', clock });
    const [header, payload, sig] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const otherTenant = Buffer.from(JSON.stringify({ ...claims, tid: 'tenant-2' })).toString('base64url');
    expect(verifier.verify(`${header}.${otherTenant}.${sig}`)).toMatchObject({
      ok: false,
      problem: 'bad-signature',
    });
    const none = Buffer.from(JSON.stringify({ alg: 'none', kid: 'k1' })).toString('base64url');
    expect(verifier.verify(`${none}.${payload}.${sig}`)).toMatchObject({
      ok: false,
      problem: 'unsupported-algorithm',
    });
    expect(verifier.verify('not-a-token')).toMatchObject({ ok: false, problem: 'malformed' });
    expect(verifier.verify(`${header}.${payload}.`)).toMatchObject({ ok: false, problem: 'malformed' });
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
  const verifier = createServiceTokenVerifier({ keys: [keyA], audience: 'credentials', clock });

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
