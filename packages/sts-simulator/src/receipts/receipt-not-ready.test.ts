import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { receiptEnvelope, type TestDocument } from '../../test-support/envelopes.ts';
import {
  errorCsv,
  errorDetail,
  fileFor,
  outcome,
  schemaProblems,
  sync,
  upload,
} from '../../test-support/flows.ts';
import {
  findAll,
  findText,
  type Harness,
  type SoapAnswer,
  startSimulator,
} from '../../test-support/harness.ts';
import { type KitActor, MEDICO, PATH, PATIENTS, PSICOLOGO } from '../../test-support/kit-actors.ts';
import { KIT_DIR } from '../../test-support/kit-samples.ts';
import {
  createSchemaValidator,
  loadSchemaBundles,
  type SchemaValidator,
} from '../schema/schema-validator.ts';

/**
 * Receipts that are not ready yet: DettaglioErrori and RicevutaPdf answer WS15 (an unconfirmed code,
 * with a description of ours) while the configured receipt delay runs after processing, and for the
 * calls a `receipt-not-ready` fault names. Every such answer is schema-valid.
 */

let validator: SchemaValidator;
let sequence = 0;

beforeAll(() => {
  validator = createSchemaValidator({ bundles: loadSchemaBundles(KIT_DIR), workers: 1 });
});
afterAll(() => validator.close());

const auth = (actor: KitActor) => ({ user: actor.user, password: actor.password });
const pdfReceipt = (h: Harness, actor: KitActor, protocol: string) =>
  h.soap(
    PATH.pdfReceipt,
    receiptEnvelope('RicevutaPdf', { pincode: h.pin(actor.pincode), protocol }),
    auth(actor),
  );
const codes = (answer: SoapAnswer) => findAll(answer.body, 'codice').map((element) => element.text.trim());

/** Asserts a schema-valid WS15 "not ready yet" answer of `service`. */
async function expectNotReady(service: 'pdfReceipt' | 'errorDetail', answer: SoapAnswer) {
  expect(await schemaProblems(validator, `soap:${service}`, answer.text)).toEqual([]);
  expect(findText(answer.body, 'esitoChiamata')).toBe('1');
  expect(codes(answer)).toEqual(['WS15']);
  expect(findText(answer.body, 'descrizione')).toBe('Ricevuta non ancora disponibile');
  expect(findText(answer.body, 'pdf')).toBeUndefined();
  expect(findText(answer.body, 'csv')).toBeUndefined();
}

/**
 * Uploads a file of two documents, one already sent (S017), and processes it: stato 3, with an error
 * detail to give. Returns its protocol.
 */
async function processedUpload(h: Harness, actor: KitActor = MEDICO): Promise<string> {
  const document = (): TestDocument => ({
    vatNumber: actor.vatNumber,
    issueDate: '2026-01-15',
    number: `NR-${++sequence}`,
    patient: h.cf(PATIENTS[0]),
  });
  const sent = document();
  expect((await sync(h, actor, 'insert', sent)).outcome).toBe('0');
  const answer = await upload(h, actor, { zip: fileFor(h, actor, [sent, document()]) });
  const protocol = findText(answer.body, 'protocollo')!;
  await h.admin('POST', '/uploads/process');
  expect((await outcome(h, actor, protocol)).status).toBe(3);
  return protocol;
}

describe('the receipt delay (STS_SIM_RECEIPT_DELAY_MS)', () => {
  it('answers WS15 from the end of processing until the delay has passed, then the receipts', async () => {
    let now = new Date('2026-03-02T10:00:00Z');
    const h = await startSimulator({ processingDelayMs: 60_000, receiptDelayMs: 30_000, clock: () => now });
    try {
      const protocol = await processedUpload(h);
      // EsitoInvii already says processed; the receipts lag.
      await expectNotReady('pdfReceipt', await pdfReceipt(h, MEDICO, protocol));
      await expectNotReady('errorDetail', await errorDetail(h, MEDICO, protocol));
      now = new Date(now.getTime() + 29_999);
      await expectNotReady('pdfReceipt', await pdfReceipt(h, MEDICO, protocol));
      now = new Date(now.getTime() + 1);
      const pdf = await pdfReceipt(h, MEDICO, protocol);
      expect(findText(pdf.body, 'esitoChiamata')).toBe('0');
      expect(Buffer.from(findText(pdf.body, 'pdf')!, 'base64').subarray(0, 5).toString()).toBe('%PDF-');
      const detail = await errorDetail(h, MEDICO, protocol);
      expect(findText(detail.body, 'esitoChiamata')).toBe('0');
      expect(errorCsv(detail).text).toContain('S017');
    } finally {
      await h.close();
    }
  });

  it('defaults to 0 (receipts at once) and can be changed at run time', async () => {
    const h = await startSimulator();
    try {
      expect(((await h.admin('GET', '/settings')).json as { receiptDelayMs: number }).receiptDelayMs).toBe(0);
      const protocol = await processedUpload(h);
      expect(findText((await pdfReceipt(h, MEDICO, protocol)).body, 'esitoChiamata')).toBe('0');

      const changed = await h.admin('PATCH', '/settings', { receiptDelayMs: 3_600_000 });
      expect(changed.json).toMatchObject({ receiptDelayMs: 3_600_000 });
      await expectNotReady('pdfReceipt', await pdfReceipt(h, MEDICO, protocol));
      expect((await h.admin('PATCH', '/settings', { receiptDelayMs: -1 })).status).toBe(400);
    } finally {
      await h.close();
    }
  });
});

