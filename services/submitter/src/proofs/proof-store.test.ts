import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createPool, type Pool } from '@sts/shared';
import { testClock, useTestDatabase } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestS3Server, type TestS3Server } from '../../test-support/s3-server.ts';
import { createPostgresProofStore, ProofIntegrityError, type ProofStore } from './proof-store.ts';
import { createS3ProofStore } from './s3-proof-store.ts';

const database = useTestDatabase();

const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(200_000), Buffer.from('\n%%EOF\n')]);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const clock = testClock('2027-03-02T09:00:00Z');

let pool: Pool;
let s3: TestS3Server;
beforeAll(async () => {
  pool = createPool({ url: database.url, applicationName: 'proof-store-test' });
  s3 = await startTestS3Server();
});
afterAll(async () => {
  await pool.end();
  await s3.close();
});

/**
 * What every proof store does, whichever keeps the bytes: Postgres, or a real S3-compatible server
 * (s3rver) through the AWS SDK. Both share one database here, so each uses its own tenants.
 */
describe.each([
  { name: 'postgres', create: () => createPostgresProofStore({ pool, clock }) },
  {
    name: 's3',
    create: () =>
      createS3ProofStore({ pool, clock, client: s3.client, bucket: s3.bucket, prefix: 'shared/' }),
  },
])('$name proof store', ({ name, create }) => {
  let store: ProofStore;
  const tenantA = `${name}-tenant-a`;
  const tenantB = `${name}-tenant-b`;
  beforeAll(() => {
    store = create();
  });

  it('keeps the bytes exactly and answers their SHA-256', async () => {
    const put = await store.put(tenantA, {
      kind: 'receipt-pdf',
      protocol: '26030211354512345',
      contentType: 'application/pdf',
      bytes: PDF,
    });
    expect(put.sha256).toBe(sha256(PDF));
    const got = await store.get(tenantA, put.id);
    expect(got).toMatchObject({
      id: put.id,
      tenantId: tenantA,
      kind: 'receipt-pdf',
      protocol: '26030211354512345',
      fileId: null,
      invoiceId: null,
      contentType: 'application/pdf',
      sha256: sha256(PDF),
      size: PDF.length,
      createdAt: clock(),
    });
    expect(got!.bytes.equals(PDF)).toBe(true);
    // Raw answers are kept as the text given, byte for byte (UTF-8 of the XML here).
    const xml = '<?xml version="1.0"?><esito>àè€</esito>';
    const answer = await store.put(tenantA, {
      kind: 'outcome-answer',
      protocol: '26030211354512345',
      contentType: 'application/xml; charset=utf-8',
      bytes: Buffer.from(xml),
    });
    expect((await store.get(tenantA, answer.id))!.bytes.toString('utf8')).toBe(xml);
    // Empty bytes are bytes too (an empty CSV).
    const empty = await store.put(tenantA, {
      kind: 'error-detail-csv',
      contentType: 'text/csv; charset=iso-8859-1',
      bytes: Buffer.alloc(0),
    });
    expect((await store.get(tenantA, empty.id))!.bytes.length).toBe(0);
  });

  it('keeps the same bytes twice as two proofs, each read back whole', async () => {
    const proof = {
      kind: 'outcome-answer' as const,
      protocol: '26030233333333333',
      contentType: 'application/xml',
      bytes: Buffer.from('<esito>in elaborazione</esito>'),
    };
    const first = await store.put(tenantA, proof);
    const second = await store.put(tenantA, proof);
    expect(second.id).not.toBe(first.id);
    expect(second.sha256).toBe(first.sha256);
    for (const { id } of [first, second]) {
      expect((await store.get(tenantA, id))!.bytes.equals(proof.bytes)).toBe(true);
    }
  });

  it('answers nothing for a proof it does not have', async () => {
    expect(await store.get(tenantA, randomUUID())).toBeUndefined();
    expect(await store.findByProtocol(tenantA, '26030200000000099', 'receipt-pdf')).toBeUndefined();
    expect(await store.list(tenantA, { protocol: '26030200000000099' })).toEqual([]);
  });

  it('keeps each tenant to its own proofs', async () => {
    const { id } = await store.put(tenantA, {
      kind: 'receipt-pdf',
      protocol: '26030211111111111',
      contentType: 'application/pdf',
      bytes: Buffer.from('%PDF-1.4 a'),
    });
    expect(await store.get(tenantB, id)).toBeUndefined();
    expect(await store.findByProtocol(tenantB, '26030211111111111', 'receipt-pdf')).toBeUndefined();
    expect(await store.list(tenantB, { protocol: '26030211111111111' })).toEqual([]);
    expect((await store.findByProtocol(tenantA, '26030211111111111', 'receipt-pdf'))!.id).toBe(id);
    // Nonsense ids and protocols are simply not found.
    expect(await store.get(tenantA, 'not-a-uuid')).toBeUndefined();
    expect(await store.findByProtocol(tenantA, 'bad\u0000protocol', 'receipt-pdf')).toBeUndefined();
  });

  it('finds the latest proof of a kind by protocol, and the zip through the file of its upload answer', async () => {
    const fileId = randomUUID();
    const protocol = '26030222222222222';
    const zip = Buffer.from('PK\u0003\u0004 zip');
    // The zip is kept before the STS gives the protocol: it knows only its file.
    const kept = await store.put(
      tenantA,
      { kind: 'sent-zip', fileId, contentType: 'application/zip', bytes: zip },
      {},
    );
    expect(await store.findByProtocol(tenantA, protocol, 'sent-zip')).toBeUndefined();
    await store.put(tenantA, {
      kind: 'upload-answer',
      protocol,
      fileId,
      contentType: 'application/xml',
      bytes: Buffer.from('<esitoChiamata>0</esitoChiamata>'),
    });
    const found = await store.findByProtocol(tenantA, protocol, 'sent-zip');
    expect(found!.id).toBe(kept.id);
    expect(found!.bytes.equals(zip)).toBe(true);
    expect(await store.findByProtocol(tenantB, protocol, 'sent-zip')).toBeUndefined();

    const first = await store.put(tenantA, {
      kind: 'receipt-pdf',
      protocol,
      contentType: 'application/pdf',
      bytes: Buffer.from('%PDF-1.4 first'),
    });
    clock.advance(60_000);
    const second = await store.put(tenantA, {
      kind: 'receipt-pdf',
      protocol,
      contentType: 'application/pdf',
      bytes: Buffer.from('%PDF-1.4 second'),
    });
    const latest = await store.findByProtocol(tenantA, protocol, 'receipt-pdf');
    expect(latest!.id).toBe(second.id);
    expect(latest!.bytes.toString()).toBe('%PDF-1.4 second');
    const listed = await store.list(tenantA, { protocol, kind: 'receipt-pdf' });
    expect(listed.map((proof) => proof.id)).toEqual([second.id, first.id]);
    expect(listed[0]).not.toHaveProperty('bytes');
    expect((await store.list(tenantA, { fileId })).map((proof) => proof.kind).sort()).toEqual([
      'sent-zip',
      'upload-answer',
    ]);
    expect(await store.list(tenantA, { protocol, limit: 1 })).toHaveLength(1);
  });

  it('writes in the caller’s transaction: nothing is kept when it rolls back', async () => {
    const client = await pool.connect();
    let id: string;
    try {
      await client.query('begin');
      ({ id } = await store.put(
        `${name}-tenant-tx`,
        { kind: 'sent-zip', fileId: randomUUID(), contentType: 'application/zip', bytes: Buffer.from('PK') },
        { client },
      ));
      await client.query('rollback');
    } finally {
      client.release();
    }
    expect(await store.get(`${name}-tenant-tx`, id)).toBeUndefined();
  });

  it('refuses a proof that is not one: unknown kind, wrong media type, CSV without charset, bad ids', async () => {
    const base = { kind: 'receipt-pdf' as const, contentType: 'application/pdf', bytes: Buffer.from('%PDF') };
    await expect(store.put(tenantA, { ...base, contentType: 'text/html' })).rejects.toThrow(
      /receipt-pdf is application\/pdf/,
    );
    await expect(
      store.put(tenantA, { kind: 'error-detail-csv', contentType: 'text/csv', bytes: Buffer.from('a;b') }),
    ).rejects.toThrow(/charset/);
    await expect(
      store.put(tenantA, {
        kind: 'error-detail-csv',
        contentType: 'text/csv; charset=iso-8859-1',
        bytes: Buffer.from('a;b'),
      }),
    ).resolves.toMatchObject({ sha256: sha256(Buffer.from('a;b')) });
    await expect(store.put(tenantA, { ...base, kind: 'photo' as never })).rejects.toThrow(/unknown kind/);
    await expect(store.put(tenantA, { ...base, fileId: 'nope' })).rejects.toThrow(/fileId must be a UUID/);
    await expect(store.put(tenantA, { ...base, protocol: 'a b' })).rejects.toThrow(/protocol/);
    await expect(store.put('', base)).rejects.toThrow(/tenant/);
    await expect(store.put(tenantA, { ...base, contentType: 'pdf' })).rejects.toThrow(/media type/);
  });
});

