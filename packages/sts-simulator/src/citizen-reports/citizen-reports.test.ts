import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readZipArchive } from '@sts/sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  citizenReportDetailEnvelope,
  citizenReportListEnvelope,
  type TestDocument,
  type TestDocumentId,
} from '../../test-support/envelopes.ts';
import { schemaProblems, sync } from '../../test-support/flows.ts';
import type { SoapAnswer } from '../../test-support/harness.ts';
import { findAll, findElement, findText, type Harness, startSimulator } from '../../test-support/harness.ts';
import {
  FARMACIA_ABRUZZO,
  type KitActor,
  MEDICO,
  ownerOf,
  PATH,
  PATIENTS,
  PSICOLOGO,
} from '../../test-support/kit-actors.ts';
import { KIT_DIR, soapuiSample } from '../../test-support/kit-samples.ts';
import {
  createSchemaValidator,
  loadSchemaBundles,
  type SchemaValidator,
} from '../schema/schema-validator.ts';
import { loadKitUsers } from '../users/kit-users.ts';
import { CITIZEN_REPORT_LIST_HEADER } from './citizen-report-handlers.ts';

let h: Harness;
let validator: SchemaValidator;
// Reports filed (by default) and documents received on 2026-02-10, Italian time.
const clock = () => new Date('2026-02-10T08:30:00Z');

beforeAll(async () => {
  h = await startSimulator({ clock });
  validator = createSchemaValidator({ bundles: loadSchemaBundles(KIT_DIR), workers: 1 });
});
afterAll(async () => {
  await h.close();
  await validator.close();
});
beforeEach(() => h.sim.reset());

const auth = (actor: KitActor) => ({ user: actor.user, password: actor.password });
const detail = (
  actor: KitActor,
  id: TestDocumentId,
  overrides: { pincode?: string; taxCode?: string } = {},
) =>
  h.soap(
    PATH.citizenReportDetail,
    citizenReportDetailEnvelope({
      pincode: overrides.pincode ?? h.pin(actor.pincode),
      owner: ownerOf(actor, h.cf(overrides.taxCode ?? actor.taxCode)),
      id,
    }),
    auth(actor),
  );
const list = (actor: KitActor, from: string, to: string) =>
  h.soap(
    PATH.citizenReportList,
    citizenReportListEnvelope({
      pincode: h.pin(actor.pincode),
      owner: ownerOf(actor, h.cf(actor.taxCode)),
      from,
      to,
    }),
    auth(actor),
  );
const seed = (report: Record<string, unknown>) => h.admin('POST', '/citizen-reports', report);
const expectValid = async (service: 'citizenReportDetail' | 'citizenReportList', answer: SoapAnswer) =>
  expect(await schemaProblems(validator, `soap:${service}`, answer.text)).toEqual([]);
const codes = (answer: SoapAnswer) => findAll(answer.body, 'codice').map((element) => element.text);
const lines = (answer: SoapAnswer, name: string) =>
  findAll(answer.body, name).map((line) =>
    ['tipoSpesa', 'importo', 'segnalazioneImporto', 'segnalazioneTipoVoceSpesa']
      .map((field) => findText(line, field) ?? '')
      .join('|'),
  );

const held: TestDocument = {
  vatNumber: MEDICO.vatNumber,
  issueDate: '2026-01-20',
  number: 'SEG-1',
  patient: '',
  lines: [
    { type: 'SR', amount: '100.10', vatNature: 'N4' },
    { type: 'SR', amount: '20.05', vatNature: 'N4' },
    { type: 'AA', amount: '5', vatRate: '22.00' },
  ],
};
const idOf = (document: TestDocumentId) => ({
  vatNumber: document.vatNumber,
  issueDate: document.issueDate,
  device: document.device ?? 1,
  number: document.number,
});

