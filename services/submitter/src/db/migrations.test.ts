import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPool, type Pool, runMigrations } from '@sts/shared';
import { useTestDatabase } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitterMigrations } from './migrations.ts';

const database = useTestDatabase();

describe('submitter migrations', () => {
  let pool: Pool;

  beforeAll(async () => {
    // The runner the service starts with: on a migrated database it applies nothing twice.
    await runMigrations(database.url, submitterMigrations);
    pool = createPool({ url: database.url, applicationName: 'submitter-migrations-test' });
  });
  afterAll(async () => {
    await pool.end();
  });

  it('applies every migration of the journal, hand-written ones too', async () => {
    const journal = JSON.parse(
      readFileSync(join(submitterMigrations.folder, 'meta/_journal.json'), 'utf8'),
    ) as {
      entries: { when: number }[];
    };
    const { rows } = await pool.query<{ createdAt: string }>(
      'select created_at as "createdAt" from submitter.__migrations order by created_at',
    );
    expect(rows.map((row) => Number(row.createdAt))).toEqual(journal.entries.map((entry) => entry.when));
  });

  it('has autovacuum analyze documents after 1,000 + 1% of its rows changed (migration 0006)', async () => {
    const { rows } = await pool.query<{ reloptions: string[] | null }>(
      `select c.reloptions from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'submitter' and c.relname = 'documents'`,
    );
    expect(rows[0]?.reloptions).toEqual(
      expect.arrayContaining(['autovacuum_analyze_scale_factor=0.01', 'autovacuum_analyze_threshold=1000']),
    );
  });
});
