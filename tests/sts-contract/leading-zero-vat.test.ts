import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { vatNumberCheckDigit } from '@sts/shared';
import {
  createSanitelEncryptor,
  createStsClient,
  type DocumentId,
  type EncryptedTaxCode,
  type ExpenseDocument,
  encryptPincode,
  encryptTaxCode,
  generateSanitelStandIn,
  packPrecompilataFiles,
  parseSanitelCertificate,
  type Sender,
  type StsClient,
  type StsResult,
} from '@sts/sts';
import { buildSimulator, SERVICES, type Simulator } from '@sts/sts-simulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KIT_CATEGORIES } from './kit-categories.ts';

/**
 * Issue 10, item 6: `pIva` is an `xs:integer` in both the batch and the single-document schemas, so
 * a VAT number's leading zeros are at risk wherever it passes. One with a zero and one with two go
 * through the simulator over real HTTP (upload and single document), and come back with their zeros
 * from every answer that carries them: InterrogazionePuntuale, the error CSV, ReportMensile,
 * DettaglioSegnalazione and ReportSegnalazioni, both as the simulator writes them on the wire and as
 * our SOAP clients parse them; and again after a restart from the state file.
 */

const VAT = `0123456789${vatNumberCheckDigit('0123456789')}`;
const TWO_ZEROS = `0012345678${vatNumberCheckDigit('0012345678')}`;
const MEDICO = KIT_CATEGORIES.find((category) => category.category === 'medico')!;
const PATIENT = 'RSSMRA80A01H501U';
/** How the simulator's archive keys a professional owner. */
const OWNER_KEY = `cf:${MEDICO.owner.taxCode}`;

const dir = mkdtempSync(path.join(tmpdir(), 'leading-zero-vat-'));
const keyPair = generateSanitelStandIn();
const encryptor = createSanitelEncryptor(parseSanitelCertificate(keyPair.certificatePem));
const pincode = encryptPincode(encryptor, MEDICO.pincode);
const ownerTaxCode = encryptTaxCode(encryptor, MEDICO.owner.taxCode);
const sender: Sender<EncryptedTaxCode> = { kind: 'professional', taxCode: ownerTaxCode };

let simulator: Simulator;
let baseUrl: string;
let client: StsClient;

async function start() {
  simulator = await buildSimulator({
    processingDelayMs: 20,
    validationWorkers: 1,
    // Relaxed calendar: these fixed dates must not turn late or closed as the months pass.
    calendar: 'relaxed',
    keyPair,
    stateFile: path.join(dir, 'state.ndjson'),
  });
  baseUrl = await simulator.app.listen({ host: '127.0.0.1', port: 0 });
  client = createStsClient({ baseUrl, auth: { user: MEDICO.user, password: MEDICO.password } });
}
async function stop() {
  client.close();
  await simulator.app.close();
}
beforeAll(start);
afterAll(async () => {
  await stop();
  rmSync(dir, { recursive: true, force: true });
});