describe('DettaglioSegnalazione', () => {
  it('answers a report on a document the simulator holds: its data, the reports, its lines with what was reported', async () => {
    const document = { ...held, patient: h.cf(PATIENTS[0]) };
    const inserted = await sync(h, MEDICO, 'insert', document);
    expect(inserted.outcome).toBe('0');
    const seeded = await seed({
      document: idOf(document),
      reports: ['Non ho mai effettuato questa visita'],
      lines: [{ expenseType: 'SR', amountReport: 'IMPORTO NON CORRISPONDENTE' }],
    });
    expect(seeded.status).toBe(201);
    expect(seeded.json).toMatchObject({
      owner: `cf:${MEDICO.taxCode}`,
      filedOn: '2026-02-10',
      documentHeld: true,
    });
    // A second report on the same document adds to the first.
    await seed({
      username: MEDICO.user,
      document: idOf(document),
      filedOn: '2026-02-11',
      reports: ['Importo; diverso da quello "pagato"'],
      lines: [{ expenseType: 'AA', expenseTypeReport: 'TIPO DI SPESA ERRATO' }],
    });

    const answer = await detail(MEDICO, document);
    expect(answer.status).toBe(200);
    await expectValid('citizenReportDetail', answer);
    expect(findText(answer.body, 'esitoChiamata')).toBe('0');
    expect(codes(answer)).toEqual(['0']);
    expect(findText(answer.body, 'pIva')).toBe(MEDICO.vatNumber);
    expect(findText(answer.body, 'numDocumento')).toBe('SEG-1');
    expect(findText(answer.body, 'dataPagamento')).toBe('2026-01-20');
    expect(findText(answer.body, 'dataInvio')).toBe('2026-02-10');
    expect(findText(answer.body, 'protocollo')).toBe(inserted.protocol);
    expect(findText(answer.body, 'nomeFile')).toBe('SERVIZIO SINCRONO');
    expect(findAll(answer.body, 'segnalazione').map((element) => element.text)).toEqual([
      'Non ho mai effettuato questa visita',
      'Importo; diverso da quello "pagato"',
    ]);
    expect(lines(answer, 'listaVociSpesa')).toEqual([
      'SR|120.15|IMPORTO NON CORRISPONDENTE|',
      'AA|5.00||TIPO DI SPESA ERRATO',
    ]);
    expect(lines(answer, 'listaVociSpesaRimborsate')).toEqual([]);
  });

  it('answers a report on a document id the simulator does not hold, with the data the report gave', async () => {
    const id = { vatNumber: '00012345678', issueDate: '2025-12-01', device: 2, number: 'EXT/9' };
    const seeded = await seed({
      owner: { taxCode: MEDICO.taxCode },
      document: id,
      lines: [{ expenseType: 'SR', amount: '80.5', amountReport: 'MAI PAGATO' }],
      refundedLines: [{ expenseType: 'SR', amount: '10', amountReport: 'RIMBORSO NON RICEVUTO' }],
      documentData: { paymentDate: '2025-12-02', protocol: '99251202000000001', fileName: 'invio.zip' },
    });
    expect(seeded.json).toMatchObject({ documentHeld: false });
    const answer = await detail(MEDICO, id);
    await expectValid('citizenReportDetail', answer);
    expect(findText(answer.body, 'esitoChiamata')).toBe('0');
    expect(findText(answer.body, 'pIva')).toBe('00012345678');
    expect(findText(answer.body, 'dispositivo')).toBe('2');
    expect(findText(answer.body, 'dataPagamento')).toBe('2025-12-02');
    expect(findText(answer.body, 'protocollo')).toBe('99251202000000001');
    expect(findElement(answer.body, 'dataInvio')).toBeUndefined();
    expect(findElement(answer.body, 'listaSegnalazioniDocumento')).toBeUndefined();
    expect(lines(answer, 'listaVociSpesa')).toEqual(['SR|80.50|MAI PAGATO|']);
    expect(lines(answer, 'listaVociSpesaRimborsate')).toEqual(['SR|10.00|RIMBORSO NON RICEVUTO|']);
  });

  it('nothing reported: esitoChiamata 1 with WS96, schema-valid (the kit sample, unchanged)', async () => {
    const answer = await h.soap(
      PATH.citizenReportDetail,
      soapuiSample('Medico__DettaglioSegnalazione__Medico__0'),
      auth(MEDICO),
    );
    await expectValid('citizenReportDetail', answer);
    expect(findText(answer.body, 'esitoChiamata')).toBe('1');
    expect(codes(answer)).toEqual(['WS96']);
    expect(findText(answer.body, 'descrizione')).toBe('LA RICERCA NON HA PRODOTTO RISULTATI');
    expect(findElement(answer.body, 'documentoFiscale')).toBeUndefined();
  });

  it('shows reports only on documents of owners the caller may act for', async () => {
    await seed({ owner: { taxCode: MEDICO.taxCode }, document: idOf(held), reports: ['Non mia'] });
    // Another professional, asking as themselves: nothing of theirs.
    const own = await detail(PSICOLOGO, held);
    expect(codes(own)).toEqual(['WS96']);
    // … or naming the doctor as owner: refused, 110.
    const other = await detail(PSICOLOGO, held, { taxCode: MEDICO.taxCode });
    expect(findText(other.body, 'esitoChiamata')).toBe('1');
    expect(codes(other)).toEqual(['110']);
    await expectValid('citizenReportDetail', other);
    // The doctor with a wrong pincode: 104; with a wrong password: the authentication fault.
    expect(codes(await detail(MEDICO, held, { pincode: h.pin('0000000000') }))).toEqual(['104']);
    const wrongPassword = await h.soap(
      PATH.citizenReportDetail,
      citizenReportDetailEnvelope({
        pincode: h.pin(MEDICO.pincode),
        owner: ownerOf(MEDICO, h.cf(MEDICO.taxCode)),
        id: held,
      }),
      { user: MEDICO.user, password: 'wrong' },
    );
    expect(wrongPassword.fault).toMatchObject({
      code: 'env:Client',
      message: 'Errore generico di autenticazione',
    });
    await h.admin('POST', `/users/${MEDICO.user}/unlock`);
    expect(findText((await detail(MEDICO, held)).body, 'esitoChiamata')).toBe('0');
  });

  it('a delegate sees its delegator’s reports (kit: the category association for the Abruzzo pharmacy)', async () => {
    const pharmacyDocument = {
      vatNumber: FARMACIA_ABRUZZO.vatNumber,
      issueDate: '2026-01-05',
      number: 'F-SEG',
    };
    await seed({
      owner: { office: '130-201-88888' },
      document: idOf(pharmacyDocument),
      reports: ['Farmaco mai acquistato'],
    });
    const delegate: KitActor = {
      user: 'UYIIY4SD',
      password: 'P3FHUTTY',
      pincode: kitPincode('UYIIY4SD'),
      taxCode: 'BBTMRZ54L19H501T',
      vatNumber: FARMACIA_ABRUZZO.vatNumber,
      office: { regionCode: '130', aslCode: '201', ssaCode: '88888' },
    };
    const answer = await detail(delegate, pharmacyDocument);
    expect(findText(answer.body, 'esitoChiamata')).toBe('0');
    expect(findText(answer.body, 'segnalazione')).toBe('Farmaco mai acquistato');
    // The pharmacy's own account is another office (130-204-78909): nothing there.
    expect(codes(await detail(FARMACIA_ABRUZZO, pharmacyDocument))).toEqual(['WS96']);
  });
});

