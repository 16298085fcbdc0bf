import { randomUUID } from 'node:crypto';
import { createPool, type Pool } from '@sts/shared';
import { testClock, useTestDatabase } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expenseDocument, takeIn } from '../../test-support/documents.ts';
import { successorCredentialOf, successorCredentialsOfFile } from './queued-successors.ts';

const database = useTestDatabase();

describe('queued successors', () => {
  let pool: Pool;
  const clock = testClock('2026-01-15T09:00:00Z');
  let counter = 0;
  const document = () => expenseDocument(++counter);

  beforeAll(() => {
    pool = createPool({ url: database.url, applicationName: 'submitter-successors-test' });
  });
  afterAll(async () => {
    await pool.end();
  });

  const set = (invoiceIds: (string | undefined)[], state: string, fileId: string | null = null) =>
    pool.query('update submitter.documents set state = $2, file_id = $3 where invoice_id = any($1::uuid[])', [
      invoiceIds,
      state,
      fileId,
    ]);

  it("finds the queued operation after each of a file's documents, and nothing else", async () => {
    const tenantId = randomUUID();
    const [sender, updater, other, late, stranger] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    const fileId = randomUUID();
    const updated = document();
    const cancelled = document();
    const third = document();
    const [insert, update] = await takeIn({ pool, clock }, tenantId, [
      { credentialId: sender, document: updated },
      { credentialId: updater, document: { ...updated, operation: 'update' }, sequence: 2 },
    ]);
    // A successor already on its way (assigned) is not waiting.
    const [cancelledInsert, cancel] = await takeIn({ pool, clock }, tenantId, [
      { credentialId: sender, document: cancelled },
      { credentialId: other, document: { ...cancelled, operation: 'cancel' }, sequence: 2 },
    ]);
    // The file holds the second operation of a chain: the third one, queued, follows it; the
    // queued fourth does not follow anything in the file.
    const [thirdInsert, thirdUpdate, thirdCancel, fourth] = await takeIn({ pool, clock }, tenantId, [
      { credentialId: sender, document: third },
      { credentialId: sender, document: { ...third, operation: 'update' }, sequence: 2 },
      { credentialId: late, document: { ...third, operation: 'cancel' }, sequence: 3 },
      { credentialId: stranger, document: { ...third, operation: 'cancel' }, sequence: 4 },
    ]);
    // Another tenant's document under the same chain key is not a successor.
    const [, foreignUpdate] = await takeIn({ pool, clock }, randomUUID(), [
      { credentialId: stranger, document: updated },
      { credentialId: stranger, document: { ...updated, operation: 'update' }, sequence: 2 },
    ]);
    await set([insert, cancelledInsert, thirdUpdate], 'accepted', fileId);
    await set([thirdInsert], 'accepted');
    await set([cancel], 'assigned');
    expect([update, thirdCancel, fourth, foreignUpdate].every(Boolean)).toBe(true);

    expect((await successorCredentialsOfFile(pool, fileId)).sort()).toEqual([updater, late].sort());
    expect(await successorCredentialOf(pool, insert!)).toBe(updater);
    expect(await successorCredentialOf(pool, thirdUpdate!)).toBe(late);
    expect(await successorCredentialOf(pool, cancelledInsert!)).toBeUndefined();
    expect(await successorCredentialOf(pool, thirdInsert!)).toBeUndefined();
    // Once the update is on its way, the insert's file has no waiting successor for it.
    await set([update], 'assigned');
    expect(await successorCredentialsOfFile(pool, fileId)).toEqual([late]);
  });
});