function value<T>(result: StsResult<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.failure)}`);
  return result.value;
}

const idOf = (vatNumber: string, number: string): DocumentId => ({
  vatNumber,
  issueDate: '2026-11-02',
  device: 1,
  number,
});
const documentOf = (id: DocumentId): ExpenseDocument => ({
  id,
  operation: 'insert',
  paymentDate: '2026-11-02',
  patient: { kind: 'identified', taxCode: encryptTaxCode(encryptor, PATIENT) },
  traceablePayment: true,
  documentType: 'invoice',
  lines: [{ expenseType: 'SR', amount: '120.50', vatNature: 'N4' }],
});
const SYNC = idOf(VAT, 'ZERO-SYNC');
const FILED = idOf(TWO_ZEROS, 'ZERO-FILE');

const romeDay = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Rome' }).format(new Date());

/** The same InterrogazionePuntuale as the client's, posted by hand: what the simulator writes on the wire. */
async function rawPointQuery(id: DocumentId): Promise<string> {
  const ns = 'http://interrogazionepuntuale.p730.sanita.finanze.it';
  const path = SERVICES.find((service) => service.id === 'pointQuery')!.path;
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'text/xml;charset=UTF-8',
      authorization: `Basic ${Buffer.from(`${MEDICO.user}:${MEDICO.password}`).toString('base64')}`,
    },
    body:
      `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:int="${ns}"><soapenv:Body>` +
      `<int:interrogazionePuntualeRequest><int:pincode>${pincode}</int:pincode>` +
      `<int:Proprietario><int:cfProprietario>${ownerTaxCode.encrypted}</int:cfProprietario></int:Proprietario>` +
      `<int:idDocumentoFiscale><int:pIva>${id.vatNumber}</int:pIva><int:dataEmissione>${id.issueDate}</int:dataEmissione>` +
      `<int:numDocumentoFiscale><int:dispositivo>${id.device}</int:dispositivo><int:numDocumento>${id.number}</int:numDocumento></int:numDocumentoFiscale>` +
      '</int:idDocumentoFiscale></int:interrogazionePuntualeRequest></soapenv:Body></soapenv:Envelope>',
  });
  return response.text();
}

describe('a VAT number with leading zeros through the simulator and the SOAP clients', () => {
  it('is accepted by the single-document service and by an upload', async () => {
    expect(
      value(await client.sendDocument({ encryptedPincode: pincode, sender, document: documentOf(SYNC) })),
    ).toMatchObject({ outcome: 'accepted' });

    // The file holds the new document and the synchronous one again: that one is refused (S017).
    const files = [];
    for await (const file of packPrecompilataFiles([documentOf(FILED), documentOf(SYNC)], {
      sender,
      fileName: () => 'zeros.zip',
    })) {
      files.push(file);
    }
    const receipt = value(
      await client.uploadFile({
        fileName: 'zeros.zip',
        zip: files[0]!.bytes,
        encryptedPincode: pincode,
        owner: { taxCode: MEDICO.owner.taxCode },
      }),
    );
    await simulator.processUploads();
    const outcome = value(
      await client.getOutcomes({ encryptedPincode: pincode, protocol: receipt.protocol }),
    );
    expect(outcome.uploads).toEqual([expect.objectContaining({ sent: 2, accepted: 1, errors: 1 })]);

    // DettaglioErrori: the refused document's row.
    const detail = value(
      await client.getErrorDetail({ encryptedPincode: pincode, protocol: receipt.protocol }),
    );
    expect(detail.available && detail.errors).toEqual([
      expect.objectContaining({ vatNumber: VAT, number: SYNC.number, code: 'S017' }),
    ]);
  });

  it('InterrogazionePuntuale writes it with its zeros, and the client reads them', async () => {
    for (const id of [SYNC, FILED]) {
      expect(await rawPointQuery(id)).toContain(`<ns2:pIva>${id.vatNumber}</ns2:pIva>`);
      const answer = value(await client.queryDocument({ encryptedPincode: pincode, sender, documentId: id }));
      expect(answer.document?.id).toEqual(id);
    }
  });

  it('ReportMensile lists both with their zeros', async () => {
    const month = romeDay().slice(0, 7);
    const report = value(await client.getMonthlyReport({ encryptedPincode: pincode, sender, month }));
    expect(report.available).toBe(true);
    const csv = report.available ? report.csv : '';
    // PARTITA IVA is the first column.
    const vatNumbers = csv
      .trim()
      .split(/\r?\n/)
      .slice(1)
      .map((line) => line.split(';')[0]);
    expect(vatNumbers).toEqual(expect.arrayContaining([VAT, TWO_ZEROS]));
  });

  it('DettaglioSegnalazione and ReportSegnalazioni give it back with its zeros', async () => {
    const seeded = await fetch(`${baseUrl}/__admin/citizen-reports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${simulator.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: MEDICO.user, document: FILED, reports: ['Spesa mai sostenuta'] }),
    });
    expect(seeded.status, await seeded.text()).toBeLessThan(300);
    const detail = value(
      await client.getCitizenReportDetail({ encryptedPincode: pincode, sender, documentId: FILED }),
    );
    expect(detail.found && detail.document.id).toEqual(FILED);
    const list = value(
      await client.listCitizenReports({ encryptedPincode: pincode, sender, from: romeDay(), to: romeDay() }),
    );
    expect(list.available && list.file.rows.map((row) => row.fields)).toEqual([
      expect.arrayContaining([TWO_ZEROS]),
    ]);
  });

  it('the archive keeps it, also after a restart from the state file', async () => {
    expect(simulator.archive.find(OWNER_KEY, SYNC)?.id.vatNumber).toBe(VAT);
    await stop();
    await start();
    expect(simulator.archive.find(OWNER_KEY, FILED)?.id.vatNumber).toBe(TWO_ZEROS);
    const answer = value(await client.queryDocument({ encryptedPincode: pincode, sender, documentId: SYNC }));
    expect(answer.document?.id).toEqual(SYNC);
  });
});
