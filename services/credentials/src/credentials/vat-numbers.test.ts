import { credentialLeaseSchema, vatNumberCheckDigit } from '@sts/shared';
import { useTestDatabase, useTestRedis } from '@sts/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, LEASE, MANAGE, startHarness } from '../../test-support/harness.ts';

/**
 * Issue 10, item 6: a credential's VAT numbers are text from the request to the lease, so one with
 * leading zeros (01234567897, 00123456782) keeps them: create → read → list → change → lease, and
 * in the database. A VAT number sent as a JSON number is refused, never turned into text without
 * its zeros.
 */

const database = useTestDatabase();
const redisDatabase = useTestRedis();

const VAT = `0123456789${vatNumberCheckDigit('0123456789')}`;
const TWO_ZEROS = `0012345678${vatNumberCheckDigit('0012345678')}`;
const CREDENTIAL = {
  label: 'zeros',
  environment: 'production',
  kind: 'basic',
  user: 'RSSMRA85T10A562S',
  password: 'Segreta.2026',
  pincode: '5550123987',
  owner: { taxCode: 'RSSMRA85T10A562S' },
  vatNumbers: [VAT],
};

describe('VAT numbers with leading zeros in the credentials service', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ databaseUrl: database.url, redisUrl: redisDatabase.url });
  });
  afterAll(() => h.close());
  const manage = () => h.auth({ tenantId: 'clinic', scopes: MANAGE });

  it('create → read → list → change → lease give them back as text, zeros included', async () => {
    const created = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage(),
      payload: CREDENTIAL,
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().credential.id as string;
    expect(created.json().credential.vatNumbers).toEqual([VAT]);

    const read = await h.app.inject({
      method: 'GET',
      url: `/internal/v1/credentials/${id}`,
      headers: manage(),
    });
    expect(read.json().credential.vatNumbers).toEqual([VAT]);

    const changed = await h.app.inject({
      method: 'PATCH',
      url: `/internal/v1/credentials/${id}`,
      headers: manage(),
      payload: { vatNumbers: [VAT, TWO_ZEROS] },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json().credential.vatNumbers).toEqual([VAT, TWO_ZEROS]);
    const listed = await h.app.inject({ method: 'GET', url: '/internal/v1/credentials', headers: manage() });
    expect(listed.json().items.map((item: { vatNumbers: string[] }) => item.vatNumbers)).toEqual([
      [VAT, TWO_ZEROS],
    ]);

    // Stored as text[] with the zeros.
    const stored = await h.pool.query('select vat_numbers from credentials.credentials where id = $1', [id]);
    expect(stored.rows[0].vat_numbers).toEqual([VAT, TWO_ZEROS]);

    // A lease (for a usable credential) carries them as the submitter will parse them.
    await h.pool.query(`update credentials.credentials set status = 'valid' where id = $1`, [id]);
    const lease = await h.app.inject({
      method: 'POST',
      url: `/internal/v1/credentials/${id}/leases`,
      headers: h.auth({ tenantId: 'clinic', scopes: LEASE, issuer: 'submitter' }),
      payload: { purpose: 'leading zeros' },
    });
    expect(lease.statusCode, lease.body).toBe(201);
    expect(lease.body).toContain(`"vatNumbers":["${VAT}","${TWO_ZEROS}"]`);
    expect(credentialLeaseSchema.parse(lease.json()).vatNumbers).toEqual([VAT, TWO_ZEROS]);
  });

  it('refuses a VAT number sent as a number, or without its zero, naming the item', async () => {
    const response = await h.app.inject({
      method: 'POST',
      url: '/internal/v1/credentials',
      headers: manage(),
      payload: { ...CREDENTIAL, label: 'numbers', vatNumbers: [1234567897, '1234567897'] },
    });
    expect(response.statusCode).toBe(400);
    const errors = response.json().errors as { field: string; rule: string }[];
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'vatNumbers[0]', rule: 'vat-number.type' }),
        expect.objectContaining({ field: 'vatNumbers[1]', rule: 'vat-number.length' }),
      ]),
    );
  });
});
