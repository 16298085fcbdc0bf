import { MAX_TENANT_ID_LENGTH } from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, MANAGE, startHarness } from '../../test-support/harness.ts';
import { readCredentialEvents } from './credential-events.ts';

const database = useTestDatabase();
const redisDatabase = useTestRedis();

describe('credential events', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ databaseUrl: database.url, redisUrl: redisDatabase.url });
  });
  afterAll(() => h.close());

  it('are published for a tenant whose id is as long as a service token may carry', async () => {
    const tenantId = `tenant-${'x'.repeat(MAX_TENANT_ID_LENGTH - 7)}`;
    expect(tenantId).toHaveLength(MAX_TENANT_ID_LENGTH);
    const manage = h.auth({ tenantId, scopes: MANAGE });
    const created = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage,
      payload: {
        label: 'long tenant',
        environment: 'test',
        kind: 'basic',
        user: 'CSTFNC80A01H501K',
        password: 'Long.Tenant.1',
        pincode: '4812162342',
        owner: { taxCode: 'CSTFNC80A01H501K' },
        vatNumbers: ['00265910661'],
      },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().credential.id;
    const deleted = await h.app.inject({
      method: 'DELETE',
      url: `/internal/v1/credentials/${id}`,
      headers: manage,
    });
    expect(deleted.statusCode).toBe(204);

    const events = await readCredentialEvents(h.redis);
    expect(events).toMatchObject([
      { type: 'credential.created', tenantId, credentialId: id, status: 'untested' },
      { type: 'credential.deleted', tenantId, credentialId: id, usable: 'false' },
    ]);
    expect(h.logs.join('')).not.toContain('credential event does not match its contract');
  });
});
