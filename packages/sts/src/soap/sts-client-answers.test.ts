import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { vatNumberCheckDigit } from '@sts/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExpenseDocument } from '../documents/expense-document.ts';
import { createZipArchive } from '../files/zip-archive.ts';
import { createStsClient, type StsClient } from './sts-client.ts';

/**
 * How the client reads answers that are not the happy path: pages instead of SOAP, HTTP statuses,
 * the "already present" rejection. A real HTTP server plays each answer.
 */

let answer: { status: number; type: string; body: string } = { status: 200, type: 'text/xml', body: '' };
let server: Server;
let client: StsClient;

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(answer.status, { 'content-type': answer.type });
      response.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = createStsClient({
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    auth: { user: 'PROVAX00X00X000Y', password: 'Salve123' },
    documentRules: { allowKitTestIdentifiers: true },
  });
});
afterAll(() => {
  client.close();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

const pincode = Buffer.alloc(128, 3).toString('base64');
const document: ExpenseDocument = {
  id: { vatNumber: '01201200121', issueDate: '2026-11-02', device: 1, number: 'A-1' },
  operation: 'insert',
  paymentDate: '2026-11-02',
  patient: { kind: 'identified', taxCode: { encrypted: pincode } },
  traceablePayment: true,
  documentType: 'invoice',
  lines: [{ expenseType: 'SR', amount: '10.00', vatNature: 'N4' }],
};
const envelope = (body: string) =>
  `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>${body}</soap:Body></soap:Envelope>`;
/** A DettaglioErrori answer whose zip holds the real CSV header and `rows`. */
function answerErrorDetail(rows: string) {
  const csv =
    'CF PROPRIETARIO; COD REGIONE; COD ASL; COD SSA; PARTITA IVA; DATA EMISSIONE; DOCUMENTO FISCALE DISPOSITIVO; DOCUMENTO FISCALE NUMERO;; TIPO SPESA; CODICE ERRORE; DESCRIZIONE ERRORE\n' +
    rows;
  const zip = createZipArchive('errori-99999999999999999.csv', Buffer.from(csv, 'latin1'));
  answer = {
    status: 200,
    type: 'text/xml',
    body: envelope(
      '<ns2:DettaglioErroriResponse xmlns:ns2="http://dettaglioerrori.p730.sanita.sogei.it/"><DatiOutputRichiesta>' +
        `<esitoChiamata>0</esitoChiamata><esitiPositivi><dettagliEsito><csv>${zip.toString('base64')}</csv></dettagliEsito></esitiPositivi>` +
        '</DatiOutputRichiesta></ns2:DettaglioErroriResponse>',
    ),
  };
}
const upload = () =>
  client.uploadFile({
    fileName: 'answers.zip',
    zip: Buffer.from('zip'),
    encryptedPincode: pincode,
    owner: {},
  });
const query = () => client.getOutcomes({ encryptedPincode: pincode, protocol: '99999999999999999' });

describe('answers that are not SOAP', () => {
  it('a 200 page instead of an envelope: nobody knows if the work was done', async () => {
    answer = { status: 200, type: 'text/html', body: '<html>maintenance</html>' };
    expect(await upload()).toMatchObject({ ok: false, failure: { kind: 'no-answer', code: '200' } });
  });

  it('a 500 page: an upload may have been stored (reconcile), a query may just be asked again', async () => {
    answer = { status: 500, type: 'text/html', body: '<html>Internal Server Error</html>' };
    expect(await upload()).toMatchObject({ ok: false, failure: { kind: 'no-answer', code: '500' } });
    expect(await query()).toMatchObject({ ok: false, failure: { kind: 'transient', status: 500 } });
  });

  it('a 502 from a gateway: no-answer even for a query', async () => {
    answer = { status: 502, type: 'text/html', body: 'Bad Gateway' };
    expect(await query()).toMatchObject({ ok: false, failure: { kind: 'no-answer', code: '502' } });
  });

  it('401 and 403 from the web server are refused logins: the credential stops at once', async () => {
    for (const status of [401, 403]) {
      answer = { status, type: 'text/html', body: 'Unauthorized' };
      expect(await query()).toMatchObject({
        ok: false,
        failure: { kind: 'authentication', reason: `http-${status}` },
      });
    }
  });
});

describe('answers in SOAP', () => {
  it('S017 alone: rejected, and flagged as already present', async () => {
    answer = {
      status: 200,
      type: 'text/xml',
      body: envelope(
        '<ns2:inserimentoDocumentoSpesaResponse xmlns:ns2="http://documentospesap730.sanita.finanze.it">' +
          '<ns2:esitoChiamata>1</ns2:esitoChiamata><ns2:listaMessaggi><ns2:messaggio><ns2:codice>S017</ns2:codice>' +
          "<ns2:descrizione>IDENTIFICATIVO DOCUMENTO FISCALE GIA' PRESENTE</ns2:descrizione><ns2:tipo>E</ns2:tipo>" +
          '</ns2:messaggio></ns2:listaMessaggi></ns2:inserimentoDocumentoSpesaResponse>',
      ),
    };
    const result = await client.sendDocument({ encryptedPincode: pincode, document });
    expect(result).toMatchObject({ ok: true, value: { outcome: 'rejected', alreadyPresent: true } });
  });

  it('a numbered credential code in the messages (104) stops the credential, whatever the service', async () => {
    answer = {
      status: 200,
      type: 'text/xml',
      body: envelope(
        '<ns2:inserimentoDocumentoSpesaResponse xmlns:ns2="http://documentospesap730.sanita.finanze.it">' +
          '<ns2:esitoChiamata>1</ns2:esitoChiamata><ns2:listaMessaggi><ns2:messaggio><ns2:codice>104</ns2:codice>' +
          '<ns2:descrizione>PINCODE ERRATO</ns2:descrizione><ns2:tipo>E</ns2:tipo>' +
          '</ns2:messaggio></ns2:listaMessaggi></ns2:inserimentoDocumentoSpesaResponse>',
      ),
    };
    const result = await client.sendDocument({ encryptedPincode: pincode, document });
    expect(result).toMatchObject({ ok: false, failure: { kind: 'credential', code: '104' } });
  });

  it('an error detail zip with a CSV: its rows, as documents errors', async () => {
    answerErrorDetail('PROVAX00X00X000Y;;;;01201200121;02/11/2026;1;A-1;;SR;S017;GIA PRESENTE\n');
    const result = await client.getErrorDetail({ encryptedPincode: pincode, protocol: '99999999999999999' });
    expect(result).toMatchObject({
      ok: true,
      value: { available: true, errors: [{ number: 'A-1', code: 'S017', issueDate: '2026-11-02' }] },
    });
  });
});

describe('receipt answers', () => {
  const negative = (element: string, ns: string, code: string, description: string) => {
    answer = {
      status: 200,
      type: 'text/xml',
      body: envelope(
        `<ns2:${element} xmlns:ns2="${ns}"><DatiOutputRichiesta><esitoChiamata>1</esitoChiamata>` +
          `<esitiNegativi><dettaglioEsitoNegativo><codice>${code}</codice><descrizione>${description}</descrizione></dettaglioEsitoNegativo></esitiNegativi>` +
          `</DatiOutputRichiesta></ns2:${element}>`,
      ),
    };
  };
  const receiptQuery = { encryptedPincode: pincode, protocol: '99999999999999999' };

  it('WS99 (the STS failed) on a receipt call is a failure to retry, not a final "nothing to give"', async () => {
    negative('RicevutaPdfResponse', 'http://ricevutapdf.p730.sanita.sogei.it/', 'WS99', 'Errore applicativo');
    expect(await client.getPdfReceipt(receiptQuery)).toMatchObject({
      ok: false,
      failure: { kind: 'transient', code: 'WS99' },
    });
    negative(
      'DettaglioErroriResponse',
      'http://dettaglioerrori.p730.sanita.sogei.it/',
      'WS99',
      'Errore applicativo',
    );
    expect(await client.getErrorDetail(receiptQuery)).toMatchObject({
      ok: false,
      failure: { kind: 'transient', code: 'WS99' },
    });
  });

  it('WS37 (a rejected file) stays a final answer', async () => {
    negative(
      'DettaglioErroriResponse',
      'http://dettaglioerrori.p730.sanita.sogei.it/',
      'WS37',
      'FILE SCARTATO, CONTROLLARE LA RICEVUTA PDF',
    );
    expect(await client.getErrorDetail(receiptQuery)).toMatchObject({
      ok: true,
      value: { available: false, notReady: false },
    });
  });
});

describe('citizen-report answers', () => {
  const detailNs = 'http://dettagliosegnalazione.p730.sanita.finanze.it';
  const listNs = 'http://reportsegnalazioni.p730.sanita.finanze.it';
  const sender = { kind: 'professional' as const, taxCode: { encrypted: pincode } };
  const messages = (code: string, description: string, type = 'E') =>
    `<ns2:listaMessaggi><ns2:messaggio><ns2:codice>${code}</ns2:codice><ns2:descrizione>${description}</ns2:descrizione><ns2:tipo>${type}</ns2:tipo></ns2:messaggio></ns2:listaMessaggi>`;
  const answerWith = (element: string, ns: string, content: string) => {
    answer = {
      status: 200,
      type: 'text/xml',
      body: envelope(`<ns2:${element} xmlns:ns2="${ns}">${content}</ns2:${element}>`),
    };
  };
  const detail = () =>
    client.getCitizenReportDetail({ encryptedPincode: pincode, sender, documentId: document.id });
  const list = () =>
    client.listCitizenReports({ encryptedPincode: pincode, sender, from: '2026-01-01', to: '2026-12-31' });

  it('a reported document: its lines with what was reported on them, amounts as decimals', async () => {
    answerWith(
      'dettaglioSegnalazioneResponse',
      detailNs,
      '<ns2:esitoChiamata>0</ns2:esitoChiamata><ns2:documentoFiscale><ns2:protocollo>P-1</ns2:protocollo>' +
        '<ns2:listaSegnalazioniDocumento><ns2:segnalazione>Mai pagato</ns2:segnalazione><ns2:segnalazione>Seconda</ns2:segnalazione></ns2:listaSegnalazioniDocumento>' +
        '<ns2:listaVociSpesa><ns2:tipoSpesa>SR</ns2:tipoSpesa><ns2:importo>1.2E2</ns2:importo><ns2:segnalazioneImporto>IMPORTO ERRATO</ns2:segnalazioneImporto></ns2:listaVociSpesa>' +
        '<ns2:listaVociSpesaRimborsate><ns2:tipoSpesa>SR</ns2:tipoSpesa></ns2:listaVociSpesaRimborsate>' +
        `</ns2:documentoFiscale>${messages('0', 'Operazione eseguita correttamente', '')}`,
    );
    expect(await detail()).toEqual({
      ok: true,
      value: {
        found: true,
        messages: [{ code: '0', description: 'Operazione eseguita correttamente', type: '' }],
        document: {
          protocol: 'P-1',
          reports: ['Mai pagato', 'Seconda'],
          lines: [{ expenseType: 'SR', amount: '120.00', amountReport: 'IMPORTO ERRATO' }],
          refundedLines: [{ expenseType: 'SR' }],
        },
      },
    });
  });

  it('esitoChiamata 1: WS96 is nothing found; another code is a refusal, WS99 one to retry', async () => {
    const refused = (code: string, text: string) =>
      answerWith(
        'dettaglioSegnalazioneResponse',
        detailNs,
        `<ns2:esitoChiamata>1</ns2:esitoChiamata>${messages(code, text)}`,
      );
    refused('WS96', 'LA RICERCA NON HA PRODOTTO RISULTATI');
    expect(await detail()).toMatchObject({ ok: true, value: { found: false, messages: [{ code: 'WS96' }] } });
    refused('WS12', 'UN RIFIUTO MAI VISTO');
    expect(await detail()).toMatchObject({
      ok: false,
      failure: { kind: 'request-rejected', code: 'WS12', description: 'UN RIFIUTO MAI VISTO' },
    });
    refused('WS99', 'Errore applicativo');
    expect(await detail()).toMatchObject({ ok: false, failure: { kind: 'transient', code: 'WS99' } });
    refused('002', 'PINCODE NON DECIFRABILE');
    expect(await detail()).toMatchObject({ ok: false, failure: { kind: 'credential', code: '002' } });
  });

  it('a list sent as a plain CSV (not a zip) is read too; quoted fields and odd rows are kept raw', async () => {
    const csv = 'A;B;C\r\n1;"x;y";3\r\nonly;two\r\n"multi\nline";"say ""hi""";z\r\n';
    answerWith(
      'reportSegnalazioniResponse',
      listNs,
      `<ns2:esitoChiamata>0</ns2:esitoChiamata><ns2:fileCSV>${Buffer.from(csv, 'latin1').toString('base64')}</ns2:fileCSV>${messages('0', 'ok', '')}`,
    );
    const result = await list();
    const file = result.ok && result.value.available ? result.value.file : undefined;
    expect(file?.entryName).toBeUndefined();
    expect(file?.columns).toEqual(['A', 'B', 'C']);
    expect(file?.rows).toEqual([
      { raw: '1;"x;y";3', fields: ['1', 'x;y', '3'], byColumn: { A: '1', B: 'x;y', C: '3' } },
      { raw: 'only;two', fields: ['only', 'two'] },
      {
        raw: '"multi\nline";"say ""hi""";z',
        fields: ['multi\nline', 'say "hi"', 'z'],
        byColumn: { A: 'multi\nline', B: 'say "hi"', C: 'z' },
      },
    ]);
  });

  it('a list whose zip cannot be read: an unexpected answer, not a crash', async () => {
    const broken = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(40, 1)]);
    answerWith(
      'reportSegnalazioniResponse',
      listNs,
      `<ns2:esitoChiamata>0</ns2:esitoChiamata><ns2:fileCSV>${broken.toString('base64')}</ns2:fileCSV>${messages('0', 'ok', '')}`,
    );
    expect(await list()).toMatchObject({
      ok: false,
      failure: { kind: 'request-rejected', code: 'unreadable-citizen-report-list' },
    });
  });
});

