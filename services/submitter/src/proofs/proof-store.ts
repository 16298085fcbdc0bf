import { createHash, randomUUID } from 'node:crypto';
import { type Clock, type Pool, systemClock } from '@sts/shared';
import type { PoolClient } from 'pg';
import { PROOF_KINDS, type ProofKind } from './proofs-table.ts';

export { PROOF_KINDS, type ProofKind };

/**
 * The proofs of what was sent to the STS and what it answered, kept ten years: the exact zip of a
 * 730 file, every raw answer (as the XML or JSON text given), the error detail CSV and the receipt
 * PDF. Proofs are append-only: a proof is written once and never changed; a newer proof of the same
 * kind for the same send (a receipt fetched again) is another row, and readers take the latest.
 *
 * Every read names the tenant and sees only that tenant's proofs. Bytes are checked against their
 * SHA-256 on every read: a proof whose bytes no longer match is an error, never served.
 *
 * The interface is the storage's, not Postgres's. Two implementations share the metadata rows in
 * `submitter.proofs` (lookups, tenants, the caller's transaction): `createPostgresProofStore` keeps
 * the bytes in the row; `createS3ProofStore` (s3-proof-store.ts) keeps them in an S3-compatible
 * bucket under a content-addressed key, the row holding that key; see docs/decisions.md.
 */
export interface ProofStore {
  /**
   * Keeps a proof. With `options.client` the row is written in the caller's transaction (it exists
   * only if that commits); otherwise on its own.
   */
  put(
    tenantId: string,
    proof: NewProof,
    options?: { client?: PoolClient },
  ): Promise<{ id: string; sha256: string }>;
  /** One proof by id, with its bytes; `undefined` when the tenant has none with that id. */
  get(tenantId: string, id: string): Promise<StoredProof | undefined>;
  /**
   * The latest proof of `kind` of the send with `protocol`: one written with that protocol, or with
   * the file of that protocol (a zip is kept before the STS gives the protocol, so it is found
   * through the upload answer that carries both). `undefined` when there is none.
   */
  findByProtocol(tenantId: string, protocol: string, kind: ProofKind): Promise<StoredProof | undefined>;
  /** Metadata (no bytes) of the tenant's proofs matching every filter given, newest first. */
  list(tenantId: string, filter?: ProofFilter): Promise<ProofRecord[]>;
}

export interface NewProof {
  kind: ProofKind;
  protocol?: string;
  fileId?: string;
  invoiceId?: string;
  /** A media type; `receipt-pdf`, `sent-zip` and `error-detail-csv` have fixed ones (the CSV with its `charset`). */
  contentType: string;
  bytes: Buffer;
}

export interface ProofRecord {
  id: string;
  tenantId: string;
  kind: ProofKind;
  protocol: string | null;
  fileId: string | null;
  invoiceId: string | null;
  contentType: string;
  /** SHA-256 of the bytes, lower-case hex. */
  sha256: string;
  size: number;
  createdAt: Date;
}

export interface StoredProof extends ProofRecord {
  bytes: Buffer;
}

export interface ProofFilter {
  kind?: ProofKind;
  protocol?: string;
  fileId?: string;
  invoiceId?: string;
  /** At most this many (default 100, at most 1,000). */
  limit?: number;
}

