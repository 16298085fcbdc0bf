import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLogger, createPool, createRedis, type Pool, type Redis } from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();
const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
const KEY = /sts_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node services/gateway/src/cli.ts …` as a child process, on the test database. */
function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH, DATABASE_URL: database.url, ...env }, timeout: 20_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('gateway CLI (child process)', () => {
  let pool: Pool;
  let redis: Redis;
  let app: FastifyInstance;

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'gateway-cli-test' });
    redis = createRedis(redisDatabase.url, 'gateway-cli-test');
    app = buildApp({ logger: createLogger({ name: 'gateway', level: 'silent' }), pool, redis });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await pool.end();
    redis.disconnect();
  });

  const whoami = (key: string) =>
    app.inject({ method: 'GET', url: '/v1/whoami', headers: { authorization: `Bearer ${key}` } });

  it('creates a tenant and prints its first key once, which works against the app', async () => {
    const run = await cli([
      'tenants',
      'create',
      '--name',
      'Clinica CLI',
      '--scopes',
      'invoices:write,invoices:read',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const key = KEY.exec(run.stdout)?.[0];
    expect(key).toBeDefined();
    expect(run.stdout).toMatch(/cannot be shown again/);
    expect(run.stdout.match(new RegExp(KEY.source, 'g'))).toHaveLength(1);
    const response = await whoami(key!);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      tenant: { name: 'Clinica CLI' },
      apiKey: { scopes: ['invoices:write', 'invoices:read'], label: 'first key' },
    });
    expect(run.stdout).toContain(response.json().tenant.id);
  });

  it('speaks JSON with --json: create, create a key, list without secrets, revoke', async () => {
    const created = await cli(['tenants', 'create', '--name', 'Clinica JSON', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const tenant = JSON.parse(created.stdout) as {
      tenant: { id: string; name: string };
      apiKey: { id: string; key: string; scopes: string[] };
      note: string;
    };
    expect(tenant.tenant.name).toBe('Clinica JSON');
    expect(tenant.apiKey.key).toMatch(KEY);
    expect(tenant.apiKey.scopes).toEqual([
      'invoices:write',
      'invoices:read',
      'credentials:manage',
      'webhooks:manage',
    ]);
    expect(tenant.note).toMatch(/cannot be shown again/);

    const second = await cli([
      'api-keys',
      'create',
      '--tenant',
      tenant.tenant.id,
      '--scopes',
      'webhooks:manage',
      '--label',
      'webhooks robot',
      '--json',
    ]);
    expect(second.code, second.stderr).toBe(0);
    const issued = JSON.parse(second.stdout) as { apiKey: { id: string; key: string } };
    expect((await whoami(issued.apiKey.key)).json().apiKey).toMatchObject({
      id: issued.apiKey.id,
      scopes: ['webhooks:manage'],
      label: 'webhooks robot',
    });

    for (const format of [['--json'], []]) {
      const listed = await cli(['api-keys', 'list', '--tenant', tenant.tenant.id, ...format]);
      expect(listed.code, listed.stderr).toBe(0);
      expect(listed.stdout).not.toMatch(KEY);
      for (const key of [tenant.apiKey.key, issued.apiKey.key])
        expect(listed.stdout).not.toContain(key.slice(22));
      expect(listed.stdout).toContain(issued.apiKey.id);
      expect(listed.stdout).toContain('webhooks robot');
    }
    const listed = JSON.parse(
      (await cli(['api-keys', 'list', '--tenant', tenant.tenant.id, '--json'])).stdout,
    ) as {
      apiKeys: { id: string; lastUsedAt: string | null; revokedAt: string | null }[];
    };
    expect(listed.apiKeys.map((key) => key.id)).toEqual([tenant.apiKey.id, issued.apiKey.id]);
    expect(listed.apiKeys[1]?.lastUsedAt).not.toBeNull();
    expect(Object.keys(listed.apiKeys[0] ?? {}).sort()).toEqual(
      ['createdAt', 'id', 'label', 'lastUsedAt', 'prefix', 'revokedAt', 'scopes', 'tenantId'].sort(),
    );

    const revoked = await cli(['api-keys', 'revoke', issued.apiKey.id, '--json']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({
      alreadyRevoked: false,
      apiKey: { id: issued.apiKey.id },
    });
    expect((await whoami(issued.apiKey.key)).statusCode).toBe(401);
    expect((await whoami(tenant.apiKey.key)).statusCode).toBe(200);
    const again = await cli(['api-keys', 'revoke', issued.apiKey.id]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already revoked/);
  });

  it('exits 2 with a clear message on bad usage, 1 on a failure', async () => {
    const cases: [string[], number, RegExp][] = [
      [['tenants', 'create'], 2, /required option '--name <name>' not specified/],
      [['frobnicate'], 2, /unknown command 'frobnicate'/],
      [
        ['tenants', 'create', '--name', 'Clinica', '--scopes', 'invoices:read,everything'],
        2,
        /"everything" is not a scope/,
      ],
      [['tenants', 'create', '--name', ' '], 2, /A tenant needs a name/],
      [['api-keys', 'create', '--tenant', 'not-a-uuid', '--scopes', 'invoices:read'], 2, /not an id/],
      [
        [
          'api-keys',
          'create',
          '--tenant',
          '00000000-0000-4000-8000-000000000000',
          '--scopes',
          'invoices:delete',
        ],
        2,
        /"invoices:delete" is not a scope: use invoices:write, invoices:read, credentials:manage, webhooks:manage/,
      ],
      [
        ['api-keys', 'list', '--tenant', '00000000-0000-4000-8000-000000000000'],
        1,
        /Tenant .* was not found/,
      ],
      [['api-keys', 'revoke', '00000000-0000-4000-8000-000000000000'], 1, /API key .* was not found/],
    ];
    for (const [args, code, message] of cases) {
      const run = await cli(args);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(code);
      expect(run.stderr).toMatch(message);
      expect(run.stdout).toBe('');
    }
    const noDatabase = await cli(['api-keys', 'list', '--tenant', '00000000-0000-4000-8000-000000000000'], {
      DATABASE_URL: undefined,
    });
    expect(noDatabase.code).toBe(2);
    expect(noDatabase.stderr).toMatch(/DATABASE_URL: not set/);
    const json = await cli(['tenants', 'create', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toEqual({
      error: { type: 'usage', message: "required option '--name <name>' not specified" },
    });
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes: 0 done, 1 failed, 2 bad usage/);
  });
});
