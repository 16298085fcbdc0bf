import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPool, type Pool } from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();
const DEMO = join(import.meta.dirname, '../../packages/demo/src/main.ts');
const DOCUMENTS = 300;

/**
 * The first-run demo of `./run start` (packages/demo), at a smaller size, against the whole product
 * as separate processes: it sets up a clinic and the kit's test credential through the sts CLI,
 * imports the sample file until every event is final, and its summary is what the gateway has.
 * A second run reuses the clinic, the credential and the file, and sends nothing twice.
 */
describe('the first-run demo', () => {
  let stack: Stack;
  let pool: Pool;
  const stateDir = join(mkdtempSync(join(tmpdir(), 'sts-demo-')), 'demo');

  const demo = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [DEMO, '--documents', String(DOCUMENTS), '--state-dir', stateDir, '--timeout', '600', ...args],
        {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: stateDir,
            DATABASE_URL: database.url,
            STS_GATEWAY_URL: stack.urls.gateway,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const statusesInDatabase = async (tenantId: string) =>
    Object.fromEntries(
      (
        await pool.query<{ status: string; count: string }>(
          'select status, count(*) from gateway.invoices where tenant_id = $1 group by status',
          [tenantId],
        )
      ).rows.map((row) => [row.status, Number(row.count)]),
    );

  beforeAll(async () => {
    stack = await startStack({ databaseUrl: database.url, redisUrl: redisDatabase.url });
    pool = createPool({ url: database.url, applicationName: 'demo-test' });
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
    await pool?.end();
  });

  it('sends every sample event to a final state, and its summary is what the gateway has', async () => {
    const run = await demo(['--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout, run.stdout).toMatch(/^\{.*\}\n$/s);
    const summary = JSON.parse(run.stdout);
    expect(summary.reused).toEqual({ tenant: false, credential: false, file: false });
    expect(run.stderr).toContain('tested against the simulator: valid');
    // The API key is kept for the user, readable by them only.
    expect(statSync(join(stateDir, 'config.json')).mode & 0o077).toBe(0);

    const g = summary.gateway;
    expect(g.total).toBe(summary.events);
    expect(g.pending).toBe(0);
    expect(g.final).toBe(summary.events);
    // One document in 97 was paid in a closed tax year: the STS refuses it (S035), verbatim.
    const closedYear = Math.floor(DOCUMENTS / 97);
    expect(g.byStatus.rejected).toBe(closedYear);
    expect(g.rejections).toEqual([expect.objectContaining({ code: 'S035', count: closedYear })]);
    expect(g.byStatus.accepted).toBe(summary.events - closedYear);
    // The gateway's own table says the same.
    const rows = await statusesInDatabase(summary.tenantId);
    expect(rows).toEqual(
      Object.fromEntries(Object.entries(g.byStatus as Record<string, number>).filter(([, n]) => n > 0)),
    );
  }, 600_000);

  it('reuses the clinic, the credential and the file on a second run, and sends nothing twice', async () => {
    const before = await pool.query('select count(*) from gateway.invoices');
    const run = await demo([]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('reused');
    expect((await pool.query('select count(*) from gateway.invoices')).rows).toEqual(before.rows);
    // The human summary: the gateway's figures with the STS's reason, and where to look next.
    expect(run.stdout).toMatch(/rejected\s+3\n\s+3 × S035 /);
    expect(run.stdout).toContain(`${stack.urls.gateway}/docs`);
    expect(run.stdout).toContain('not final yet                       0');
  }, 600_000);
});
