import { readZipArchive } from '@sts/sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  monthlyReportEnvelope,
  pointQueryEnvelope,
  receiptEnvelope,
  type TestDocument,
} from '../../test-support/envelopes.ts';
import {
  errorCsv,
  errorDetail,
  fileFor,
  schemaProblems,
  sync,
  upload,
  waitForOutcome,
} from '../../test-support/flows.ts';
import { findAll, findText, type Harness, startSimulator } from '../../test-support/harness.ts';
import {
  FARMACIA_ABRUZZO,
  INFERMIERE,
  type KitActor,
  MEDICO,
  OTTICO,
  ownerOf,
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
import { MONTHLY_REPORT_HEADER } from './query-handlers.ts';

let h: Harness;
let validator: SchemaValidator;
// Documents received on 2026-02-10 (Rome time), whatever day the tests run.
const clock = () => new Date('2026-02-10T08:30:00Z');

beforeAll(async () => {
  h = await startSimulator({ clock });
  validator = createSchemaValidator({ bundles: loadSchemaBundles(KIT_DIR), workers: 1 });
});
afterAll(async () => {
  await h.close();
  await validator.close();
});

const query = (actor: KitActor, id: TestDocument) =>
  h.soap(
    PATH.pointQuery,
    pointQueryEnvelope({ pincode: h.pin(actor.pincode), owner: ownerOf(actor, h.cf(actor.taxCode)), id }),
    {
      user: actor.user,
      password: actor.password,
    },
  );

describe('InterrogazionePuntuale', () => {
  it('finds a document stored by the single-document service, with totals per tipoSpesa and refunds', async () => {
    const original: TestDocument = {
      vatNumber: MEDICO.vatNumber,
      issueDate: '2026-01-20',
      number: 'Q-1',
      patient: h.cf(PATIENTS[0]),
      lines: [
        { type: 'SR', amount: '100.10', vatNature: 'N4' },
        { type: 'SR', amount: '20.05', vatNature: 'N4' },
        { type: 'AA', amount: '5', vatRate: '22.00' },
      ],
    };
    const inserted = await sync(h, MEDICO, 'insert', original);
    expect(inserted.outcome).toBe('0');
    const refund: TestDocument = {
      ...original,
      number: 'Q-1R',
      issueDate: '2026-01-25',
      refundOf: original,
      lines: [{ type: 'SR', amount: '30', vatNature: 'N4' }],
    };
    expect((await sync(h, MEDICO, 'refund', refund)).outcome).toBe('0');

    const answer = await query(MEDICO, original);
    expect(findText(answer.body, 'esitoChiamata')).toBe('0');
    expect(await schemaProblems(validator, 'soap:pointQuery', answer.text)).toEqual([]);
    const totals = (name: string) =>
      findAll(answer.body, name).map(
        (element) => `${findText(element, 'tipoSpesa')}=${findText(element, 'importo')}`,
      );
    expect(totals('totaliVociSpesa')).toEqual(['SR=120.15', 'AA=5.00']);
    expect(totals('totaliVociSpesaRimborsate')).toEqual(['SR=30.00']);
    expect(findText(answer.body, 'protocollo')).toBe(inserted.protocol);
    expect(findText(answer.body, 'nomeFile')).toBe('SERVIZIO SINCRONO');
    expect(findText(answer.body, 'tipoInvio')).toBe('I');
    expect(findText(answer.body, 'dataInvio')).toBe('2026-02-10');
    expect(findText(answer.body, 'dataPagamento')).toBe('2026-01-20');
    expect(findText(answer.body, 'pIva')).toBe(MEDICO.vatNumber);
    expect(findAll(answer.body, 'codice').map((element) => element.text)).toEqual(['0']);
  });

  it('finds a document stored from a file, with the zip name and the last operation', async () => {
    const document: TestDocument = {
      vatNumber: FARMACIA_ABRUZZO.vatNumber,
      issueDate: '2026-01-05',
      number: 'F-77',
      patient: h.cf(PATIENTS[2]),
      documentType: 'D',
      lines: [{ type: 'FC', amount: '12.40', vatRate: '10.00' }],
    };
    const answer = await upload(h, FARMACIA_ABRUZZO, {
      zip: fileFor(h, FARMACIA_ABRUZZO, [document], 'farmacia01.zip'),
      fileName: 'farmacia01.zip',
    });
    const protocol = findText(answer.body, 'protocollo')!;
    expect(await waitForOutcome(h, FARMACIA_ABRUZZO, protocol)).toMatchObject({ status: 2 });
    expect(
      (
        await sync(h, FARMACIA_ABRUZZO, 'update', {
          ...document,
          lines: [{ type: 'FC', amount: '13.40', vatRate: '10.00' }],
        })
      ).outcome,
    ).toBe('0');

    const found = await query(FARMACIA_ABRUZZO, document);
    expect(findText(found.body, 'tipoInvio')).toBe('V');
    expect(findText(found.body, 'nomeFile')).toBe('SERVIZIO SINCRONO');
    expect(findAll(found.body, 'importo').map((element) => element.text)).toEqual(['13.40']);

    expect((await sync(h, FARMACIA_ABRUZZO, 'cancel', document)).outcome).toBe('0');
    expect(findText((await query(FARMACIA_ABRUZZO, document)).body, 'tipoInvio')).toBe('C');

    const fromFile: TestDocument = { ...document, number: 'F-78' };
    const second = await upload(h, FARMACIA_ABRUZZO, {
      zip: fileFor(h, FARMACIA_ABRUZZO, [fromFile], 'farmacia02.zip'),
      fileName: 'farmacia02.zip',
    });
    await waitForOutcome(h, FARMACIA_ABRUZZO, findText(second.body, 'protocollo')!);
    const byFile = await query(FARMACIA_ABRUZZO, fromFile);
    expect(findText(byFile.body, 'nomeFile')).toBe('farmacia02.zip');
    expect(findText(byFile.body, 'protocollo')).toBe(findText(second.body, 'protocollo'));
  });

  it('answers esitoChiamata 1 with WS96 when there is nothing (the kit sample, unchanged)', async () => {
    const answer = await h.soap(PATH.pointQuery, soapuiSample('Medico__InterrogazionePuntuale__Medico__0'), {
      user: MEDICO.user,
      password: MEDICO.password,
    });
    expect(findText(answer.body, 'esitoChiamata')).toBe('1');
    expect(findText(answer.body, 'codice')).toBe('WS96');
    expect(findText(answer.body, 'descrizione')).toBe('LA RICERCA NON HA PRODOTTO RISULTATI');
    expect(findText(answer.body, 'tipo')).toBe('E');
    expect(await schemaProblems(validator, 'soap:pointQuery', answer.text)).toEqual([]);
  });
});

describe('ReportMensile', () => {
  it('returns a zip with report.csv of the documents received in the month', async () => {
    const document: TestDocument = {
      vatNumber: MEDICO.vatNumber,
      issueDate: '2026-02-01',
      number: 'R-1',
      patient: h.cf(PATIENTS[1]),
      lines: [
        { type: 'SR', amount: '50.00', vatNature: 'N4' },
        { type: 'CT', amount: '7.5', vatNature: 'N4' },
      ],
    };
    const inserted = await sync(h, MEDICO, 'insert', document);
    const answer = await h.soap(
      PATH.monthlyReport,
      monthlyReportEnvelope({
        pincode: h.pin(MEDICO.pincode),
        owner: { taxCode: h.cf(MEDICO.taxCode) },
        yearMonth: '202602',
      }),
      { user: MEDICO.user, password: MEDICO.password },
    );
    expect(findText(answer.body, 'esitoChiamata')).toBe('0');
    expect(await schemaProblems(validator, 'soap:monthlyReport', answer.text)).toEqual([]);
    const { entryName, content } = readZipArchive(Buffer.from(findText(answer.body, 'fileCSV')!, 'base64'));
    expect(entryName).toBe('report.csv');
    const [header, ...rows] = content.toString('latin1').trimEnd().split('\n');
    expect(header).toBe(MONTHLY_REPORT_HEADER);
    expect(rows).toContain(
      `${MEDICO.vatNumber};2026-02-01;1;R-1;2026-02-01;SR;50.00;I;ATTIVO;${inserted.protocol};SERVIZIO SINCRONO;2026-02-10`,
    );
    expect(rows).toContain(
      `${MEDICO.vatNumber};2026-02-01;1;R-1;2026-02-01;CT;7.50;I;ATTIVO;${inserted.protocol};SERVIZIO SINCRONO;2026-02-10`,
    );
  });

  it('answers WS96 for a month without documents (the kit sample asks for 201612)', async () => {
    const answer = await h.soap(PATH.monthlyReport, soapuiSample('Medico__ReportMensile__Medico__0'), {
      user: MEDICO.user,
      password: MEDICO.password,
    });
    expect(findText(answer.body, 'esitoChiamata')).toBe('1');
    expect(findText(answer.body, 'codice')).toBe('WS96');
    expect(await schemaProblems(validator, 'soap:monthlyReport', answer.text)).toEqual([]);
  });
});

describe.each([
  ['Medico', MEDICO],
  ['Psicologo', PSICOLOGO],
  ['Infermiere', INFERMIERE],
  ['Farmacia (structure)', FARMACIA_ABRUZZO],
  ['Ottico (structure)', OTTICO],
  ['Struttura accreditata', STRUTTURA_ACCREDITATA],
])('every receipt and query operation for %s', (_label, actor) => {
  it('upload, EsitoInvii, DettaglioErrori, RicevutaPdf, InterrogazionePuntuale, ReportMensile', async () => {
    const auth = { user: actor.user, password: actor.password };
    const stored: TestDocument = {
      vatNumber: actor.vatNumber,
      issueDate: '2026-01-30',
      number: `CAT-${actor.user}`,
      patient: h.cf(PATIENTS[0]),
      lines: [{ type: 'AA', amount: '15.00', vatRate: '22.00' }],
    };
    const answer = await upload(h, actor, { zip: fileFor(h, actor, [stored, stored]) });
    expect(findText(answer.body, 'codiceEsito')).toBe('000');
    const protocol = findText(answer.body, 'protocollo')!;
    expect(await waitForOutcome(h, actor, protocol)).toMatchObject({
      status: 3,
      sent: 2,
      accepted: 1,
      errors: 1,
    });

    const detail = await errorDetail(h, actor, protocol);
    const [, row] = errorCsv(detail).text.trimEnd().split('\n');
    const office = actor.office
      ? `${actor.office.regionCode};${actor.office.aslCode};${actor.office.ssaCode}`
      : ';;';
    expect(row).toBe(
      `${actor.taxCode};${office};${actor.vatNumber};30/01/2026;1;${stored.number};;;S017;IDENTIFICATIVO DOCUMENTO FISCALE GIA' PRESENTE`,
    );

    const pdf = await h.soap(
      PATH.pdfReceipt,
      receiptEnvelope('RicevutaPdf', { pincode: h.pin(actor.pincode), protocol }),
      auth,
    );
    expect(findText(pdf.body, 'esitoChiamata')).toBe('0');

    const found = await query(actor, stored);
    expect(findText(found.body, 'esitoChiamata')).toBe('0');
    expect(findText(found.body, 'protocollo')).toBe(protocol);

    const report = await h.soap(
      PATH.monthlyReport,
      monthlyReportEnvelope({
        pincode: h.pin(actor.pincode),
        owner: ownerOf(actor, h.cf(actor.taxCode)),
        yearMonth: '202602',
      }),
      auth,
    );
    expect(findText(report.body, 'esitoChiamata')).toBe('0');
    const csv = readZipArchive(Buffer.from(findText(report.body, 'fileCSV')!, 'base64')).content.toString(
      'latin1',
    );
    expect(csv).toContain(
      `${actor.vatNumber};2026-01-30;1;${stored.number};2026-01-30;AA;15.00;I;ATTIVO;${protocol};prova01.zip;2026-02-10`,
    );
  });
});