/** Larger than anything the STS takes or gives (a 730 zip is below 5 MB). */
export const MAX_PROOF_BYTES = 32 * 1024 * 1024;
const MAX_PROTOCOL_LENGTH = 64;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `type/subtype` with optional parameters, printable ASCII. */
const MEDIA_TYPE =
  /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+( *; *[a-z0-9!#$&^_.+-]+=("[^"\\]*"|[a-z0-9!#$&^_.+-]+))*$/i;

/** The media type each kind must have, where it is fixed (the routes serve what is stored). */
const FIXED_TYPES: Partial<Record<ProofKind, { essence: string; charset?: true }>> = {
  'sent-zip': { essence: 'application/zip' },
  'receipt-pdf': { essence: 'application/pdf' },
  'error-detail-csv': { essence: 'text/csv', charset: true },
};

/**
 * A proof's bytes do not match its recorded SHA-256 (or size), or are gone from the bucket: storage
 * corruption, never served.
 */
export class ProofIntegrityError extends Error {
  readonly proofId: string;
  constructor(proofId: string, problem = 'its bytes do not match their recorded SHA-256') {
    super(`proof ${proofId}: ${problem}`);
    this.name = 'ProofIntegrityError';
    this.proofId = proofId;
  }
}

export const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const isProtocol = (value: string) => value.length <= MAX_PROTOCOL_LENGTH && /^[\x21-\x7e]+$/.test(value);

function checkNewProof(tenantId: string, proof: NewProof): void {
  if (typeof tenantId !== 'string' || tenantId.length === 0)
    throw new Error('proof: a tenant id is required');
  if (!PROOF_KINDS.includes(proof.kind)) throw new Error(`proof: unknown kind ${String(proof.kind)}`);
  if (!Buffer.isBuffer(proof.bytes)) throw new Error('proof: bytes must be a Buffer');
  if (proof.bytes.length > MAX_PROOF_BYTES) {
    throw new Error(`proof: ${proof.bytes.length} bytes is more than ${MAX_PROOF_BYTES}`);
  }
  if (proof.protocol !== undefined && !isProtocol(proof.protocol)) {
    throw new Error(`proof: a protocol is 1-${MAX_PROTOCOL_LENGTH} printable ASCII characters`);
  }
  for (const field of ['fileId', 'invoiceId'] as const) {
    const value = proof[field];
    if (value !== undefined && !UUID.test(value)) throw new Error(`proof: ${field} must be a UUID`);
  }
  const type = proof.contentType;
  if (typeof type !== 'string' || type.length > 255 || !MEDIA_TYPE.test(type)) {
    throw new Error('proof: contentType must be a media type (type/subtype[; parameter=value])');
  }
  const fixed = FIXED_TYPES[proof.kind];
  if (fixed) {
    const [essence, ...parameters] = type.split(';').map((part) => part.trim().toLowerCase());
    if (essence !== fixed.essence) throw new Error(`proof: a ${proof.kind} is ${fixed.essence}`);
    if (fixed.charset && !parameters.some((parameter) => parameter.startsWith('charset='))) {
      throw new Error(`proof: a ${proof.kind} names the encoding of its bytes (${fixed.essence}; charset=…)`);
    }
  }
}

interface Row {
  id: string;
  tenant_id: string;
  kind: ProofKind;
  protocol: string | null;
  file_id: string | null;
  invoice_id: string | null;
  content_type: string;
  sha256: string;
  size: number;
  created_at: Date;
  bytes?: Buffer | null;
  object_key?: string | null;
}

const RECORD_COLUMNS =
  'id, tenant_id, kind, protocol, file_id, invoice_id, content_type, sha256, size, created_at';

function recordOf(row: Row): ProofRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind,
    protocol: row.protocol,
    fileId: row.file_id,
    invoiceId: row.invoice_id,
    contentType: row.content_type,
    sha256: row.sha256,
    size: row.size,
    createdAt: row.created_at,
  };
}

/**
 * Where a proof's bytes are kept: in its row, or in an object store with the row holding the
 * object's key. Everything else (validation, rows, lookups, the integrity check) is common.
 */
export interface ProofBytes {
  /** Keeps the bytes of a proof about to be recorded (before its row); what the row holds for them. */
  keep(
    tenantId: string,
    proof: NewProof,
    sha256: string,
  ): Promise<{ bytes: Buffer; objectKey: null } | { bytes: null; objectKey: string }>;
  /** The bytes of a row that holds an object key in their place (the caller checks them). */
  fetch(proofId: string, objectKey: string): Promise<Buffer>;
}

/** Bytes in the row (`bytea`): the Postgres store. */
const bytesInRow: ProofBytes = {
  keep: async (_tenantId, proof) => ({ bytes: proof.bytes, objectKey: null }),
  fetch: async (proofId, objectKey) => {
    throw new Error(
      `proof ${proofId}: its bytes are in an S3 bucket (object ${objectKey}), not in Postgres; read it with the S3 proof store`,
    );
  },
};

const SELECT_STORED = `select ${RECORD_COLUMNS}, bytes, object_key from submitter.proofs`;

export interface PostgresProofStoreOptions {
  pool: Pool;
  clock?: Clock;
}

