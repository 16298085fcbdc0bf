import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDocument } from '../../test-support/envelopes.ts';
import { fileFor, schemaProblems, sync, upload, waitForOutcome } from '../../test-support/flows.ts';
import { findAll, findText, type Harness, startSimulator } from '../../test-support/harness.ts';
import {
  FARMACIA_ABRUZZO,
  INFERMIERE,
  type KitActor,
  MEDICO,
  OTTICO,
  PATH,
  PATIENTS,
  PSICOLOGO,
  STRUTTURA_ACCREDITATA,
} from '../../test-support/kit-actors.ts';
import { KIT_DIR, soapuiSample } from '../../test-support/kit-samples.ts';
import {
  createSchemaValidator,
  loadSchemaBundles,
  type SchemaValidator,
} from '../schema/schema-validator.ts';

let h: Harness;
let validator: SchemaValidator;

beforeAll(async () => {
  h = await startSimulator();
  validator = createSchemaValidator({ bundles: loadSchemaBundles(KIT_DIR), workers: 1 });
});
afterAll(async () => {
  await h.close();
  await validator.close();
});

let sequence = 0;
const document = (actor: KitActor, overrides: Partial<TestDocument> = {}): TestDocument => ({
  vatNumber: actor.vatNumber,
  issueDate: '2025-06-01',
  number: `SD-${++sequence}`,
  patient: h.cf(PATIENTS[1]),
  lines: [{ type: actor === FARMACIA_ABRUZZO ? 'FC' : 'SR', amount: '80.50', vatNature: 'N4' }],
  ...overrides,
});

const expectValid = async (answer: { text: string }) =>
  expect(await schemaProblems(validator, 'soap:singleDocument', answer.text)).toEqual([]);

describe('the kit samples, unchanged', () => {
  it.each([
    ['Medico__Inserimento__MedicoNuoviCampi__1', '0', ['0']],
    ['Medico__Variazione__Medico__0', '1', ['S920']],
    // The sample pairs flagTipoSpesa 1 with SR (1 is for TK only): formally wrong before anything else.
    ['Medico__Rimborso__Medico__0', '1', ['S905']],
    ['Medico__Cancellazione__Medico__0', '1', ['S921']],
  ])('%s answers esitoChiamata %s', async (sample, expectedOutcome, expectedCodes) => {
    const answer = await h.soap(PATH.singleDocument, soapuiSample(sample), {
      user: MEDICO.user,
      password: MEDICO.password,
    });
    expect(answer.status).toBe(200);
    expect(findText(answer.body, 'esitoChiamata')).toBe(expectedOutcome);
    expect(findAll(answer.body, 'codice').map((element) => element.text)).toEqual(expectedCodes);
    await expectValid(answer);
  });
});

describe.each([
  ['Medico', MEDICO],
  ['Psicologo', PSICOLOGO],
  ['Infermiere', INFERMIERE],
  ['Farmacia (structure)', FARMACIA_ABRUZZO],
  ['Ottico (structure)', OTTICO],
  ['Struttura accreditata', STRUTTURA_ACCREDITATA],
])('every operation for %s', (_label, actor) => {
  it('inserts, updates, refunds, cancels the refund, then cancels the original', async () => {
    const original = document(actor);
    const inserted = await sync(h, actor, 'insert', original);
    expect(inserted.outcome).toBe('0');
    expect(inserted.protocol).toMatch(/^99\d{15}$/);
    expect(inserted.codes).toEqual(['0']);
    expect(findText(inserted.body, 'descrizione')).toBe('Operazione eseguita correttamente');
    expect(findText(inserted.body, 'tipo')).toBe('');
    await expectValid(inserted);

    // importo is an xs:double in this service: 90 and 25.3 are fine.
    const updated = await sync(h, actor, 'update', {
      ...original,
      lines: [
        { type: 'SR', amount: '90', vatNature: 'N4' },
        { type: 'SR', amount: '25.3', vatNature: 'N4' },
      ],
    });
    expect(updated.outcome).toBe('0');
    expect(updated.protocol).not.toBe(inserted.protocol);

    const refund = document(actor, { issueDate: '2025-06-10', refundOf: original });
    expect((await sync(h, actor, 'refund', refund)).outcome).toBe('0');

    const blocked = await sync(h, actor, 'cancel', original);
    expect(blocked.outcome).toBe('1');
    expect(blocked.codes).toEqual(['S923']);
    expect(blocked.protocol).toBeUndefined();
    expect((await sync(h, actor, 'update', original)).codes).toEqual(['S923']);

    expect((await sync(h, actor, 'cancel', refund)).outcome).toBe('0');
    const cancelled = await sync(h, actor, 'cancel', original);
    expect(cancelled.outcome).toBe('0');
    await expectValid(cancelled);
  });
});

