import { type Clock, type Logger, systemClock } from '@sts/shared';
import { asc, eq, ne, sql } from 'drizzle-orm';
import { recordAudit } from '../audit/audit-log.ts';
import type { Database } from '../db/database.ts';
import { dataKeysTable } from './data-keys-table.ts';
import type { EnvelopeEncryption } from './envelope-encryption.ts';
import type { Keyring } from './keyring.ts';

export interface RotationReport {
  activeVersion: string;
  rewrapped: number;
  /** Data keys per master key version after the run; only the active one should remain. */
  remaining: Record<string, number>;
}

/**
 * Re-wraps every data key not wrapped by the active master key, in small transactions, online.
 * Rows are taken `FOR UPDATE SKIP LOCKED`: a credential being deleted (or another rotator's batch)
 * is skipped and picked up by a later pass; leases read data keys without locks and decrypt either
 * version, since both stay in the keyring until the rotation reports nothing left. Only the data
 * key's wrapping changes: the secrets' ciphertexts are untouched.
 */
export async function rotateMasterKey({
  db,
  keyring,
  envelope,
  logger,
  clock = systemClock,
  batchSize = 100,
  maxPasses = 5,
}: {
  db: Database;
  keyring: Keyring;
  envelope: EnvelopeEncryption;
  logger: Logger;
  clock?: Clock;
  batchSize?: number;
  /** Passes over rows skipped because they were locked. */
  maxPasses?: number;
}): Promise<RotationReport> {
  const active = keyring.activeVersion;
  let rewrapped = 0;
  for (let pass = 0; pass < maxPasses; pass++) {
    let rewrappedThisPass = 0;
    for (;;) {
      const count = await db.transaction(async (tx) => {
        const batch = await tx
          .select()
          .from(dataKeysTable)
          .where(ne(dataKeysTable.masterKeyVersion, active))
          .orderBy(asc(dataKeysTable.credentialId))
          .limit(batchSize)
          .for('update', { skipLocked: true });
        const now = clock();
        for (const row of batch) {
          const wrapped = envelope.rewrap(row.credentialId, {
            masterKeyVersion: row.masterKeyVersion,
            wrappedKey: row.wrappedKey,
          });
          await tx
            .update(dataKeysTable)
            .set({ ...wrapped, wrappedAt: now })
            .where(eq(dataKeysTable.credentialId, row.credentialId));
        }
        return batch.length;
      });
      rewrappedThisPass += count;
      if (count < batchSize) break;
    }
    rewrapped += rewrappedThisPass;
    const [left] = await db
      .select({ count: sql<number>`count(*)::int` })
      .from(dataKeysTable)
      .where(ne(dataKeysTable.masterKeyVersion, active));
    if (!left?.count) break;
    logger.info({ left: left.count, pass }, 'data keys still locked by other work; another pass');
    await new Promise((resolve) => setTimeout(resolve, 200 * (pass + 1)));
  }

  const counts = await db
    .select({ version: dataKeysTable.masterKeyVersion, count: sql<number>`count(*)::int` })
    .from(dataKeysTable)
    .groupBy(dataKeysTable.masterKeyVersion);
  const remaining = Object.fromEntries(counts.map((row) => [row.version, row.count]));
  await recordAudit(db, {
    at: clock(),
    action: 'vault.master-key-rotated',
    actor: { kind: 'system', id: 'rotate-master-key' },
    details: { activeVersion: active, rewrapped, remaining },
  });
  logger.info({ activeVersion: active, rewrapped, remaining }, 'master key rotation done');
  return { activeVersion: active, rewrapped, remaining };
}