describe('ReportSegnalazioni', () => {
  it('returns a zip with report.csv of the reports filed in the period, one row per thing reported', async () => {
    const document = { ...held, number: 'SEG-2', patient: h.cf(PATIENTS[1]) };
    const inserted = await sync(h, MEDICO, 'insert', document);
    await seed({
      document: idOf(document),
      filedOn: '2026-02-03',
      reports: ['Visita mai fatta; nemmeno "prenotata"'],
      lines: [{ expenseType: 'SR', amountReport: 'IMPORTO ERRATO' }],
    });
    await seed({ document: idOf(document), filedOn: '2026-03-01', reports: ['Fuori periodo'] });

    const answer = await list(MEDICO, '2026-02-01', '2026-02-28');
    await expectValid('citizenReportList', answer);
    expect(findText(answer.body, 'esitoChiamata')).toBe('0');
    expect(codes(answer)).toEqual(['0']);
    const { entryName, content } = readZipArchive(Buffer.from(findText(answer.body, 'fileCSV')!, 'base64'));
    expect(entryName).toBe('report.csv');
    expect(content.toString('latin1').trimEnd().split('\n')).toEqual([
      CITIZEN_REPORT_LIST_HEADER,
      `2026-02-03;${MEDICO.vatNumber};2026-01-20;1;SEG-2;2026-01-20;${inserted.protocol};DOCUMENTO;;;;;"Visita mai fatta; nemmeno ""prenotata"""`,
      `2026-02-03;${MEDICO.vatNumber};2026-01-20;1;SEG-2;2026-01-20;${inserted.protocol};VOCE DI SPESA;SR;120.15;IMPORTO ERRATO;;`,
    ]);
  });

  it('nothing in the period: WS96; a period ending before it starts: WS94 (both schema-valid)', async () => {
    await seed({
      owner: { taxCode: MEDICO.taxCode },
      document: idOf(held),
      filedOn: '2026-02-03',
      reports: ['x'],
    });
    const empty = await list(MEDICO, '2026-01-01', '2026-01-31');
    await expectValid('citizenReportList', empty);
    expect(findText(empty.body, 'esitoChiamata')).toBe('1');
    expect(codes(empty)).toEqual(['WS96']);
    expect(findElement(empty.body, 'fileCSV')).toBeUndefined();
    const reversed = await list(MEDICO, '2026-02-28', '2026-02-01');
    await expectValid('citizenReportList', reversed);
    expect(codes(reversed)).toEqual(['WS94']);
    // Another owner's reports are not in anyone else's list.
    expect(codes(await list(PSICOLOGO, '2026-01-01', '2026-12-31'))).toEqual(['WS96']);
  });

  it('a day no calendar has is refused as a reversed period is (WS94), also without schema validation', async () => {
    // With validation, the XSD's xs:date already refuses 30 February (a Client fault) ...
    expect((await list(MEDICO, '2026-02-01', '2026-02-30')).status).toBe(500);
    // ... without it, the simulator's own check does, instead of comparing the text.
    const unchecked = await startSimulator({ clock, schemaValidation: false });
    try {
      for (const [from, to] of [
        ['2026-02-01', '2026-02-30'],
        ['2026-04-31', '2026-05-31'],
        ['2025-02-29', '2025-03-31'],
        ['2026-01-01', '2026-13-45'],
      ] as const) {
        const answer = await unchecked.soap(
          PATH.citizenReportList,
          citizenReportListEnvelope({
            pincode: unchecked.pin(MEDICO.pincode),
            owner: ownerOf(MEDICO, unchecked.cf(MEDICO.taxCode)),
            from,
            to,
          }),
          auth(MEDICO),
        );
        expect(codes(answer), `${from}..${to}`).toEqual(['WS94']);
      }
    } finally {
      await unchecked.close();
    }
  });
});