describe('document rules', () => {
  it('S017 for a document inserted twice, by either path', async () => {
    const first = document(MEDICO);
    expect((await sync(h, MEDICO, 'insert', first)).outcome).toBe('0');
    const again = await sync(h, MEDICO, 'insert', first);
    expect(again.outcome).toBe('1');
    expect(again.codes).toEqual(['S017']);
    expect(findText(again.body, 'descrizione')).toBe("IDENTIFICATIVO DOCUMENTO FISCALE GIA' PRESENTE");
    expect(findText(again.body, 'tipo')).toBe('E');
    await expectValid(again);

    const answer = await upload(h, MEDICO, { zip: fileFor(h, MEDICO, [first]) });
    const processed = await waitForOutcome(h, MEDICO, findText(answer.body, 'protocollo')!);
    expect(processed).toMatchObject({ status: 3, sent: 1, accepted: 0, errors: 1 });
  });

  it('a document inserted by file is found by the single-document service, and vice versa', async () => {
    const byFile = document(MEDICO);
    const answer = await upload(h, MEDICO, { zip: fileFor(h, MEDICO, [byFile]) });
    expect(await waitForOutcome(h, MEDICO, findText(answer.body, 'protocollo')!)).toMatchObject({
      status: 2,
    });
    expect((await sync(h, MEDICO, 'update', byFile)).outcome).toBe('0');

    const bySync = document(MEDICO);
    expect((await sync(h, MEDICO, 'insert', bySync)).outcome).toBe('0');
    const cancel = await upload(h, MEDICO, { zip: fileFor(h, MEDICO, [{ ...bySync, operation: 'C' }]) });
    expect(await waitForOutcome(h, MEDICO, findText(cancel.body, 'protocollo')!)).toMatchObject({
      status: 2,
      accepted: 1,
    });
  });

  it('documents are kept per owner: the same id from another owner is a different document', async () => {
    const shared = document(MEDICO, { vatNumber: '01201200121' });
    expect((await sync(h, MEDICO, 'insert', shared)).outcome).toBe('0');
    expect((await sync(h, PSICOLOGO, 'insert', shared)).outcome).toBe('0');
  });

  it('update and cancellation of an unknown document, refund of an unknown original', async () => {
    const unknown = document(MEDICO);
    expect((await sync(h, MEDICO, 'update', unknown)).codes).toEqual(['S920']);
    expect((await sync(h, MEDICO, 'cancel', unknown)).codes).toEqual(['S921']);
    const refund = await sync(h, MEDICO, 'refund', document(MEDICO, { refundOf: unknown }));
    expect(refund.outcome).toBe('1');
    expect(refund.codes).toEqual(['S922']);
    expect(findText(refund.body, 'descrizione')).toBe(
      'DOCUMENTO ORIGINALE DEL RIMBORSO NON PRESENTE IN ARCHIVIO',
    );
  });

  it('a cancelled document can be inserted again; cancelling it twice is a warning (esitoChiamata 2)', async () => {
    const doc = document(MEDICO);
    await sync(h, MEDICO, 'insert', doc);
    expect((await sync(h, MEDICO, 'cancel', doc)).outcome).toBe('0');
    const twice = await sync(h, MEDICO, 'cancel', doc);
    expect(twice.outcome).toBe('2');
    expect(twice.protocol).toMatch(/^99\d{15}$/);
    expect(twice.codes).toEqual(['W010', '0']);
    expect(findAll(twice.body, 'tipo').map((element) => element.text)).toEqual(['W', '']);
    await expectValid(twice);
    expect((await sync(h, MEDICO, 'update', doc)).codes).toEqual(['S920']);
    expect((await sync(h, MEDICO, 'insert', doc)).outcome).toBe('0');
    expect((await sync(h, MEDICO, 'update', doc)).outcome).toBe('0');
  });

  it('S011 for a patient codice fiscale that does not decrypt or is not well-formed', async () => {
    const garbage = await sync(
      h,
      MEDICO,
      'insert',
      document(MEDICO, { patient: 'bm90IGEgY2lwaGVydGV4dA==' }),
    );
    expect(garbage.codes).toEqual(['S011']);
    expect(findText(garbage.body, 'descrizione')).toBe('IL CF DEL CITTADINO RISULTA FORMALMENTE ERRATO');
    const malformed = await sync(
      h,
      MEDICO,
      'insert',
      document(MEDICO, { patient: h.encryptor.encrypt('RSSMRA80A01') }),
    );
    expect(malformed.codes).toEqual(['S011']);
    const lowerCase = await sync(
      h,
      MEDICO,
      'insert',
      document(MEDICO, { patient: h.encryptor.encrypt('rssmra80a01h501u') }),
    );
    expect(lowerCase.codes).toEqual(['S011']);
  });

  it('maps the business rules of the file to S-codes (all of them, once each)', async () => {
    const answer = await sync(
      h,
      MEDICO,
      'insert',
      document(MEDICO, { traceable: null, documentType: null, lines: [{ type: 'SR', amount: '10' }] }),
    );
    expect(answer.outcome).toBe('1');
    expect(answer.codes).toEqual(['S904', 'S906', 'S907']);
    await expectValid(answer);
  });

  it('accepts an anonymous patient (flagOpposizione 1 without cfCittadino) and refuses one with both', async () => {
    expect((await sync(h, MEDICO, 'insert', document(MEDICO, { patient: null }))).outcome).toBe('0');
    const both = document(MEDICO);
    const answer = await h.soap(
      PATH.singleDocument,
      (await import('../../test-support/envelopes.ts'))
        .syncEnvelope('insert', {
          pincode: h.pin(MEDICO.pincode),
          owner: { taxCode: h.cf(MEDICO.taxCode) },
          document: both,
        })
        .replace('<doc:flagOpposizione>0<', '<doc:flagOpposizione>1<'),
      { user: MEDICO.user, password: MEDICO.password },
    );
    expect(findAll(answer.body, 'codice').map((element) => element.text)).toEqual(['S903']);
  });

  it('answers a wrong pincode and a foreign owner with esitoChiamata 1 and the upload codes', async () => {
    const pin = await sync(h, MEDICO, 'insert', document(MEDICO), { pincode: h.pin('0000000000') });
    expect(pin.outcome).toBe('1');
    expect(pin.codes).toEqual(['104']);
    expect(findText(pin.body, 'descrizione')).toBe('PINCODE ERRATO');
    await expectValid(pin);
    const owner = await sync(h, MEDICO, 'insert', document(MEDICO), {
      owner: { taxCode: h.cf(PSICOLOGO.taxCode) },
    });
    expect(owner.codes).toEqual(['110']);
    const undecryptable = await sync(h, MEDICO, 'insert', document(MEDICO), { owner: { taxCode: 'AAAA' } });
    expect(undecryptable.codes).toEqual(['109']);
  });

  it('answers a schema violation with an env:Client cvc fault (HTTP 500)', async () => {
    const envelope = soapuiSample('Medico__Inserimento__MedicoNuoviCampi__1').replace(
      /<doc:pincode>[^<]*<\/doc:pincode>/,
      '',
    );
    const answer = await h.soap(PATH.singleDocument, envelope, {
      user: MEDICO.user,
      password: MEDICO.password,
    });
    expect(answer.status).toBe(500);
    expect(answer.fault?.code).toBe('env:Client');
    expect(answer.fault?.message).toMatch(
      /^cvc-complex-type\.2\.4\.a: .*Proprietario.*Expected is \( \{http:\/\/documentospesap730\.sanita\.finanze\.it\}pincode \)/,
    );
  });

  it('refuses unqualified children (the mistake of some .NET clients, docs/protocol.md §1.3)', async () => {
    const envelope = soapuiSample('Medico__Cancellazione__Medico__0').replace(
      /<(\/?)doc:(?!cancellazioneDocumentoSpesaRequest)/g,
      '<$1',
    );
    const answer = await h.soap(PATH.singleDocument, envelope, {
      user: MEDICO.user,
      password: MEDICO.password,
    });
    expect(answer.fault?.message).toMatch(/^cvc-complex-type\.2\.4\.a: Element 'opzionale1'/);
  });
});
