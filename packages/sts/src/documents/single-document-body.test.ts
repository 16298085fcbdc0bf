import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestEncryption, type TestEncryption } from '../../test-support/test-encryptor.ts';
import { stsKitDir } from '../crypto/sts-kit-dir.ts';
import { validateAgainstKitSchema } from '../files/xsd-validation.ts';
import type { ExpenseDocument } from './expense-document.ts';
import { buildSingleDocumentRequest, type SingleDocumentHeader } from './single-document-body.ts';
import { InvalidDocumentError } from './validate-document.ts';
import { SINGLE_DOCUMENT } from './xml-names.ts';

const SAMPLES = path.join(stsKitDir(), 'samples/soapui-requests');
/** Shaped like a SanitelCF ciphertext: base64 of one 128-byte RSA block. */
const CIPHERTEXT = Buffer.alloc(128, 0x5a).toString('base64');

/** Every element under the request element as `namespace|path`, in document order, plus leaf texts. */
function elements(xml: string, requestLocalName: string): { paths: string[]; texts: Map<string, string> } {
  const parser = new SaxesParser({ xmlns: true });
  const stack: string[] = [];
  const paths: string[] = [];
  const texts = new Map<string, string>();
  let inside = false;
  let text = '';
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (tag.local === requestLocalName) inside = true;
    if (!inside) return;
    stack.push(tag.local);
    paths.push(`${tag.uri}|${stack.join('/')}`);
    text = '';
  });
  parser.on('text', (t) => {
    text += t;
  });
  parser.on('closetag', (tag: SaxesTagNS) => {
    if (!inside) return;
    if (text.trim() !== '') texts.set(stack.join('/'), text.trim());
    text = '';
    stack.pop();
    if (tag.local === requestLocalName) inside = false;
  });
  parser.write(xml).close();
  return { paths, texts };
}

const sample = (name: string) => readFileSync(path.join(SAMPLES, name), 'utf8');

const header = (extra: Partial<SingleDocumentHeader> = {}): SingleDocumentHeader => ({
  optional1: '',
  optional2: '',
  optional3: '',
  encryptedPincode: CIPHERTEXT,
  sender: { kind: 'professional', taxCode: 'RSSMRA85T10A562S' },
  ...extra,
});

const patient = { kind: 'identified' as const, taxCode: { encrypted: CIPHERTEXT } };

