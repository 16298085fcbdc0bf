import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { createPool, type Pool } from '@sts/shared';
import { testClock, useTestDatabase } from '@sts/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestS3Server, type TestS3Server } from '../../test-support/s3-server.ts';
import {
  createPostgresProofStore,
  type NewProof,
  ProofIntegrityError,
  type ProofStore,
} from './proof-store.ts';
import { createS3ProofStore, ProofObjectConflictError, proofObjectKey } from './s3-proof-store.ts';

const database = useTestDatabase();
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const PREFIX = 'sts/proofs/';

/** The S3 store against a real S3-compatible server (s3rver) through the real AWS SDK client. */
describe('S3 proof store', () => {
  let pool: Pool;
  let s3: TestS3Server;
  let store: ProofStore;
  /** The S3 operations the store sent, by command name, since the last reset. */
  let sent: string[] = [];
  const clock = testClock('2027-03-02T09:00:00Z');

  beforeAll(async () => {
    pool = createPool({ url: database.url, applicationName: 's3-proof-store-test' });
    s3 = await startTestS3Server();
    s3.client.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    store = createS3ProofStore({ pool, clock, client: s3.client, bucket: s3.bucket, prefix: PREFIX });
  });
  afterEach(() => {
    sent = [];
  });
  afterAll(async () => {
    await pool.end();
    await s3.close();
  });

  const receipt = (text: string): NewProof => ({
    kind: 'receipt-pdf',
    protocol: '26030211354512345',
    contentType: 'application/pdf',
    bytes: Buffer.from(`%PDF-1.4 ${text}`),
  });
  const rowOf = async (id: string) =>
    (
      await pool.query<{ bytes: Buffer | null; object_key: string | null }>(
        'select bytes, object_key from submitter.proofs where id = $1',
        [id],
      )
    ).rows[0]!;
  const objectBytes = async (key: string) => {
    const answer = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return Buffer.from(await answer.Body!.transformToByteArray());
  };
  const overwrite = (key: string, bytes: Buffer) =>
    s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: bytes }));
  const rowsOf = async (tenantId: string) =>
    (await pool.query('select id from submitter.proofs where tenant_id = $1', [tenantId])).rowCount;

  it('keeps the bytes in the bucket under <prefix><tenant>/<kind>/<sha256>, the row holding the key', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(300_000)]);
    const { id, sha256: hash } = await store.put('tenant/with spaces', {
      kind: 'receipt-pdf',
      protocol: '26030211354512345',
      contentType: 'application/pdf',
      bytes: pdf,
    });
    const key = `${PREFIX}tenant%2Fwith%20spaces/receipt-pdf/${sha256(pdf)}`;
    expect(proofObjectKey(PREFIX, 'tenant/with spaces', 'receipt-pdf', hash)).toBe(key);
    expect(await rowOf(id)).toEqual({ bytes: null, object_key: key });
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
    expect(head.ContentType).toBe('application/pdf');
    expect(head.ContentLength).toBe(pdf.length);
    expect(head.Metadata).toEqual({ sha256: hash });
    expect((await objectBytes(key)).equals(pdf)).toBe(true);
    expect((await store.get('tenant/with spaces', id))!.bytes.equals(pdf)).toBe(true);
  });

  it('keeps the same bytes once: a second put looks, finds them and writes nothing to the bucket', async () => {
    const proof = receipt('twice');
    const first = await store.put('tenant-twice', proof);
    expect(sent).toEqual(['HeadObjectCommand', 'PutObjectCommand']);
    sent = [];
    const second = await store.put('tenant-twice', proof);
    // The HEAD's size and recorded SHA-256 are enough: the object is not downloaded again.
    expect(sent).toEqual(['HeadObjectCommand']);
    // Two proofs (two rows, as with the Postgres store), one object.
    expect(second.id).not.toBe(first.id);
    expect((await rowOf(second.id)).object_key).toBe((await rowOf(first.id)).object_key);
    const listed = await s3.client.send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${PREFIX}tenant-twice/` }),
    );
    expect(listed.Contents?.map((object) => object.Key)).toEqual([
      `${PREFIX}tenant-twice/receipt-pdf/${sha256(proof.bytes)}`,
    ]);
  });

  it('refuses to keep a proof whose key already holds other bytes, and leaves that object as it is', async () => {
    for (const [label, planted] of [
      ['same size', Buffer.from('%PDF-1.4 forgd')],
      ['other size', Buffer.from('%PDF-1.4 something else entirely')],
    ] as const) {
      const proof = receipt('forged');
      const tenantId = `tenant-conflict-${label.replace(' ', '-')}`;
      const key = proofObjectKey(PREFIX, tenantId, 'receipt-pdf', sha256(proof.bytes));
      await overwrite(key, planted);
      const refused = await store.put(tenantId, proof).catch((error: unknown) => error);
      expect(refused, label).toBeInstanceOf(ProofObjectConflictError);
      expect((refused as ProofObjectConflictError).objectKey).toBe(key);
      expect((await objectBytes(key)).equals(planted), label).toBe(true);
      expect(await rowsOf(tenantId), label).toBe(0);
    }
  });

  it('downloads and hashes an object already there only when it carries no recorded SHA-256', async () => {
    const proof = receipt('no metadata');
    const key = proofObjectKey(PREFIX, 'tenant-bare', 'receipt-pdf', sha256(proof.bytes));
    await overwrite(key, proof.bytes);
    sent = [];
    const { id } = await store.put('tenant-bare', proof);
    expect(sent).toEqual(['HeadObjectCommand', 'GetObjectCommand']);
    expect((await rowOf(id)).object_key).toBe(key);
  });

  it('refuses, from the HEAD alone, an object whose recorded SHA-256 is another', async () => {
    const proof = receipt('other hash');
    const tenantId = 'tenant-other-hash';
    const key = proofObjectKey(PREFIX, tenantId, 'receipt-pdf', sha256(proof.bytes));
    const planted = Buffer.from('%PDF-1.4 other hasx');
    expect(planted.length).toBe(proof.bytes.length);
    await s3.client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: key,
        Body: planted,
        Metadata: { sha256: sha256(planted) },
      }),
    );
    sent = [];
    await expect(store.put(tenantId, proof)).rejects.toBeInstanceOf(ProofObjectConflictError);
    expect(sent).toEqual(['HeadObjectCommand']);
    expect((await objectBytes(key)).equals(planted)).toBe(true);
    expect(await rowsOf(tenantId)).toBe(0);
  });

  it('detects an object rewritten through the API after it was kept: never served', async () => {
    const { id } = await store.put('tenant-rewrite', receipt('original'));
    const key = (await rowOf(id)).object_key!;
    await overwrite(key, Buffer.from('%PDF-1.4 forged!!'));
    await expect(store.get('tenant-rewrite', id)).rejects.toBeInstanceOf(ProofIntegrityError);
    await expect(store.findByProtocol('tenant-rewrite', '26030211354512345', 'receipt-pdf')).rejects.toThrow(
      new RegExp(`proof ${id}: its bytes do not match`),
    );
  });

  it('detects storage rot: a byte changed in the object on the server’s disk', async () => {
    const { id } = await store.put('tenant-rot', receipt('rotting'));
    const key = (await rowOf(id)).object_key!;
    const file = join(s3.directory, s3.bucket, `${key}._S3rver_object`);
    const onDisk = await readFile(file);
    const last = onDisk.length - 1;
    onDisk[last] = onDisk[last]! ^ 0x01;
    await writeFile(file, onDisk);
    await expect(store.get('tenant-rot', id)).rejects.toBeInstanceOf(ProofIntegrityError);
  });

  it('treats a row whose object is gone as corruption, not as a proof never kept', async () => {
    const { id } = await store.put('tenant-gone', receipt('gone'));
    const key = (await rowOf(id)).object_key!;
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key }));
    await expect(store.get('tenant-gone', id)).rejects.toThrow(
      new RegExp(`proof ${id}: its object ${key} is missing from bucket ${s3.bucket}`),
    );
  });

  it('reads proofs kept in Postgres before the switch; the Postgres store names a bucket proof it cannot read', async () => {
    const postgres = createPostgresProofStore({ pool, clock });
    const before = await postgres.put('tenant-switch', receipt('before'));
    expect((await store.get('tenant-switch', before.id))!.bytes.toString()).toBe('%PDF-1.4 before');
    const after = await store.put('tenant-switch', receipt('after'));
    await expect(postgres.get('tenant-switch', after.id)).rejects.toThrow(/its bytes are in an S3 bucket/);
  });

  it('keeps the object first: a rolled-back transaction leaves it unreferenced, and the same bytes find it again', async () => {
    const proof: NewProof = {
      kind: 'sent-zip',
      fileId: randomUUID(),
      contentType: 'application/zip',
      bytes: Buffer.from('PK\u0003\u0004 rolled back'),
    };
    const client = await pool.connect();
    try {
      await client.query('begin');
      await store.put('tenant-tx', proof, { client });
      await client.query('rollback');
    } finally {
      client.release();
    }
    expect(await rowsOf('tenant-tx')).toBe(0);
    sent = [];
    const { id } = await store.put('tenant-tx', proof);
    expect(sent).toEqual(['HeadObjectCommand']);
    expect((await store.get('tenant-tx', id))!.bytes.equals(proof.bytes)).toBe(true);
  });

  it('fails loudly and records nothing when the bucket does not exist', async () => {
    const lost = createS3ProofStore({
      pool,
      clock,
      client: s3.client,
      bucket: 'no-such-bucket',
      prefix: PREFIX,
    });
    await expect(lost.put('tenant-lost', receipt('lost'))).rejects.toThrow(/bucket/i);
    expect(await rowsOf('tenant-lost')).toBe(0);
  });

  it('refuses a prefix that is not empty and does not end with "/"', () => {
    expect(() =>
      createS3ProofStore({ pool, client: s3.client, bucket: s3.bucket, prefix: 'proofs' }),
    ).toThrow(/prefix/);
    expect(() =>
      createS3ProofStore({ pool, client: s3.client, bucket: s3.bucket, prefix: '' }),
    ).not.toThrow();
  });
});