/** The kit's pincode ciphertext of a user, as its UtenzeTest file gives it (the simulator knows it). */
function kitPincode(username: string): string {
  const user = loadKitUsers(KIT_DIR).users.find((candidate) => candidate.username === username);
  if (!user) throw new Error(`no kit user ${username}`);
  return typeof user.pincode === 'string' ? user.pincode : '';
}

describe('every kit sample of the citizen-report services, unchanged', () => {
  const kit = loadKitUsers(KIT_DIR);
  const password = (username: string) => {
    const user = kit.users.find((candidate) => candidate.username === username);
    return typeof user?.password === 'string' ? user.password : '';
  };
  // Each SoapUI project's samples with a kit user of its category.
  const samples: [string, string][] = [
    ['Medico', 'PROVAX00X00X000Y'],
    ['AltriProfessionisti', 'MTOMRA66A41G224M'],
    ['Psicologo', 'MTOMRA66A41G224M'],
    ['Infermiere', 'PPRPLT00A01H501I'],
    ['Ostetrica', 'PPRPRN99A41H501N'],
    ['Radiologo', 'QUIQQU98A01H501H'],
    ['Veterinario', 'PNIMRA70A01H501P'],
    ['Farmacia', 'UV386Q5B'],
    ['Parafarmacia', 'AWG7L09T'],
    ['Ottico', 'A9AZOS61'],
    ['StrutturaAccreditata', 'UXN6VMDD'],
    ['StrutturaAutorizzata', 'ASC7Y72S'],
    ['StrutturaAutorizzataVenditaDettaglio', 'A12DZ3UP'],
    ['AssociazioneCategoria', 'UYIIY4SD'],
    ['DelegatoFiscale', 'MSSSMN78C13C773M'],
  ];
  const sampleName = (project: string, operation: string) => {
    const call = project === 'Farmacia' ? 'FarmaciaAbruzzo' : project;
    return `${project}__${operation}__${call}__0`;
  };

  it.each(samples)(
    '%s: both operations answer schema-valid; WS96 with nothing seeded, the report once seeded',
    async (project, user) => {
      const credentials = { user, password: password(user) };
      const detailSample = soapuiSample(sampleName(project, 'DettaglioSegnalazione'));
      const listSample = soapuiSample(sampleName(project, 'ReportSegnalazioni'));
      const prefix = project === 'DelegatoFiscale' ? '/entrate' : '';
      const ask = async (service: 'citizenReportDetail' | 'citizenReportList', sample: string) => {
        const answer = await h.soap(`${prefix}${PATH[service]}`, sample, credentials);
        expect(answer.status, `${project} ${service}`).toBe(200);
        await expectValid(service, answer);
        return answer;
      };
      // The StrutturaAutorizzata report sample names codiceSSA 888888, not its user's 010008 (a kit slip).
      const listOwnerWrong = project === 'StrutturaAutorizzata';
      expect(codes(await ask('citizenReportDetail', detailSample))).toEqual(['WS96']);
      expect(codes(await ask('citizenReportList', listSample))).toEqual([listOwnerWrong ? '110' : 'WS96']);

      const id = {
        vatNumber: /<det:pIva>([^<]+)/.exec(detailSample)![1]!,
        issueDate: /<det:dataEmissione>([^<]+)/.exec(detailSample)![1]!,
        device: Number(/<det:dispositivo>([^<]+)/.exec(detailSample)![1]!),
        number: /<det:numDocumento>([^<]+)/.exec(detailSample)![1]!,
      };
      const seeded = await seed({
        username: user,
        document: id,
        filedOn: '2018-01-15',
        reports: ['Segnalazione di prova'],
      });
      // A delegate's (and the Entratel intermediary's) report goes to its only delegator.
      expect(seeded.status).toBe(201);
      const found = await ask('citizenReportDetail', detailSample);
      expect(findText(found.body, 'esitoChiamata')).toBe('0');
      expect(findText(found.body, 'segnalazione')).toBe('Segnalazione di prova');
      if (!listOwnerWrong) expect(codes(await ask('citizenReportList', listSample))).toEqual(['0']);
    },
  );
});

