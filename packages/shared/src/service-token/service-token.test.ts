import { createHmac, randomBytes } from 'node:crypto';
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

const keyA: ServiceTokenKey = { id: 'k1', secret: randomBytes(32) };
const keyB: ServiceTokenKey = { id: 'k2', secret: randomBytes(32) };
const start = new Date('2026-03-01T10:00:00Z');

function fixedClock(initial: Date) {
  let now = initial.getTime();
  return { clock: () => new Date(now), advance: (seconds: number) => (now += seconds * 1000) };
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
    const token = createServiceTokenSigner({ key: keyA, issuer: 'gateway', clock }).sign(request);
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
      const token = createServiceTokenSigner({ key, issuer: 'gateway', clock }).sign(request);
      expect(verifier.verify(token).ok).toBe(true);
    }
    const onlyB = createServiceTokenVerifier({ keys: [keyB], audience: 'credentials', clock });
    const signedWithA = createServiceTokenSigner({ key: keyA, issuer: 'gateway', clock }).sign(request);
    expect(onlyB.verify(signedWithA)).toMatchObject({ ok: false, problem: 'unknown-key' });
  });

  it('refuses expired, future, over-long, misdirected and untrusted tokens', () => {
    const { clock, advance } = fixedClock(start);
    const signer = createServiceTokenSigner({ key: keyA, issuer: 'gateway', clock });
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
    const intruder = createServiceTokenSigner({ key: keyA, issuer: 'webhook-relay', clock });
    expect(verifier.verify(intruder.sign(request))).toMatchObject({ ok: false, problem: 'untrusted-issuer' });
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

  it('refuses tampering, alg none and garbage', () => {
    const { clock } = fixedClock(start);
    const token = createServiceTokenSigner({ key: keyA, issuer: 'gateway', clock }).sign(request);
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

  it('parses configured keys and names what is wrong', () => {
    const secret = randomBytes(32).toString('base64');
    expect(parseServiceTokenKeys(`a:${secret},\n b:${secret}`).map((key) => key.id)).toEqual(['a', 'b']);
    expect(() => parseServiceTokenKeys(`a:${randomBytes(16).toString('base64')}`)).toThrow(
      /at least 32 bytes/,
    );
    expect(() => parseServiceTokenKeys(`a:${secret},a:${secret}`)).toThrow(/twice/);
    expect(() => parseServiceTokenKeys(secret)).toThrow(/<key id>:<base64 secret>/);
    expect(() => parseServiceTokenKeys(' ')).toThrow(/no service token key/);
  });
});

describe('serviceTokenAuth plugin', () => {
  const logger = createLogger({ name: 'test', level: 'silent' });
  const { clock } = fixedClock(new Date());
  const signer = createServiceTokenSigner({ key: keyA, issuer: 'gateway' });
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