describe('pIva in answers keeps its leading zeros', () => {
  // Valid VAT numbers with one and two leading zeros: 01234567897, 00123456782.
  const VAT = `0123456789${vatNumberCheckDigit('0123456789')}`;
  const TWO_ZEROS = `0012345678${vatNumberCheckDigit('0012345678')}`;
  const pointQueryAnswer = (pIvaElement: string) =>
    envelope(
      '<ns2:interrogazionePuntualeResponse xmlns:ns2="http://interrogazionepuntuale.p730.sanita.finanze.it" ' +
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">' +
        '<ns2:esitoChiamata>0</ns2:esitoChiamata><ns2:documentoFiscale><ns2:idDocumentoFiscale>' +
        `${pIvaElement}<ns2:dataEmissione>2026-11-02</ns2:dataEmissione>` +
        '<ns2:numDocumentoFiscale><ns2:dispositivo>1</ns2:dispositivo><ns2:numDocumento>Z-1</ns2:numDocumento></ns2:numDocumentoFiscale>' +
        '</ns2:idDocumentoFiscale><ns2:protocollo>99261102000000001</ns2:protocollo></ns2:documentoFiscale>' +
        '<ns2:listaMessaggi><ns2:messaggio><ns2:codice>0</ns2:codice><ns2:descrizione>Operazione eseguita correttamente</ns2:descrizione><ns2:tipo></ns2:tipo></ns2:messaggio></ns2:listaMessaggi>' +
        '</ns2:interrogazionePuntualeResponse>',
    );

  it.each([
    ['as the schema types it (String11Type)', `<ns2:pIva>${VAT}</ns2:pIva>`],
    // node-soap hands an element with attributes over as { attributes, $value }.
    ['with xsi:type xsd:integer', `<ns2:pIva xsi:type="xsd:integer">${VAT}</ns2:pIva>`],
    ['with xsi:type xsd:long', `<ns2:pIva xsi:type="xsd:long">${VAT}</ns2:pIva>`],
  ])('InterrogazionePuntuale, pIva %s: the document id keeps its zero', async (_how, element) => {
    answer = { status: 200, type: 'text/xml', body: pointQueryAnswer(element) };
    const result = await client.queryDocument({
      encryptedPincode: pincode,
      documentId: { vatNumber: VAT, issueDate: '2026-11-02', device: 1, number: 'Z-1' },
    });
    expect(result.ok && result.value.document?.id).toEqual({
      vatNumber: VAT,
      issueDate: '2026-11-02',
      device: 1,
      number: 'Z-1',
    });
  });

  it('DettaglioErrori: the PARTITA IVA column of the error CSV keeps its zeros', async () => {
    answerErrorDetail(
      `PROVAX00X00X000Y;;;;${VAT};02/11/2026;1;Z-1;;SR;S017;GIA PRESENTE\n` +
        `PROVAX00X00X000Y;;;;${TWO_ZEROS};02/11/2026;1;Z-2;;SR;S017;GIA PRESENTE\n`,
    );
    const result = await client.getErrorDetail({ encryptedPincode: pincode, protocol: '99999999999999999' });
    expect(result.ok && result.value.available && result.value.errors.map((row) => row.vatNumber)).toEqual([
      VAT,
      TWO_ZEROS,
    ]);
  });
});

describe('what never leaves', () => {
  it('a pincode in clear is refused before any request', async () => {
    await expect(client.getOutcomes({ encryptedPincode: '1234567890', protocol: '1' })).rejects.toThrow(
      /pincode must be sent encrypted/,
    );
  });
});
