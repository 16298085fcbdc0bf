import { romeDate } from '@sts/shared';
import {
  createSanitelEncryptor,
  createStsClient,
  type DocumentRules,
  type ExpenseDocument,
  encryptPincode,
  encryptTaxCode,
  InvalidDocumentError,
  lookupStsCode,
  parseSanitelCertificate,
  type SanitelEncryptor,
  type StsResult,
} from '@sts/sts';
import { buildSimulator, type Simulator } from '@sts/sts-simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KIT_CATEGORIES } from './kit-categories.ts';

/**
 * Issue 10's date rules end to end: our SOAP client against the simulator over real HTTP, the
 * simulator enforcing the STS calendar on its own clock (5 February 2026, Rome: 2025 payments are
 * late, 2024 ones closed).
 */

const TODAY = new Date('2026-02-05T10:00:00Z');
const medico = KIT_CATEGORIES.find((category) => category.category === 'medico')!;

let simulator: Simulator;
let baseUrl: string;
let encryptor: SanitelEncryptor;

beforeAll(async () => {
  simulator = await buildSimulator({
    processingDelayMs: 30,
    validationWorkers: 1,
    calendar: 'enforce',
    clock: () => TODAY,
  });
  baseUrl = await simulator.app.listen({ host: '127.0.0.1', port: 0 });
  encryptor = createSanitelEncryptor(parseSanitelCertificate(simulator.certificatePem));
});
afterAll(() => simulator.app.close());

const client = (rules: DocumentRules = {}) =>
  createStsClient({
    baseUrl,
    auth: { user: medico.user, password: medico.password },
    documentRules: { allowKitTestIdentifiers: true, ...rules },
  });

let number = 0;
const documentPaid = (paymentDate: string): ExpenseDocument => ({
  id: { vatNumber: medico.vatNumber, issueDate: paymentDate, device: 1, number: `CAL-${++number}` },
  operation: 'insert',
  paymentDate,
  patient: { kind: 'identified', taxCode: encryptTaxCode(encryptor, 'RSSMRA80A01H501U') },
  traceablePayment: true,
  documentType: 'invoice',
  lines: [{ expenseType: 'SR', amount: '75.00', vatNature: 'N4' }],
});

const send = (document: ExpenseDocument, rules?: DocumentRules) => {
  const sts = client(rules);
  return sts
    .sendDocument({
      encryptedPincode: encryptPincode(encryptor, medico.pincode),
      sender: { kind: 'professional', taxCode: encryptTaxCode(encryptor, medico.owner.taxCode) },
      document,
    })
    .finally(() => sts.close());
};

function value<T>(result: StsResult<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.failure)}`);
  return result.value;
}

describe('the date rules, our client against the simulator', () => {
  it('a late document: accepted with W008, a warning the catalogue knows', async () => {
    const answer = value(await send(documentPaid('2025-12-15')));
    expect(answer.outcome).toBe('accepted-with-warnings');
    expect(answer.protocol).toMatch(/^\d{17}$/);
    expect(answer.messages.map((m) => m.code)).toEqual(['W008', '0']);
    expect(lookupStsCode('W008', 'message').class).toBe('warning');
  });

  it('a closed tax year: rejected with S035; a future date: rejected with S909, our own code', async () => {
    const closed = value(await send(documentPaid('2024-12-15')));
    expect(closed).toMatchObject({ outcome: 'rejected', alreadyPresent: false });
    expect(closed.messages.map((m) => m.code)).toEqual(['S035']);
    expect(lookupStsCode('S035', 'message').class).toBe('document');
    const future = value(await send(documentPaid('2026-02-06')));
    expect(future.messages.map((m) => m.code)).toEqual(['S909']);
    expect(lookupStsCode('S909', 'message')).toMatchObject({ class: 'document', textOrigin: 'ours' });
  });

  it('with today in its document rules, our client refuses them before anything is sent', async () => {
    const today = romeDate(TODAY);
    const closed = documentPaid('2024-12-15');
    const future = documentPaid('2026-02-06');
    await expect(send(closed, { today })).rejects.toThrow(InvalidDocumentError);
    await expect(send(future, { today })).rejects.toThrow(/payment-date\.future/);
    // The simulator never heard of either.
    expect(simulator.archive.counter(closed.id)).toBeUndefined();
    expect(simulator.archive.counter(future.id)).toBeUndefined();
  });
});
