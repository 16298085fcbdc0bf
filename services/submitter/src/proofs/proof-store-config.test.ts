import { createServer, type Socket } from 'node:net';
import { ConfigError, createPool, loadConfig, type Pool } from '@sts/shared';
import { useTestDatabase } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestS3Server, type TestS3Server } from '../../test-support/s3-server.ts';
import { submitterConfigSchema } from '../config.ts';
import { proofStoreFromConfig } from './proof-store-config.ts';

const database = useTestDatabase();

// The variables every configuration needs, beside the proof store's.
const BASE = { DATABASE_URL: 'postgres://localhost/sts', REDIS_URL: 'redis://localhost' };
const configOf = (env: Record<string, string>) => loadConfig(submitterConfigSchema, { ...BASE, ...env });
const problemsOf = (env: Record<string, string>) => {
  try {
    configOf(env);
  } catch (error) {
    if (error instanceof ConfigError)
      return Object.fromEntries(error.issues.map((i) => [i.variable, i.problem]));
    throw error;
  }
  return {};
};

describe('the proof store configuration', () => {
  let pool: Pool;
  let s3: TestS3Server;
  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 'proof-store-config-test' });
    s3 = await startTestS3Server();
  });
  afterAll(async () => {
    await pool.end();
    await s3.close();
  });

  it('defaults to Postgres, with nothing else to set', () => {
    expect(configOf({})).toMatchObject({
      SUBMITTER_PROOF_STORE: 'postgres',
      SUBMITTER_S3_PREFIX: 'proofs/',
      SUBMITTER_S3_FORCE_PATH_STYLE: false,
      SUBMITTER_S3_TIMEOUT_MS: 5000,
      SUBMITTER_S3_CONNECT_TIMEOUT_MS: 2000,
      SUBMITTER_S3_MAX_ATTEMPTS: 2,
    });
    expect(problemsOf({ SUBMITTER_S3_TIMEOUT_MS: '0', SUBMITTER_S3_MAX_ATTEMPTS: '0' })).toEqual({
      SUBMITTER_S3_TIMEOUT_MS: expect.any(String),
      SUBMITTER_S3_MAX_ATTEMPTS: expect.any(String),
    });
  });

  it('names every missing or bad variable of the S3 store, beside the others’ problems', () => {
    expect(problemsOf({ SUBMITTER_PROOF_STORE: 's3' })).toEqual({
      SUBMITTER_S3_BUCKET: 'is required when SUBMITTER_PROOF_STORE is s3',
      SUBMITTER_S3_REGION: 'is required when SUBMITTER_PROOF_STORE is s3',
    });
    // Named in the same boot as another variable's problem (one that does not stop parsing, as a
    // malformed URL does).
    expect(
      problemsOf({
        SUBMITTER_PROOF_STORE: 's3',
        SUBMITTER_S3_REGION: 'eu-south-1',
        SUBMITTER_CONCURRENCY: '0',
      }),
    ).toEqual({
      SUBMITTER_CONCURRENCY: expect.any(String),
      SUBMITTER_S3_BUCKET: 'is required when SUBMITTER_PROOF_STORE is s3',
    });
    expect(
      problemsOf({
        SUBMITTER_PROOF_STORE: 's3',
        SUBMITTER_S3_BUCKET: 'Not_A_Bucket',
        SUBMITTER_S3_REGION: 'eu-south-1',
        SUBMITTER_S3_ENDPOINT: 'minio:9000',
        SUBMITTER_S3_FORCE_PATH_STYLE: 'yes',
        SUBMITTER_S3_PREFIX: '/proofs',
        SUBMITTER_S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      }),
    ).toEqual({
      SUBMITTER_S3_BUCKET: expect.stringMatching(/must be a bucket name/),
      SUBMITTER_S3_ENDPOINT: 'must start with http:// or https://',
      SUBMITTER_S3_FORCE_PATH_STYLE: 'must be "true" or "false"',
      SUBMITTER_S3_PREFIX: expect.stringMatching(/not start with "\/"/),
    });
    // Once the fields parse, the checks across them: explicit credentials come as a pair.
    expect(
      problemsOf({
        SUBMITTER_PROOF_STORE: 's3',
        SUBMITTER_S3_BUCKET: 'proofs',
        SUBMITTER_S3_REGION: 'eu-south-1',
        SUBMITTER_S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      }),
    ).toEqual({ SUBMITTER_S3_SECRET_ACCESS_KEY: expect.stringMatching(/is required with the other/) });
    expect(problemsOf({ SUBMITTER_PROOF_STORE: 'minio' })).toEqual({
      SUBMITTER_PROOF_STORE: 'must be "postgres" or "s3"',
    });
  });

  it('ends the prefix with "/"', () => {
    expect(configOf({ SUBMITTER_S3_PREFIX: 'clinic-a/proofs' }).SUBMITTER_S3_PREFIX).toBe('clinic-a/proofs/');
    expect(configOf({ SUBMITTER_S3_PREFIX: '' }).SUBMITTER_S3_PREFIX).toBe('');
  });

  it('builds a working S3 store from the variables alone', async () => {
    const config = configOf({
      SUBMITTER_PROOF_STORE: 's3',
      SUBMITTER_S3_BUCKET: s3.bucket,
      SUBMITTER_S3_REGION: 'eu-south-1',
      SUBMITTER_S3_ENDPOINT: s3.endpoint,
      SUBMITTER_S3_FORCE_PATH_STYLE: 'true',
      SUBMITTER_S3_PREFIX: 'from-config',
      SUBMITTER_S3_ACCESS_KEY_ID: 'S3RVER',
      SUBMITTER_S3_SECRET_ACCESS_KEY: 'S3RVER',
    });
    const { proofs, close } = proofStoreFromConfig(config, { pool });
    try {
      const bytes = Buffer.from('%PDF-1.4 configured');
      const { id } = await proofs.put('tenant-config', {
        kind: 'receipt-pdf',
        protocol: '26030244444444444',
        contentType: 'application/pdf',
        bytes,
      });
      const { rows } = await pool.query('select object_key from submitter.proofs where id = $1', [id]);
      expect(rows[0].object_key).toMatch(/^from-config\/tenant-config\/receipt-pdf\/[0-9a-f]{64}$/);
      expect((await proofs.get('tenant-config', id))!.bytes.equals(bytes)).toBe(true);
    } finally {
      close();
    }
  });

  it('fails a put against a bucket that accepts the connection and never answers, after bounded tries', async () => {
    // A plain TCP server: it takes every connection and never says a word, as a stalled bucket does.
    const sockets = new Set<Socket>();
    let connections = 0;
    const silent = createServer((socket) => {
      connections += 1;
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const config = configOf({
      SUBMITTER_PROOF_STORE: 's3',
      SUBMITTER_S3_BUCKET: 'stalled',
      SUBMITTER_S3_REGION: 'eu-south-1',
      SUBMITTER_S3_ENDPOINT: `http://127.0.0.1:${port}`,
      SUBMITTER_S3_FORCE_PATH_STYLE: 'true',
      SUBMITTER_S3_ACCESS_KEY_ID: 'S3RVER',
      SUBMITTER_S3_SECRET_ACCESS_KEY: 'S3RVER',
      SUBMITTER_S3_TIMEOUT_MS: '300',
      SUBMITTER_S3_MAX_ATTEMPTS: '2',
    });
    const { proofs, close } = proofStoreFromConfig(config, { pool });
    try {
      const failed = await proofs
        .put('tenant-stalled', {
          kind: 'receipt-pdf',
          protocol: '26030255555555555',
          contentType: 'application/pdf',
          bytes: Buffer.from('%PDF-1.4 stalled'),
        })
        .catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(Error);
      expect((failed as Error).name).toBe('TimeoutError');
      expect((failed as Error).message).toMatch(/300 ms/);
      // The look (HEAD) tried twice, each on its own connection, and no write was attempted.
      expect(connections).toBe(2);
      const { rowCount } = await pool.query('select 1 from submitter.proofs where tenant_id = $1', [
        'tenant-stalled',
      ]);
      expect(rowCount).toBe(0);
    } finally {
      close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
