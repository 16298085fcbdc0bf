import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ConfigError, type ServiceTokenKey } from '@sts/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialsClient } from './credentials-client.ts';
import {
  DEVELOPMENT_SIGNING_KEY_ID,
  developmentSigningKey,
  submitterSigningKey,
} from './credentials-config.ts';

/**
 * The client against a stand-in credentials service over real HTTP, for the answers the real one
 * gives only when it is failing (5xx, Retry-After, a broken contract, silence). The real service is
 * exercised in tests/submitter-credentials.
 */

const key: ServiceTokenKey = {
  id: 'submitter-test',
  issuer: 'submitter',
  scopes: ['credentials:lease', 'credentials:report'],
  secret: randomBytes(32),
};
const ID = '6f1c2b8e-5a5e-4a47-9f59-1f9d4c1d2e3f';
const LEASE_ID = '0b7f3c1e-2d4a-4c5b-8e6f-7a8b9c0d1e2f';

type Handler = (request: IncomingMessage, body: string, response: ServerResponse) => void;

describe('credentials client (stand-in service)', () => {
  let server: Server;
  let base = '';
  let handler: Handler = (_request, _body, response) => response.end();
  const calls: { url: string; authorization: string; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        calls.push({ url: request.url ?? '', authorization: request.headers.authorization ?? '', body });
        handler(request, body, response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const problem = (
    response: ServerResponse,
    status: number,
    type: string,
    headers: Record<string, string> = {},
  ) => {
    response.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
    response.end(
      JSON.stringify({
        type: `https://sts-gateway.dev/problems/${type}`,
        title: type,
        status,
        detail: `${type} detail`,
      }),
    );
  };

  it('retries a failure report after 5xx, with a fresh token each time, sending only the contract fields', async () => {
    calls.length = 0;
    let answers = 0;
    handler = (_request, _body, response) => {
      if (++answers < 3) return problem(response, 503, 'unavailable');
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          applied: true,
          outcome: 'wrong-pincode',
          status: 'invalid',
          usable: false,
          remedy: {},
        }),
      );
    };
    const client = createCredentialsClient({ baseUrl: base, signingKey: key, reportBackoffMs: 1 });
    const result = await client.reportFailure(ID, {
      tenantId: 'clinic',
      leaseId: LEASE_ID,
      failure: {
        kind: 'credential',
        code: '104',
        description: 'Pincode errato',
        explanation: { it: 'x', en: 'y' },
      } as never,
    });
    expect(result).toEqual({ ok: true, applied: true, status: 'invalid', usable: false });
    expect(calls).toHaveLength(3);
    expect(calls[0]!.url).toBe(`/internal/v1/credentials/${ID}/authentication-failures`);
    expect(new Set(calls.map((call) => call.authorization)).size).toBe(3);
    expect(JSON.parse(calls[0]!.body)).toEqual({
      leaseId: LEASE_ID,
      failure: { kind: 'credential', code: '104', description: 'Pincode errato' },
    });
    const payload = JSON.parse(Buffer.from(calls[0]!.authorization.split('.')[1]!, 'base64url').toString());
    expect(payload).toMatchObject({
      iss: 'submitter',
      aud: 'credentials',
      tid: 'clinic',
      sub: 'submitter',
      scope: 'credentials:report',
    });
  });

  it("maps the lease refusals and a 5xx's Retry-After", async () => {
    const client = createCredentialsClient({ baseUrl: base, signingKey: key });
    const lease = () => client.lease(ID, { tenantId: 'clinic', purpose: 'test' });
    handler = (_request, _body, response) => problem(response, 409, 'password-known-to-fail');
    expect(await lease()).toMatchObject({ ok: false, reason: 'password-known-to-fail' });
    handler = (_request, _body, response) => problem(response, 409, 'login-budget-spent');
    expect(await lease()).toMatchObject({ ok: false, reason: 'budget-spent' });
    handler = (_request, _body, response) =>
      problem(response, 503, 'master-key-unavailable', { 'retry-after': '7' });
    expect(await lease()).toMatchObject({ ok: false, reason: 'unavailable', retryAfterMs: 7_000 });
    handler = (_request, _body, response) => problem(response, 401, 'service-token-replayed');
    expect(await lease()).toMatchObject({ ok: false, reason: 'unavailable' });
    handler = (_request, _body, response) => problem(response, 400, 'invalid-request');
    await expect(lease()).rejects.toThrow(/400 invalid-request/);
  });

  it('never puts a leased secret in a detail, even when the lease breaks the contract', async () => {
    handler = (_request, _body, response) => {
      response.writeHead(201, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ leaseId: 'not-a-uuid', login: { user: 'U', password: 'Segreta.Pw.9' } }));
    };
    const client = createCredentialsClient({ baseUrl: base, signingKey: key });
    const result = await client.lease(ID, { tenantId: 'clinic', purpose: 'test' });
    expect(result).toMatchObject({ ok: false, reason: 'unavailable' });
    expect(JSON.stringify(result)).not.toContain('Segreta');
  });

  it('gives up on a silent service after its timeout', async () => {
    handler = () => undefined;
    const client = createCredentialsClient({ baseUrl: base, signingKey: key, timeoutMs: 100 });
    const result = await client.lease(ID, { tenantId: 'clinic', purpose: 'test' });
    expect(result).toMatchObject({ ok: false, reason: 'unavailable' });
    if (!result.ok) expect(result.detail).toContain('did not answer within 100 ms');
  });
});

describe('submitter signing key', () => {
  const base = {
    NODE_ENV: 'development' as const,
    SUBMITTER_ALLOW_DEVELOPMENT_KEYS: false,
    CREDENTIALS_URL: 'http://127.0.0.1:8081',
    CREDENTIALS_TIMEOUT_MS: 10_000,
  };
  const line = (id: string, issuer: string, scopes: string) =>
    `${id}:${issuer}:${scopes}:${randomBytes(32).toString('base64')}`;

  it('takes the configured submitter key and refuses a key of another issuer or without the scopes', () => {
    const SERVICE_TOKEN_KEYS = line('s1', 'submitter', 'credentials:lease+credentials:report');
    expect(submitterSigningKey({ ...base, SERVICE_TOKEN_KEYS }).key.id).toBe('s1');
    expect(() =>
      submitterSigningKey({ ...base, SERVICE_TOKEN_KEYS: line('g1', 'gateway', 'credentials:manage') }),
    ).toThrow(/issuer "gateway"/);
    expect(() =>
      submitterSigningKey({ ...base, SERVICE_TOKEN_KEYS: line('s2', 'submitter', 'credentials:lease') }),
    ).toThrow(/credentials:report/);
    expect(() => submitterSigningKey(base)).toThrow(ConfigError);
  });

  it('falls back to the development key the credentials service derives, only when allowed and never in production', () => {
    const dev = submitterSigningKey({ ...base, SUBMITTER_ALLOW_DEVELOPMENT_KEYS: true });
    expect(dev.key.id).toBe(DEVELOPMENT_SIGNING_KEY_ID);
    expect(dev.warnings).toHaveLength(1);
    // As services/credentials/src/development-fallbacks.ts writes it: sha256 of the fixed phrase, base64.
    expect(developmentSigningKey().secret.toString('base64')).toBe(
      'oRaizsbwBbS5KNFkF/EnRUE7ECsaUvKkxCAU9Tj/H5M=',
    );
    expect(() =>
      submitterSigningKey({ ...base, NODE_ENV: 'production', SUBMITTER_ALLOW_DEVELOPMENT_KEYS: true }),
    ).toThrow(/must not be true in production/);
  });
});
