import { randomUUID } from 'node:crypto';
import { createPool, documentStatusEventSchema, type Pool } from '@sts/shared';
import { testClock, useTestDatabase } from '@sts/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { documentRows, expenseDocument, outboxEvents, takeIn } from '../../test-support/documents.ts';
import type { DocumentState } from '../documents/documents-table.ts';
import { publicStatus, type Transition, transition } from './document-transitions.ts';

const database = useTestDatabase();

describe('document transitions', () => {
  let pool: Pool;
  const clock = testClock('2026-01-15T09:00:00Z');
  const tenantId = randomUUID();
  const credentialId = randomUUID();
  let counter = 0;

  beforeAll(() => {
    pool = createPool({ url: database.url, applicationName: 'submitter-transitions-test', max: 12 });
  });
  afterAll(async () => {
    await pool.end();
  });
  beforeEach(async () => {
    await pool.query('delete from submitter.status_outbox');
  });

  const queued = (count: number) =>
    takeIn(
      { pool, clock },
      tenantId,
      Array.from({ length: count }, () => ({
        credentialId,
        document: expenseDocument(counter++),
      })),
    );

  async function move(change: Omit<Transition, 'at'>) {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const moved = await transition(client, { at: clock(), ...change });
      await client.query('commit');
      return moved;
    } finally {
      client.release();
    }
  }

  it('moves only the documents in one of the `from` states (compare-and-set)', async () => {
    const [a, b, c] = (await queued(3)) as [string, string, string];
    await pool.query('delete from submitter.status_outbox');
    await move({ invoiceIds: [b], from: ['queued'], to: 'assigned', fileId: randomUUID() });
    const moved = await move({
      invoiceIds: [a, b, c],
      from: ['queued'],
      to: 'blocked',
      cause: 'credential-unusable',
    });
    expect(moved.map((row) => row.invoiceId).sort()).toEqual([a, c].sort());
    expect(moved[0]).toMatchObject({ tenantId, credentialId, chainSequence: 1, previous: 'queued' });
    const rows = await documentRows(pool, [a, b, c]);
    expect(rows.get(a)!.state).toBe('blocked');
    expect(rows.get(b)!.state).toBe('assigned');
    expect(rows.get(b)!.cause).toBeNull();
    expect(rows.get(c)!).toMatchObject({ state: 'blocked', cause: 'credential-unusable' });
    expect((await outboxEvents(pool)).map((event) => event.invoiceId).sort()).toEqual([a, c].sort());
    // Nothing in `from`: nothing moves, nothing is written.
    expect(await move({ invoiceIds: [a, c], from: ['submitting'], to: 'uncertain' })).toEqual([]);
    expect(await move({ invoiceIds: [], from: ['queued'], to: 'assigned' })).toEqual([]);
    expect(await outboxEvents(pool)).toHaveLength(2);
  });

  it('writes a status event exactly when the status the gateway sees changes, numbered by state_sequence', async () => {
    const [id] = (await queued(1)) as [string];
    const intake = await outboxEvents(pool);
    expect(intake).toMatchObject([{ invoiceId: id, status: 'queued', sequence: 1 }]);
    await pool.query('delete from submitter.status_outbox');

    const fileId = randomUUID();
    await move({ invoiceIds: [id], from: ['queued'], to: 'assigned', fileId });
    expect(await outboxEvents(pool)).toEqual([]);
    expect((await documentRows(pool, [id])).get(id)).toMatchObject({ stateSequence: 1, fileId });

    clock.advance(1000);
    await move({ invoiceIds: [id], from: ['assigned'], to: 'submitting' });
    let row = (await documentRows(pool, [id])).get(id)!;
    expect(row).toMatchObject({ state: 'submitting', stateSequence: 2, fileId });
    expect(row.submittingSince).toEqual(clock());

    clock.advance(1000);
    await move({ invoiceIds: [id], from: ['submitting'], to: 'uncertain', cause: 'answer-lost' });
    clock.advance(1000);
    const messages = [
      { code: 'W008', kind: 'warning' as const, text: 'Invio oltre i termini' },
      { code: 'I001', kind: 'info' as const, text: 'Elaborato' },
    ];
    await move({
      invoiceIds: [id],
      from: ['uncertain'],
      to: 'accepted_with_warnings',
      cause: 'reconciled',
      protocol: '26011512345678901',
      messages,
    });
    row = (await documentRows(pool, [id])).get(id)!;
    expect(row).toMatchObject({
      state: 'accepted_with_warnings',
      stateSequence: 4,
      cause: 'reconciled',
      protocol: '26011512345678901',
      messages,
      submittingSince: null,
    });

    const events = await outboxEvents(pool);
    expect(events.map((event) => [event.status, event.sequence])).toEqual([
      ['submitting', 2],
      ['uncertain', 3],
      ['accepted_with_warnings', 4],
    ]);
    for (const event of [...intake, ...events]) {
      expect(documentStatusEventSchema.parse(event)).toEqual(event);
      expect(event).toMatchObject({ tenantId, invoiceId: id });
    }
    expect(events[0]).not.toHaveProperty('cause');
    expect(events[1]).toMatchObject({ cause: 'answer-lost' });
    expect(events[2]).toMatchObject({
      cause: 'reconciled',
      protocol: '26011512345678901',
      messages,
      at: clock().toISOString(),
    });
    expect(new Set([...intake, ...events].map((event) => event.eventId)).size).toBe(4);
  });

  it('announces `assigned` → blocked and blocked → `queued`, but not queued ↔ assigned', async () => {
    const [id] = (await queued(1)) as [string];
    await pool.query('delete from submitter.status_outbox');
    await move({ invoiceIds: [id], from: ['queued'], to: 'assigned', submissionId: randomUUID() });
    await move({ invoiceIds: [id], from: ['assigned'], to: 'blocked', cause: 'credential-unusable' });
    await move({ invoiceIds: [id], from: ['blocked'], to: 'queued', submissionId: null, fileId: null });
    await move({ invoiceIds: [id], from: ['queued'], to: 'assigned', submissionId: randomUUID() });
    await move({ invoiceIds: [id], from: ['assigned'], to: 'queued', submissionId: null });
    const events = (await outboxEvents(pool)).sort((a, b) => a.sequence - b.sequence);
    expect(events.map((event) => [event.status, event.sequence])).toEqual([
      ['blocked', 2],
      ['queued', 3],
    ]);
    expect((await documentRows(pool, [id])).get(id)).toMatchObject({
      state: 'queued',
      stateSequence: 3,
      submissionId: null,
    });
  });

  it('keeps a state and its event together: a rolled-back transaction leaves neither', async () => {
    const [id] = (await queued(1)) as [string];
    await pool.query('delete from submitter.status_outbox');
    const client = await pool.connect();
    try {
      await client.query('begin');
      await transition(client, { invoiceIds: [id], from: ['queued'], to: 'blocked', at: clock() });
      await client.query('rollback');
    } finally {
      client.release();
    }
    expect((await documentRows(pool, [id])).get(id)).toMatchObject({ state: 'queued', stateSequence: 1 });
    expect(await outboxEvents(pool)).toEqual([]);
  });

  it('concurrent transitions of overlapping sets neither deadlock nor number two events alike', async () => {
    const ids = await queued(40);
    await pool.query('delete from submitter.status_outbox');
    const all: DocumentState[] = ['queued', 'assigned', 'blocked'];
    const targets: DocumentState[] = ['blocked', 'queued', 'assigned'];
    const worker = async (seed: number) => {
      for (let round = 0; round < 6; round++) {
        // Overlapping windows in reversed and rotated orders: the same rows, asked for differently.
        const start = (seed * 7 + round * 5) % ids.length;
        const set = [...ids.slice(start), ...ids.slice(0, start)].slice(0, 25);
        if ((seed + round) % 2) set.reverse();
        const client = await pool.connect();
        try {
          await client.query('begin');
          await transition(client, {
            invoiceIds: set,
            from: all,
            to: targets[(seed + round) % targets.length]!,
            at: clock(),
          });
          await client.query('select pg_sleep(0.005)');
          await client.query('commit');
        } catch (error) {
          await client.query('rollback');
          throw error;
        } finally {
          client.release();
        }
      }
    };
    await expect(Promise.all(Array.from({ length: 10 }, (_, seed) => worker(seed)))).resolves.toBeDefined();

    const rows = await documentRows(pool, ids);
    const events = await outboxEvents(pool);
    for (const id of ids) {
      const row = rows.get(id)!;
      const mine = events.filter((event) => event.invoiceId === id).sort((a, b) => a.sequence - b.sequence);
      // Every announced change has its own number, 2, 3, … up to the row's state_sequence.
      expect(mine.map((event) => event.sequence)).toEqual(
        Array.from({ length: row.stateSequence - 1 }, (_, i) => i + 2),
      );
      if (mine.length > 0) expect(mine.at(-1)!.status).toBe(publicStatus(row.state));
      for (const [i, event] of mine.entries()) {
        if (i > 0) expect(event.status).not.toBe(mine[i - 1]!.status);
      }
    }
  });
});
