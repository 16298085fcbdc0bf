import { createHash } from 'node:crypto';
import type { DocumentId } from '@sts/sts';

/**
 * A document's natural identity within a tenant, as one short key: the SHA-256 (base64url) of the
 * tenant and the document's VAT number, issue date, device and number. The same document always has
 * the same key, whatever the request; the identifiers are not secret (they are stored beside it).
 */
export function documentKey(tenantId: string, id: DocumentId): string {
  return createHash('sha256')
    .update(`${tenantId}\0${id.vatNumber}\0${id.issueDate}\0${id.device}\0${id.number}`)
    .digest('base64url');
}

/**
 * The Postgres advisory-lock number of a key (first 8 bytes of its hash, signed): operations on one
 * document are serialised by it, so their order is the order they were accepted in.
 */
export function lockNumber(tenantId: string, key: string): bigint {
  return createHash('sha256').update(`${tenantId}\0lock\0${key}`).digest().readBigInt64BE(0);
}