describe('the receipt-not-ready fault', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startSimulator();
  });
  afterAll(() => h.close());
  beforeEach(async () => {
    await h.admin('DELETE', '/faults');
  });

  it('answers WS15 to the next N receipt calls for one protocol, then the receipt', async () => {
    const protocol = await processedUpload(h);
    const other = await processedUpload(h);
    const added = await h.admin('POST', '/faults', { kind: 'receipt-not-ready', protocol, count: 3 });
    expect(added.status).toBe(201);

    await expectNotReady('pdfReceipt', await pdfReceipt(h, MEDICO, protocol));
    // Another protocol is not concerned.
    expect(findText((await pdfReceipt(h, MEDICO, other)).body, 'esitoChiamata')).toBe('0');
    await expectNotReady('errorDetail', await errorDetail(h, MEDICO, protocol));
    await expectNotReady('pdfReceipt', await pdfReceipt(h, MEDICO, protocol));
    // Used up: the fault is gone, the receipts come.
    expect((await h.admin('GET', '/faults')).json).toEqual([]);
    expect(findText((await pdfReceipt(h, MEDICO, protocol)).body, 'esitoChiamata')).toBe('0');
    expect(findText((await errorDetail(h, MEDICO, protocol)).body, 'esitoChiamata')).toBe('0');
    // EsitoInvii is never touched by it.
    expect((await outcome(h, MEDICO, protocol)).status).toBe(3);
  });

  it('can be limited to one receipt operation (official or English name) and to one user', async () => {
    const protocol = await processedUpload(h);
    await h.admin('POST', '/faults', { kind: 'receipt-not-ready', operation: 'RicevutaPdf', protocol });
    expect(findText((await errorDetail(h, MEDICO, protocol)).body, 'esitoChiamata')).toBe('0');
    await expectNotReady('pdfReceipt', await pdfReceipt(h, MEDICO, protocol));
    await h.admin('DELETE', '/faults');

    const psicologo = await processedUpload(h, PSICOLOGO);
    await h.admin('POST', '/faults', {
      kind: 'receipt-not-ready',
      operation: 'errorDetail',
      user: PSICOLOGO.user,
    });
    expect(findText((await errorDetail(h, MEDICO, protocol)).body, 'esitoChiamata')).toBe('0');
    await expectNotReady('errorDetail', await errorDetail(h, PSICOLOGO, psicologo));
  });

  it("never hides that a protocol is unknown or another user's: WS96 comes first", async () => {
    const protocol = await processedUpload(h);
    await h.admin('POST', '/faults', { kind: 'receipt-not-ready' });
    expect(codes(await pdfReceipt(h, MEDICO, '99999999999999999'))).toEqual(['WS96']);
    expect(codes(await pdfReceipt(h, PSICOLOGO, protocol))).toEqual(['WS96']);
    await expectNotReady('pdfReceipt', await pdfReceipt(h, MEDICO, protocol));
  });

  it('refuses a spec that does not fit, naming the field', async () => {
    const problems = async (spec: Record<string, unknown>) => {
      const answer = await h.admin('POST', '/faults', spec);
      expect(answer.status).toBe(400);
      return JSON.stringify(answer.json);
    };
    expect(await problems({ kind: 'receipt-not-ready', operation: 'Inserimento' })).toContain('operation');
    expect(await problems({ kind: 'receipt-not-ready', protocol: '123' })).toContain('protocol');
    expect(await problems({ kind: 'http-500', protocol: '99260302000000001' })).toContain('protocol');
    expect((await h.admin('GET', '/faults')).json).toEqual([]);
  });
});