/** The proof store in `submitter.proofs` (bytes as `bytea`): the default. */
export function createPostgresProofStore(options: PostgresProofStoreOptions): ProofStore {
  return createIndexedProofStore({ ...options, bytes: bytesInRow });
}

/**
 * A proof store on the rows of `submitter.proofs`, its bytes where `bytes` keeps them. The bytes are
 * kept first, then the row is written (in the caller's transaction when given): a row never exists
 * without its bytes; a transaction that rolls back may leave bytes without a row (an object nobody
 * refers to, see s3-proof-store.ts).
 */
export function createIndexedProofStore({
  pool,
  clock = systemClock,
  bytes: storage,
}: PostgresProofStoreOptions & { bytes: ProofBytes }): ProofStore {
  /** The record with its bytes, after checking them against the hash and size written beside them. */
  const storedOf = async (row: Row): Promise<StoredProof> => {
    const bytes = row.bytes ?? (await storage.fetch(row.id, row.object_key!));
    if (bytes.length !== row.size || sha256Of(bytes) !== row.sha256) throw new ProofIntegrityError(row.id);
    return { ...recordOf(row), bytes };
  };

  return {
    async put(tenantId, proof, options) {
      checkNewProof(tenantId, proof);
      const id = randomUUID();
      const sha256 = sha256Of(proof.bytes);
      const kept = await storage.keep(tenantId, proof, sha256);
      await (options?.client ?? pool).query(
        `insert into submitter.proofs
           (id, tenant_id, kind, protocol, file_id, invoice_id, content_type, bytes, object_key, sha256, size,
            created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          id,
          tenantId,
          proof.kind,
          proof.protocol ?? null,
          proof.fileId ?? null,
          proof.invoiceId ?? null,
          proof.contentType,
          kept.bytes,
          kept.objectKey,
          sha256,
          proof.bytes.length,
          clock(),
        ],
      );
      return { id, sha256 };
    },

    async get(tenantId, id) {
      if (typeof id !== 'string' || !UUID.test(id)) return undefined;
      const { rows } = await pool.query<Row>(`${SELECT_STORED} where tenant_id = $1 and id = $2`, [
        tenantId,
        id,
      ]);
      return rows[0] ? storedOf(rows[0]) : undefined;
    },

    async findByProtocol(tenantId, protocol, kind) {
      if (typeof protocol !== 'string' || !isProtocol(protocol)) return undefined;
      // By the protocol itself, or by the file of a proof that carries this protocol (its upload
      // answer): the zip is kept before the STS gives the file its protocol.
      const { rows } = await pool.query<Row>(
        `${SELECT_STORED}
          where tenant_id = $1 and kind = $3
            and (protocol = $2
                 or file_id in (select file_id from submitter.proofs
                                 where tenant_id = $1 and protocol = $2 and file_id is not null))
          order by created_at desc, id desc
          limit 1`,
        [tenantId, protocol, kind],
      );
      return rows[0] ? storedOf(rows[0]) : undefined;
    },

    async list(tenantId, filter = {}) {
      const conditions = ['tenant_id = $1'];
      const values: unknown[] = [tenantId];
      const add = (column: string, value: string | undefined, valid: (value: string) => boolean) => {
        if (value === undefined) return true;
        if (!valid(value)) return false;
        values.push(value);
        conditions.push(`${column} = $${values.length}`);
        return true;
      };
      const fits =
        add('kind', filter.kind, (kind) => (PROOF_KINDS as readonly string[]).includes(kind)) &&
        add('protocol', filter.protocol, isProtocol) &&
        add('file_id', filter.fileId, (value) => UUID.test(value)) &&
        add('invoice_id', filter.invoiceId, (value) => UUID.test(value));
      if (!fits) return [];
      const wanted = Number.isFinite(filter.limit) ? Math.trunc(filter.limit!) : 100;
      const limit = Math.min(Math.max(wanted, 1), 1_000);
      const { rows } = await pool.query<Row>(
        `select ${RECORD_COLUMNS} from submitter.proofs where ${conditions.join(' and ')}
          order by created_at desc, id desc limit ${limit}`,
        values,
      );
      return rows.map(recordOf);
    },
  };
}
