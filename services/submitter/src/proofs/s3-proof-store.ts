import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { Clock, Pool } from '@sts/shared';
import {
  createIndexedProofStore,
  type ProofBytes,
  ProofIntegrityError,
  type ProofKind,
  type ProofStore,
  sha256Of,
} from './proof-store.ts';

/**
 * The proof store with its bytes in an S3-compatible bucket (AWS S3, MinIO, Ceph, …). The metadata
 * rows stay in `submitter.proofs` exactly as with the Postgres store (lookups by protocol and file,
 * tenants, the caller's transaction, the append-only trigger); each row holds the key of the object
 * with its bytes instead of the bytes. Why not the bucket alone: the zip is written in the same
 * transaction as its file's row, and proofs are found by protocol through their file, which a bucket
 * cannot do (docs/decisions.md, "Proofs in an S3-compatible bucket").
 *
 * Objects are content-addressed: `<prefix><tenant>/<kind>/<sha256>`. So keeping the same bytes twice
 * (a retried job, a receipt fetched again unchanged) is one object and a no-op, and an object is
 * never rewritten: before writing, the store looks (HEAD); an object already there with these bytes
 * is kept as it is; one with other bytes (changed outside the store) is refused with
 * `ProofObjectConflictError`, never overwritten. "These bytes" is decided by the HEAD alone (the size,
 * and the SHA-256 recorded in the object's metadata on upload); only an object without that metadata
 * is downloaded and hashed. A metadata that lies about its bytes would pass that look, but not a read,
 * which checks the bytes themselves. The write itself is conditional (`If-None-Match: *`)
 * where the service supports it (AWS S3 since 2024, MinIO); where it does not (s3rver, the test
 * server), two writers racing between the look and the write write the same bytes under the same
 * key, which changes nothing. Each object carries its SHA-256 (`x-amz-meta-sha256`, and
 * `ChecksumSHA256`, which S3 verifies on upload), and every read checks the bytes against the SHA-256
 * and size in the row: a changed or missing object is a `ProofIntegrityError`, never served.
 *
 * Immutability for ten years is the bucket's own: Object Lock in compliance mode (see the submitter
 * README). A row's transaction that rolls back leaves its object behind, unreferenced: harmless
 * (the same bytes are found by their key if written again); nothing removes such objects yet.
 */
export interface S3ProofStoreOptions {
  pool: Pool;
  /** A client of the service holding the bucket; its owner destroys it. */
  client: S3Client;
  bucket: string;
  /** Before every key: empty, or ending with `/` (default `proofs/`). */
  prefix?: string;
  clock?: Clock;
}

export const DEFAULT_PROOF_PREFIX = 'proofs/';

/** An object already under a proof's key holds other bytes: the bucket was changed outside the store. */
export class ProofObjectConflictError extends Error {
  readonly objectKey: string;
  constructor(objectKey: string) {
    super(
      `proof object ${objectKey} already exists with other bytes than its SHA-256 names; it is left as it is and the proof is not kept`,
    );
    this.name = 'ProofObjectConflictError';
    this.objectKey = objectKey;
  }
}

/** The key of a proof's object: its tenant (URI-encoded), its kind, the SHA-256 of its bytes. */
export const proofObjectKey = (prefix: string, tenantId: string, kind: ProofKind, sha256: string): string =>
  `${prefix}${encodeURIComponent(tenantId)}/${kind}/${sha256}`;

const isPrefix = (prefix: string) =>
  prefix === '' || (prefix.endsWith('/') && !prefix.startsWith('/') && !prefix.includes('//'));

const statusOf = (error: unknown) =>
  error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;

export function createS3ProofStore({
  pool,
  client,
  bucket,
  prefix = DEFAULT_PROOF_PREFIX,
  clock,
}: S3ProofStoreOptions): ProofStore {
  if (!isPrefix(prefix)) throw new Error(`S3 proof store: prefix "${prefix}" must be empty or end with "/"`);

  /** The object's bytes; `undefined` when there is no such key (a missing bucket is an error). */
  const read = async (key: string): Promise<Buffer | undefined> => {
    try {
      const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = await answer.Body!.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      if (error instanceof S3ServiceException && error.name === 'NoSuchKey') return undefined;
      throw error;
    }
  };

  /**
   * Whether the object is there with exactly these bytes; `false` when absent; refused when different.
   * The HEAD's size and `x-amz-meta-sha256` (set on every upload) decide; the object is downloaded
   * and hashed only when that metadata is missing (an object written by other means).
   */
  const alreadyKept = async (key: string, bytes: Buffer, sha256: string): Promise<boolean> => {
    let head: { ContentLength?: number | undefined; Metadata?: Record<string, string> | undefined };
    try {
      head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
    if (head.ContentLength !== bytes.length) throw new ProofObjectConflictError(key);
    const recorded = head.Metadata?.sha256;
    if (recorded !== undefined) {
      if (recorded.toLowerCase() !== sha256) throw new ProofObjectConflictError(key);
      return true;
    }
    const there = await read(key);
    if (there === undefined) return false;
    if (sha256Of(there) !== sha256) throw new ProofObjectConflictError(key);
    return true;
  };

  const bytes: ProofBytes = {
    async keep(tenantId, proof, sha256) {
      const objectKey = proofObjectKey(prefix, tenantId, proof.kind, sha256);
      if (await alreadyKept(objectKey, proof.bytes, sha256)) return { bytes: null, objectKey };
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: objectKey,
            // A Buffer, never a stream: the whole body and its checksum go in one plain request.
            Body: proof.bytes,
            ContentLength: proof.bytes.length,
            // The first writer's type; the row's `content_type` is the one served.
            ContentType: proof.contentType,
            ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
            Metadata: { sha256 },
            IfNoneMatch: '*',
          }),
        );
      } catch (error) {
        // 412: another writer put the object between our look and our write; it must be these bytes.
        if (statusOf(error) !== 412) throw error;
        if (!(await alreadyKept(objectKey, proof.bytes, sha256))) throw error;
      }
      return { bytes: null, objectKey };
    },

    async fetch(proofId, objectKey) {
      const there = await read(objectKey);
      if (there === undefined) {
        throw new ProofIntegrityError(proofId, `its object ${objectKey} is missing from bucket ${bucket}`);
      }
      return there;
    },
  };

  return createIndexedProofStore({ pool, ...(clock ? { clock } : {}), bytes });
}
