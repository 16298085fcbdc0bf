import { type Harness, startHarness, TOKEN_KEYS } from '@sts/credentials/testing';
import { buildApp as buildGateway } from '@sts/gateway';
import {
  CLINIC_VAT_NUMBER,
  createCredentialDirectory,
  createCredentialsClient,
  gatewayAccounts,
  invoiceEvent,
  patientTaxCode,
  testInvoiceDeps,
} from '@sts/gateway/testing';
import { createLogger, createPool, createRedis, type Pool, type Redis } from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayApi } from '../support/clients.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

/**
 * Invoice events over real HTTP through the real gateway, its credentials read from the real
 * credentials service (as main.ts wires them): a credential created a moment ago is used at once,
 * a streamed NDJSON batch is stored run by run, the relay moves every run into one BullMQ job, and
 * the events can be read back, by id and by patient.
 */
const DOCTOR = { username: 'INVMRA80A01H501W', password: 'Invoices.Pw.1', pincode: '7310486295' };

describe('invoice events through the gateway, with the credentials service', () => {
  let h: Harness;
  let pool: Pool;
  let redis: Redis;
  let app: ReturnType<typeof buildGateway>;
  let base: string;
  let key: string;
  const deps = testInvoiceDeps({ relay: { intervalMs: 20, batchSize: 10, redeliverAfterMs: 600_000 } });

  beforeAll(async () => {
    h = await startHarness({
      databaseUrl: database.url,
      redisUrl: redisDatabase.url,
      listen: true,
      simulator: { users: [{ ...DOCTOR, kind: 'professional' }] },
    });
    pool = createPool({ url: database.url, applicationName: 'gateway-invoices' });
    redis = createRedis(redisDatabase.url, 'gateway-invoices');
    const credentials = createCredentialsClient({ baseUrl: h.url!, signingKey: TOKEN_KEYS.gateway });
    app = buildGateway({
      logger: createLogger({ name: 'gateway', level: 'silent' }),
      pool,
      redis,
      credentials,
      patientHasher: deps.patientHasher,
      invoices: {
        ...deps.invoices,
        directory: createCredentialDirectory({ list: (tenantId) => credentials.listAll(tenantId) }),
      },
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    const { tenants } = gatewayAccounts(pool);
    key = (await tenants.create({ name: 'Clinica Invii' })).firstKey.key;
  });
  afterAll(async () => {
    await app.close();
    await h.close();
    await pool.end();
    redis.disconnect();
  });

  const call = gatewayApi(
    () => base,
    () => key,
  );

  it('uses a credential created a moment ago, stores a streamed batch run by run, relays each run once', async () => {
    // No credential yet: refused, naming credentialId, nothing stored.
    const early = await call('POST', '/v1/invoices', JSON.stringify(invoiceEvent(1)));
    expect(early.status, early.text).toBe(422);
    expect(early.json.errors).toEqual([
      expect.objectContaining({ field: 'credentialId', rule: 'credential.none-for-vat-number' }),
    ]);

    const created = await call(
      'POST',
      '/v1/credentials',
      JSON.stringify({
        label: 'Dr Invii',
        environment: 'test',
        kind: 'basic',
        user: DOCTOR.username,
        password: DOCTOR.password,
        pincode: DOCTOR.pincode,
        owner: { taxCode: DOCTOR.username },
        vatNumbers: [CLINIC_VAT_NUMBER],
      }),
    );
    expect(created.status, created.text).toBe(201);
    const credentialId = created.json.credential.id as string;

    // At once, without credentialId: the gateway reads the tenant's credentials again.
    const first = await call('POST', '/v1/invoices', JSON.stringify(invoiceEvent(1)));
    expect(first.status, first.text).toBe(202);
    expect(first.json.invoice.credentialId).toBe(credentialId);

    // 2,500 events streamed as NDJSON: three runs (1,000, 1,000, 500), every one accepted.
    const lines = Array.from({ length: 2500 }, (_, i) => JSON.stringify(invoiceEvent(100 + i)));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const encoder = new TextEncoder();
        for (let i = 0; i < lines.length; i += 500)
          controller.enqueue(encoder.encode(`${lines.slice(i, i + 500).join('\n')}\n`));
        controller.close();
      },
    });
    const response = await fetch(`${base}/v1/invoices/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-ndjson' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    const batch = (await response.json()) as { summary: Record<string, number> };
    expect(response.status).toBe(200);
    expect(batch.summary).toEqual({ received: 2500, accepted: 2500, duplicates: 0, rejected: 0 });

    // The relay moved each outbox row into one job: 1 (single) + 3 (runs) jobs, 2,501 documents.
    for (let i = 0; i < 400; i++) {
      if ((await pool.query('select count(*)::int as n from gateway.outbox')).rows[0].n === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // BullMQ keeps each job as a hash `bull:<queue>:<job id>`, its payload in `data`.
    const jobKeys = (await redis.keys('bull:documents-accepted:*')).filter((name) =>
      /:outbox-[0-9a-f-]{36}$/.test(name),
    );
    const jobs = await Promise.all(
      jobKeys.map(async (name) => ({
        id: name.split(':').at(-1),
        data: JSON.parse((await redis.hget(name, 'data'))!),
      })),
    );
    expect(jobs.map((job) => job.data.documents.length).sort((a: number, b: number) => a - b)).toEqual([
      1, 500, 1000, 1000,
    ]);
    for (const job of jobs) expect(job.id).toBe(`outbox-${job.data.outboxId}`);

    // Read back by id and by patient.
    const one = await call('GET', `/v1/invoices/${first.json.invoice.id}`);
    expect(one.status, one.text).toBe(200);
    expect(one.text).not.toContain(patientTaxCode(1));
    const byPatient = await call('GET', `/v1/invoices?patient=${patientTaxCode(150)}`);
    expect(byPatient.status, byPatient.text).toBe(200);
    expect(JSON.stringify(byPatient.json)).toContain('FT2026/150');
  });
});