describe('buildSingleDocumentRequest', () => {
  let encryption: TestEncryption;
  beforeAll(() => {
    encryption = createTestEncryption();
  });

  it('insert: same shape as the kit sample with the 2021 fields, every element qualified', async () => {
    const document: ExpenseDocument = {
      id: { vatNumber: '12345678903', issueDate: '2020-12-23', device: 1, number: '500' },
      operation: 'insert',
      paymentDate: '2020-12-23',
      patient,
      traceablePayment: true,
      documentType: 'invoice',
      lines: [
        { expenseType: 'SR', amount: '25.30', vatRate: '10.00' },
        { expenseType: 'SR', amount: '30.30', vatRate: '10.00' },
      ],
    };
    const request = buildSingleDocumentRequest({
      header: header(),
      document,
      encryptor: encryption.encryptor,
    });
    expect(request.requestElement).toBe('inserimentoDocumentoSpesaRequest');
    expect(request.soapAction).toBe('inserimento.documentospesap730.sanita.finanze.it');
    const ours = elements(request.xml, request.requestElement);
    const kit = elements(sample('Medico__Inserimento__MedicoNuoviCampi__1.xml'), request.requestElement);
    expect(ours.paths).toEqual(kit.paths);
    expect(ours.paths.every((p) => p.startsWith(`${SINGLE_DOCUMENT.namespace}|`))).toBe(true);
    // The sender's codice fiscale travels encrypted, decryptable to the normalised value.
    const owner = ours.texts.get(`${request.requestElement}/Proprietario/cfProprietario`)!;
    expect(owner).toHaveLength(172);
    expect(encryption.decrypt(owner)).toBe('RSSMRA85T10A562S');
    expect(ours.texts.get(`${request.requestElement}/idInserimentoDocumentoFiscale/voceSpesa/importo`)).toBe(
      '30.30',
    );
  });

  it('insert by a structure paid in advance: same shape as the pharmacy sample', () => {
    const request = buildSingleDocumentRequest({
      header: {
        encryptedPincode: CIPHERTEXT,
        sender: {
          kind: 'structure',
          regionCode: '130',
          aslCode: '204',
          ssaCode: '78909',
          taxCode: 'RSSMRA85T10A562S',
        },
      },
      document: {
        id: { vatNumber: '12345678903', issueDate: '2020-12-01', device: 1, number: '314' },
        operation: 'insert',
        paymentDate: '2020-12-01',
        paidInAdvance: true,
        patient,
        traceablePayment: true,
        documentType: 'receipt',
        lines: [
          { expenseType: 'TK', amount: '25.30', vatRate: '10.00' },
          { expenseType: 'FV', amount: '5.00', vatRate: '10.00' },
        ],
      },
      encryptor: encryption.encryptor,
    });
    const kit = elements(
      sample('Farmacia__Inserimento__FarmaciaAbruzzoCampiNuovi__1.xml'),
      request.requestElement,
    );
    expect(elements(request.xml, request.requestElement).paths).toEqual(kit.paths);
  });

  it('refund: the ORIGINAL id first, then the refund document, as in the kit sample', () => {
    const request = buildSingleDocumentRequest({
      header: header(),
      document: {
        id: { vatNumber: '12345678903', issueDate: '2015-02-01', device: 1, number: '500' },
        operation: 'refund',
        refundedDocumentId: { vatNumber: '12345678903', issueDate: '2015-01-02', device: 1, number: '400' },
        paymentDate: '2015-02-01',
        patient,
        lines: [{ expenseType: 'TK', expenseTypeFlag: 'emergency-ticket', amount: '10.00' }],
      },
      encryptor: encryption.encryptor,
      rules: { documentTypeRequired: false },
    });
    expect(request.soapAction).toBe('rimborso.documentospesap730.sanita.finanze.it');
    const ours = elements(request.xml, request.requestElement);
    const kit = elements(sample('Medico__Rimborso__Medico__0.xml'), request.requestElement);
    // We always write flagOpposizione (0 here); the 2015 sample predates the field.
    expect(ours.paths.filter((p) => !p.endsWith('/flagOpposizione'))).toEqual(kit.paths);
    expect(
      ours.texts.get(
        'rimborsoDocumentoSpesaRequest/idRimborsoDocumentoFiscale/numDocumentoFiscale/numDocumento',
      ),
    ).toBe('400');
    expect(
      ours.texts.get('rimborsoDocumentoSpesaRequest/DocumentoSpesa/idSpesa/numDocumentoFiscale/numDocumento'),
    ).toBe('500');
  });

  it('update: same shape as the kit sample', () => {
    const request = buildSingleDocumentRequest({
      header: header(),
      document: {
        id: { vatNumber: '12345678903', issueDate: '2015-01-02', device: 1, number: '123456781' },
        operation: 'update',
        paymentDate: '2015-01-05',
        patient,
        lines: [{ expenseType: 'TK', expenseTypeFlag: 'emergency-ticket', amount: '99.00' }],
      },
      encryptor: encryption.encryptor,
      rules: { documentTypeRequired: false },
    });
    expect(request.requestElement).toBe('variazioneDocumentoSpesaRequest');
    const kit = elements(sample('Medico__Variazione__Medico__0.xml'), request.requestElement);
    const ours = elements(request.xml, request.requestElement).paths.filter(
      (p) => !p.endsWith('/flagOpposizione'),
    );
    expect(ours).toEqual(kit.paths);
  });

  it('cancel: only the document id, as in the kit sample', () => {
    const request = buildSingleDocumentRequest({
      header: header(),
      // A cancellation needs only a valid id; the rest of the document is not sent nor checked.
      document: {
        id: { vatNumber: '12345678903', issueDate: '2015-01-02', device: 1, number: '123456789' },
        operation: 'cancel',
        paymentDate: '2015-01-02',
        patient: { kind: 'opposed' },
        lines: [],
      },
      encryptor: encryption.encryptor,
    });
    expect(request.soapAction).toBe('cancellazione.documentospesap730.sanita.finanze.it');
    const kit = elements(sample('Medico__Cancellazione__Medico__0.xml'), request.requestElement);
    expect(elements(request.xml, request.requestElement).paths).toEqual(kit.paths);
  });

  it('opposition: no cfCittadino, flagOpposizione 1 after the lines', () => {
    const request = buildSingleDocumentRequest({
      header: { encryptedPincode: CIPHERTEXT },
      document: {
        id: { vatNumber: '12345678903', issueDate: '2025-01-02', device: 1, number: '1' },
        operation: 'insert',
        paymentDate: '2025-01-02',
        patient: { kind: 'opposed' },
        traceablePayment: false,
        documentType: 'invoice',
        lines: [{ expenseType: 'SP', amount: '80.00', vatNature: 'N4' }],
      },
    });
    const { paths, texts } = elements(request.xml, request.requestElement);
    const local = paths.map((p) => p.split('|')[1]!.split('/').slice(1).join('/'));
    expect(local).not.toContain('idInserimentoDocumentoFiscale/cfCittadino');
    expect(local).not.toContain('Proprietario');
    expect(local.slice(-4)).toEqual([
      'idInserimentoDocumentoFiscale/voceSpesa/naturaIVA',
      'idInserimentoDocumentoFiscale/pagamentoTracciato',
      'idInserimentoDocumentoFiscale/tipoDocumento',
      'idInserimentoDocumentoFiscale/flagOpposizione',
    ]);
    expect(texts.get('inserimentoDocumentoSpesaRequest/idInserimentoDocumentoFiscale/flagOpposizione')).toBe(
      '1',
    );
  });

  it('refuses an invalid document before writing anything', () => {
    expect(() =>
      buildSingleDocumentRequest({
        header: header(),
        document: {
          id: { vatNumber: '12345678903', issueDate: '2025-01-02', device: 1, number: '1' },
          operation: 'refund',
          paymentDate: '2025-01-02',
          patient,
          traceablePayment: true,
          documentType: 'invoice',
          lines: [{ expenseType: 'SR', amount: '80.00', vatNature: 'N4' }],
        },
        encryptor: encryption.encryptor,
      }),
    ).toThrow(InvalidDocumentError);
  });

  it('the kit samples and our requests all pass DocumentoSpesa730pSchema.xsd; a broken one does not', async () => {
    const kitRequests = [
      'Medico__Inserimento__MedicoNuoviCampi__1.xml',
      'Medico__Inserimento__Medico__0.xml',
      'Medico__Rimborso__Medico__0.xml',
      'Medico__Variazione__Medico__0.xml',
      'Medico__Cancellazione__Medico__0.xml',
      'Farmacia__Inserimento__FarmaciaAbruzzoCampiNuovi__1.xml',
    ].map((name) => {
      const xml = sample(name);
      const body = xml.slice(
        xml.indexOf('<soapenv:Body>') + '<soapenv:Body>'.length,
        xml.indexOf('</soapenv:Body>'),
      );
      // The sample's request element uses the prefix declared on the envelope.
      const request = body.replace(/<doc:(\w+Request)>/, `<doc:$1 xmlns:doc="${SINGLE_DOCUMENT.namespace}">`);
      return { fileName: name, contents: request };
    });
    const base: ExpenseDocument = {
      id: { vatNumber: '12345678903', issueDate: '2025-01-02', device: 999, number: 'a/b\\c-d_e.f' },
      operation: 'insert',
      paymentDate: '2025-01-03',
      patient,
      traceablePayment: true,
      documentType: 'invoice',
      lines: [{ expenseType: 'SR', expenseTypeFlag: 'intramoenia', amount: '99999.99', vatNature: 'N2.2' }],
    };
    const ours = (['insert', 'update', 'refund', 'cancel'] as const).map((operation) => {
      const document: ExpenseDocument =
        operation === 'refund'
          ? {
              ...base,
              operation,
              paymentDate: base.id.issueDate,
              refundedDocumentId: { ...base.id, number: '1' },
            }
          : { ...base, operation };
      const { xml } = buildSingleDocumentRequest({
        header: header({ optional1: 'x&y' }),
        document,
        encryptor: encryption.encryptor,
      });
      return { fileName: `${operation}.xml`, contents: xml };
    });
    const result = await validateAgainstKitSchema('singleDocument', [...kitRequests, ...ours]);
    expect(result.problems).toEqual([]);
    expect(result.valid).toBe(true);

    const broken = ours[0]!.contents
      .replace('<doc:pincode>', '<doc:pinCode>')
      .replace('</doc:pincode>', '</doc:pinCode>');
    const rejected = await validateAgainstKitSchema('singleDocument', {
      fileName: 'broken.xml',
      contents: broken,
    });
    expect(rejected.valid).toBe(false);
    expect(rejected.problems[0]?.message).toMatch(/pinCode/);
  });
});
