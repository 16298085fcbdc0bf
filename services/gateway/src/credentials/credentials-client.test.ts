import { randomBytes } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { ConfigError, type ServiceTokenKey } from '@sts/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialsUnavailableError, createCredentialsClient } from './credentials-client.ts';
import { gatewaySigningKey } from './credentials-config.ts';

// The client against the real credentials service is tested in tests/gateway-credentials (a service
// never imports another); here: what needs no credentials service.

const secret = () => randomBytes(32).toString('base64');
const signingKey: ServiceTokenKey = {
  id: 'gw-1',
  issuer: 'gateway',
  scopes: ['credentials:manage'],
  secret: randomBytes(32),
};
const caller = { tenantId: 'tenant-1', apiKeyId: 'key-1' };

describe('credentials client', () => {
  // A server that takes connections and never answers.
  let silent: Server;
  let silentUrl = '';
  const sockets: Socket[] = [];
  beforeAll(async () => {
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('gives up after its timeout, the longer one for a test, with nothing of the request', async () => {
    const client = createCredentialsClient({
      baseUrl: silentUrl,
      signingKey,
      timeoutMs: 150,
      testTimeoutMs: 400,
    });
    const started = Date.now();
    const error = await client.get(caller, '00000000-0000-4000-8000-000000000000').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsUnavailableError);
    expect(error).toMatchObject({ reason: 'timeout', retryAfterSeconds: 5 });
    expect(Date.now() - started).toBeLessThan(2_000);

    const testStarted = Date.now();
    const testError = await client
      .create(caller, {
        query: 'test=true',
        body: { contentType: 'application/json', body: '{"password":"Segreta.1"}' },
      })
      .catch((e: unknown) => e);
    expect(testError).toMatchObject({ reason: 'timeout' });
    expect(Date.now() - testStarted).toBeGreaterThanOrEqual(350);
    expect(String(testError)).not.toContain('Segreta');
  });

  it('says unreachable when nothing listens, naming only the network code', async () => {
    // A port the OS gave and took back (not 9: fetch refuses the spec's "bad ports" outright).
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const client = createCredentialsClient({ baseUrl: `http://127.0.0.1:${port}`, signingKey });
    const error = await client.list(caller).catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'unreachable', code: 'ECONNREFUSED' });
    await expect(client.listAll('tenant-1')).rejects.toBeInstanceOf(CredentialsUnavailableError);
  });
});

describe('the signing key from the configuration', () => {
  const base = {
    CREDENTIALS_URL: 'http://localhost:8081',
    CREDENTIALS_TIMEOUT_MS: 1,
    CREDENTIALS_TEST_TIMEOUT_MS: 1,
  };
  const problems = (config: Record<string, string>) => {
    try {
      gatewaySigningKey({ ...base, ...config });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).issues;
    }
    return [];
  };

  it('takes the only key, or the one SERVICE_TOKEN_SIGNING_KEY_ID names', () => {
    const only = gatewaySigningKey({
      ...base,
      SERVICE_TOKEN_KEYS: `gw-1:gateway:credentials:manage:${secret()}`,
    });
    expect(only).toMatchObject({ id: 'gw-1', issuer: 'gateway', scopes: ['credentials:manage'] });
    const two = `gw-1:gateway:credentials:manage:${secret()},gw-2:gateway:credentials:manage+submissions:read:${secret()}`;
    expect(
      gatewaySigningKey({ ...base, SERVICE_TOKEN_KEYS: two, SERVICE_TOKEN_SIGNING_KEY_ID: 'gw-2' }),
    ).toMatchObject({
      id: 'gw-2',
      scopes: ['credentials:manage', 'submissions:read'],
    });
    expect(problems({ SERVICE_TOKEN_KEYS: two })).toEqual([
      { variable: 'SERVICE_TOKEN_SIGNING_KEY_ID', problem: expect.stringContaining('gw-1, gw-2') },
    ]);
    expect(problems({ SERVICE_TOKEN_KEYS: two, SERVICE_TOKEN_SIGNING_KEY_ID: 'gw-3' })).toEqual([
      {
        variable: 'SERVICE_TOKEN_SIGNING_KEY_ID',
        problem: expect.stringContaining('names no configured key'),
      },
    ]);
  });

  it('refuses a missing key, a key of another issuer or without credentials:manage, never repeating a secret', () => {
    expect(problems({})).toEqual([
      { variable: 'SERVICE_TOKEN_KEYS or SERVICE_TOKEN_KEYS_FILE', problem: expect.any(String) },
    ]);
    const submitterSecret = secret();
    const issues = problems({ SERVICE_TOKEN_KEYS: `sub-1:submitter:credentials:lease:${submitterSecret}` });
    expect(issues.map((issue) => issue.problem)).toEqual([
      expect.stringContaining('issuer "submitter"'),
      expect.stringContaining('does not grant credentials:manage'),
    ]);
    const short = randomBytes(8).toString('base64');
    const bad = problems({ SERVICE_TOKEN_KEYS: `gw-1:gateway:credentials:manage:${short}` });
    expect(bad[0]?.problem).toMatch(/at least 32 bytes/);
    expect(JSON.stringify([issues, bad])).not.toContain(submitterSecret);
    expect(JSON.stringify(bad)).not.toContain(short);
  });
});