describe('Postgres proof store: the database’s guarantees', () => {
  let store: ProofStore;
  beforeAll(() => {
    store = createPostgresProofStore({ pool, clock });
  });

  it('refuses any change: UPDATE, DELETE and TRUNCATE are refused by the database', async () => {
    const { id } = await store.put('tenant-a', {
      kind: 'receipt-pdf',
      protocol: '26030200000000001',
      contentType: 'application/pdf',
      bytes: Buffer.from('%PDF-1.4 original'),
    });
    const refused = /submitter\.proofs is append-only/;
    await expect(
      pool.query(`update submitter.proofs set protocol = 'other' where id = $1`, [id]),
    ).rejects.toThrow(refused);
    // Even a "consistent" rewrite of the bytes with their new hash.
    const forged = Buffer.from('%PDF-1.4 forged');
    await expect(
      pool.query(`update submitter.proofs set bytes = $2, sha256 = $3, size = $4 where id = $1`, [
        id,
        forged,
        sha256(forged),
        forged.length,
      ]),
    ).rejects.toThrow(refused);
    await expect(pool.query('delete from submitter.proofs where id = $1', [id])).rejects.toThrow(refused);
    await expect(pool.query('truncate submitter.proofs')).rejects.toThrow(refused);
    expect((await store.get('tenant-a', id))!.bytes.toString()).toBe('%PDF-1.4 original');
  });

  it('lets the retention purge delete only proofs older than ten years', async () => {
    const old = createPostgresProofStore({ pool, clock: () => new Date(Date.now() - 10 * 366 * 86_400_000) });
    const { id: oldId } = await old.put('tenant-purge', {
      kind: 'upload-answer',
      contentType: 'application/xml',
      bytes: Buffer.from('<old/>'),
    });
    const { id: recentId } = await store.put('tenant-purge', {
      kind: 'upload-answer',
      contentType: 'application/xml',
      bytes: Buffer.from('<recent/>'),
    });
    await expect(pool.query('delete from submitter.proofs where id = $1', [recentId])).rejects.toThrow(
      /append-only/,
    );
    const purged = await pool.query('delete from submitter.proofs where id = $1', [oldId]);
    expect(purged.rowCount).toBe(1);
    expect(await store.get('tenant-purge', oldId)).toBeUndefined();
  });

  it('refuses a row whose hash or size does not describe its bytes, or that has both or neither of bytes and object key', async () => {
    const bytes = Buffer.from('%PDF-1.4 x');
    const insert = (
      hash: string,
      size: number,
      rowBytes: Buffer | null = bytes,
      objectKey: string | null = null,
    ) =>
      pool.query(
        `insert into submitter.proofs (id, tenant_id, kind, content_type, bytes, object_key, sha256, size, created_at)
         values ($1, 'tenant-a', 'receipt-pdf', 'application/pdf', $2, $3, $4, $5, now())`,
        [randomUUID(), rowBytes, objectKey, hash, size],
      );
    await expect(insert(sha256(Buffer.from('other')), bytes.length)).rejects.toThrow(/proofs_sha256/);
    await expect(insert(sha256(bytes), bytes.length + 1)).rejects.toThrow(/proofs_size/);
    await expect(insert(sha256(bytes), bytes.length, bytes, 'proofs/x')).rejects.toThrow(
      /proofs_bytes_or_object/,
    );
    await expect(insert(sha256(bytes), bytes.length, null, null)).rejects.toThrow(/proofs_bytes_or_object/);
    // The hash of bytes kept in a bucket cannot be computed by the database: its form is checked.
    await expect(insert('not-a-hash', bytes.length, null, 'proofs/x')).rejects.toThrow(/proofs_sha256_hex/);
  });

  it('never serves bytes that no longer match their hash', async () => {
    const { id } = await store.put('tenant-rot', {
      kind: 'receipt-pdf',
      contentType: 'application/pdf',
      bytes: Buffer.from('%PDF-1.4 good'),
    });
    // Storage rot, simulated as only a superuser could: triggers and checks off for this session.
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query(`set local session_replication_role = replica`);
      await client.query('alter table submitter.proofs drop constraint proofs_sha256');
      await client.query(`update submitter.proofs set bytes = '\\x00' , size = 1 where id = $1`, [id]);
      const { rows } = await client.query(`select bytes from submitter.proofs where id = $1`, [id]);
      expect(rows[0].bytes).toEqual(Buffer.from([0]));
      // Read it through the store inside this transaction.
      const inside = createPostgresProofStore({ pool: client as unknown as Pool, clock });
      await expect(inside.get('tenant-rot', id)).rejects.toBeInstanceOf(ProofIntegrityError);
    } finally {
      await client.query('rollback');
      client.release();
    }
  });
});