describe('the admin API', () => {
  it('needs the admin token, names every bad field, and deletes a report', async () => {
    const noToken = await h.admin('POST', '/citizen-reports', { document: idOf(held) }, {});
    expect(noToken.status).toBe(401);
    const bad = await seed({
      document: { vatNumber: '0123456789012', issueDate: '2012-12-31', device: 0, number: 'a b' },
      lines: [{ expenseType: 'sr', amount: '1.234' }],
    });
    expect(bad.status).toBe(400);
    const fields = (bad.json as { errors: { field: string }[] }).errors.map((error) => error.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'document.vatNumber',
        'document.issueDate',
        'document.device',
        'document.number',
        'lines.0.expenseType',
        'lines.0.amount',
      ]),
    );
    const silent = await seed({ owner: { taxCode: MEDICO.taxCode }, document: idOf(held) });
    expect(silent.status).toBe(400);
    const unknownOwner = await seed({ document: idOf(held), reports: ['x'] });
    expect(unknownOwner.status).toBe(400);
    expect((unknownOwner.json as { errors: { field: string }[] }).errors[0]?.field).toBe('owner');
    const outsideLatin1 = await seed({
      owner: { taxCode: MEDICO.taxCode },
      document: idOf(held),
      reports: ['€ 5'],
    });
    expect(outsideLatin1.status).toBe(400);

    const created = await seed({ owner: { taxCode: MEDICO.taxCode }, document: idOf(held), reports: ['x'] });
    const { id } = created.json as { id: string };
    expect((await h.admin('GET', '/citizen-reports')).json).toEqual([expect.objectContaining({ id })]);
    expect((await h.admin('DELETE', `/citizen-reports/${id}`)).status).toBe(204);
    expect((await h.admin('DELETE', `/citizen-reports/${id}`)).status).toBe(404);
    expect(codes(await detail(MEDICO, held))).toEqual(['WS96']);
  });

  it('keeps seeded reports across a restart with a state file; reset forgets them', async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'sim-reports-'));
    const stateFile = path.join(directory, 'state.ndjson');
    const keyPair = { certificatePem: h.sim.certificatePem, privateKeyPem: h.sim.privateKeyPem };
    try {
      const first = await startSimulator({ clock, stateFile, keyPair, schemaValidation: false });
      await first.admin('POST', '/citizen-reports', {
        owner: { taxCode: MEDICO.taxCode },
        document: idOf(held),
        reports: ['Persistente'],
      });
      await first.close();
      const second = await startSimulator({ clock, stateFile, keyPair, schemaValidation: false });
      const ask = () =>
        second.soap(
          PATH.citizenReportDetail,
          citizenReportDetailEnvelope({
            pincode: second.pin(MEDICO.pincode),
            owner: { taxCode: second.cf(MEDICO.taxCode) },
            id: held,
          }),
          auth(MEDICO),
        );
      expect(findText((await ask()).body, 'segnalazione')).toBe('Persistente');
      await second.admin('POST', '/reset');
      expect(codes(await ask())).toEqual(['WS96']);
      await second.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
