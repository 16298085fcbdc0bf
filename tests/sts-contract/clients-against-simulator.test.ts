import {
  createSanitelEncryptor,
  createStsClient,
  type EncryptedTaxCode,
  type ExpenseDocument,
  encryptPincode,
  encryptTaxCode,
  packPrecompilataFiles,
  parseSanitelCertificate,
  type SanitelEncryptor,
  type Sender,
  type StsClient,
  type StsResult,
} from '@sts/sts';
import { buildSimulator, type Simulator } from '@sts/sts-simulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KIT_CATEGORIES, type KitCategory } from './kit-categories.ts';

/**
 * Issue 4's contract: over real HTTP, our SOAP clients drive every operation of every service
 * against the simulator, for each kit user category, and every failure the STS can give arrives as
 * its typed result.
 */

let simulator: Simulator;
let baseUrl: string;
let encryptor: SanitelEncryptor;

beforeAll(async () => {
  // Relaxed calendar: these documents' dates must not turn late or closed as the months pass.
  simulator = await buildSimulator({ processingDelayMs: 30, validationWorkers: 1, calendar: 'relaxed' });
  baseUrl = await simulator.app.listen({ host: '127.0.0.1', port: 0 });
  encryptor = createSanitelEncryptor(parseSanitelCertificate(simulator.certificatePem));
});
afterAll(() => simulator.app.close());

const PATIENT = 'RSSMRA80A01H501U';
let documentNumber = 0;

function clientFor(
  category: KitCategory,
  overrides: { password?: string; responseTimeoutMs?: number } = {},
): StsClient {
  return createStsClient({
    baseUrl,
    auth: { user: category.user, password: overrides.password ?? category.password },
    ...(category.entratel ? { optional1: category.entratel.site } : {}),
    documentRules: { allowKitTestIdentifiers: true },
    ...(overrides.responseTimeoutMs ? { responseTimeoutMs: overrides.responseTimeoutMs } : {}),
  });
}

const pincodeOf = (category: KitCategory) =>
  category.entratel ? category.pincode : encryptPincode(encryptor, category.pincode);

function senderOf(category: KitCategory): Sender<EncryptedTaxCode> {
  const taxCode = encryptTaxCode(encryptor, category.owner.taxCode);
  return category.owner.office
    ? { kind: 'structure', ...category.owner.office, taxCode }
    : { kind: 'professional', taxCode };
}

function documentFor(
  category: KitCategory,
  operation: ExpenseDocument['operation'] = 'insert',
): ExpenseDocument {
  documentNumber += 1;
  return {
    id: { vatNumber: category.vatNumber, issueDate: '2026-11-02', device: 1, number: `C-${documentNumber}` },
    operation,
    paymentDate: '2026-11-02',
    patient: { kind: 'identified', taxCode: encryptTaxCode(encryptor, PATIENT) },
    traceablePayment: true,
    documentType: 'invoice',
    lines: [{ expenseType: category.expenseType, amount: '120.50', vatNature: 'N4' }],
  };
}

async function zipOf(category: KitCategory, documents: ExpenseDocument[], fileName: string) {
  const files = [];
  for await (const file of packPrecompilataFiles(documents, {
    sender: senderOf(category),
    rules: { allowKitTestIdentifiers: true },
    fileName: () => fileName,
  })) {
    files.push(file);
  }
  expect(files).toHaveLength(1);
  return files[0]!;
}

function value<T>(result: StsResult<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.failure)}`);
  return result.value;
}

/** Asks EsitoInvii until the upload is processed (bounded: the simulator takes milliseconds). */
async function finalOutcome(client: StsClient, pincode: string, protocol: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const outcome = value(await client.getOutcomes({ encryptedPincode: pincode, protocol }));
    const upload = outcome.uploads.find((u) => u.protocol === protocol);
    if (upload && upload.state >= 2) return upload;
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  throw new Error(`upload ${protocol} was never processed`);
}

const romeMonth = () =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Rome', year: 'numeric', month: '2-digit' }).format(
    new Date(),
  );
const romeDay = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Rome' }).format(new Date());

describe('every operation, for each kit user category', () => {
  for (const category of KIT_CATEGORIES) {
    it(category.category, async () => {
      const client = clientFor(category);
      const pincode = pincodeOf(category);
      const sender = senderOf(category);
      try {
        // Upload (MTOM) → outcome → error detail → PDF receipt.
        const batch = [documentFor(category), documentFor(category)];
        const file = await zipOf(category, batch, `contract${documentNumber}.zip`);
        const receipt = value(
          await client.uploadFile({
            fileName: file.name,
            zip: file.bytes,
            encryptedPincode: pincode,
            owner: { ...(category.owner.office ?? {}), taxCode: category.owner.taxCode },
          }),
        );
        expect(receipt.protocol).toMatch(/^\d{17}$/);
        expect(receipt.sizeBytes).toBe(file.size);
        const outcome = await finalOutcome(client, pincode, receipt.protocol);
        expect(outcome).toMatchObject({ state: 2, sent: 2, accepted: 2, errors: 0 });
        const detail = value(
          await client.getErrorDetail({ encryptedPincode: pincode, protocol: receipt.protocol }),
        );
        expect(detail.available).toBe(false);
        const pdf = value(
          await client.getPdfReceipt({ encryptedPincode: pincode, protocol: receipt.protocol }),
        );
        expect(pdf.available && pdf.pdf.subarray(0, 5).toString()).toBe('%PDF-');
        const byDate = value(
          await client.getOutcomes({ encryptedPincode: pincode, from: romeDay(), to: romeDay() }),
        );
        expect(byDate.uploads.map((u) => u.protocol)).toContain(receipt.protocol);

        // The single-document service: insert, update, refund, cancel.
        const original = documentFor(category);
        const inserted = value(
          await client.sendDocument({ encryptedPincode: pincode, sender, document: original }),
        );
        expect(inserted.outcome).toBe('accepted');
        expect(inserted.protocol).toMatch(/^\d{17}$/);
        const updated = value(
          await client.sendDocument({
            encryptedPincode: pincode,
            sender,
            document: {
              ...original,
              operation: 'update',
              lines: [{ ...original.lines[0]!, amount: '99.90' }],
            },
          }),
        );
        expect(updated.outcome).toBe('accepted');
        const refund = { ...documentFor(category, 'refund'), refundedDocumentId: original.id };
        const refunded = value(
          await client.sendDocument({ encryptedPincode: pincode, sender, document: refund }),
        );
        expect(refunded.outcome).toBe('accepted');

        // InterrogazionePuntuale finds what either path stored.
        const viaSync = value(
          await client.queryDocument({ encryptedPincode: pincode, sender, documentId: original.id }),
        );
        expect(viaSync.found).toBe(true);
        expect(viaSync.document?.totals).toEqual([{ expenseType: category.expenseType, amount: '99.90' }]);
        expect(viaSync.document?.fileName).toBe('SERVIZIO SINCRONO');
        const viaFile = value(
          await client.queryDocument({ encryptedPincode: pincode, sender, documentId: batch[0]!.id }),
        );
        expect(viaFile.document?.fileName).toBe(file.name);
        expect(viaFile.document?.protocol).toBe(receipt.protocol);

        const cancelledRefund = value(
          await client.sendDocument({
            encryptedPincode: pincode,
            sender,
            document: { ...refund, operation: 'cancel' },
          }),
        );
        expect(cancelledRefund.outcome).not.toBe('rejected');
        const cancelled = value(
          await client.sendDocument({
            encryptedPincode: pincode,
            sender,
            document: { ...original, operation: 'cancel' },
          }),
        );
        expect(cancelled.outcome).not.toBe('rejected');

        // ReportMensile: this month's documents.
        const report = value(
          await client.getMonthlyReport({ encryptedPincode: pincode, sender, month: romeMonth() }),
        );
        expect(report.available).toBe(true);
        expect(report.available && report.csv).toContain(original.id.number);
      } finally {
        client.close();
      }
    });
  }
});

const MEDICO = KIT_CATEGORIES.find((c) => c.category === 'medico')!;
const FARMACIA = KIT_CATEGORIES.find((c) => c.category === 'farmacia')!;

async function admin(method: string, path: string, body?: unknown) {
  const response = await fetch(`${baseUrl}/__admin/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${simulator.adminToken}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return {
    status: response.status,
    json: (await response.json().catch(() => undefined)) as Record<string, unknown>,
  };
}

function failure<T>(result: StsResult<T>) {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.failure;
}

describe('every failure gives its typed result', () => {
  beforeEach(async () => {
    await admin('DELETE', 'faults');
    await admin('POST', `users/${FARMACIA.user}/unlock`);
  });

  it('wrong password: an authentication failure', async () => {
    const client = clientFor(MEDICO, { password: 'wrong' });
    const result = await client.getOutcomes({
      encryptedPincode: pincodeOf(MEDICO),
      protocol: '99999999999999999',
    });
    expect(failure(result)).toMatchObject({ kind: 'authentication', reason: 'authentication' });
    client.close();
    await admin('POST', `users/${MEDICO.user}/unlock`);
  });

  it('lockout after 8 wrong passwords: then even the right one is refused as a locked account', async () => {
    const wrong = clientFor(FARMACIA, { password: 'wrong' });
    for (let attempt = 0; attempt < 8; attempt++) {
      expect(
        failure(await wrong.getPdfReceipt({ encryptedPincode: pincodeOf(FARMACIA), protocol: '1' })).kind,
      ).toBe('authentication');
    }
    wrong.close();
    const right = clientFor(FARMACIA);
    const result = await right.getPdfReceipt({ encryptedPincode: pincodeOf(FARMACIA), protocol: '1' });
    expect(failure(result)).toMatchObject({ kind: 'authentication', reason: 'account-locked' });
    right.close();
  });

  it('expired password', async () => {
    const category = KIT_CATEGORIES.find((c) => c.category === 'ottico')!;
    await admin('POST', `users/${category.user}/expire`);
    const client = clientFor(category);
    const result = await client.queryDocument({
      encryptedPincode: pincodeOf(category),
      sender: senderOf(category),
      documentId: documentFor(category).id,
    });
    expect(failure(result)).toMatchObject({ kind: 'authentication', reason: 'password-expired' });
    client.close();
  });

  it('wrong pincode: a credential failure on uploads and on the single-document service', async () => {
    const client = clientFor(MEDICO);
    const wrongPincode = encryptPincode(encryptor, '0000000000');
    const file = await zipOf(MEDICO, [documentFor(MEDICO)], 'wrongpin.zip');
    const upload = await client.uploadFile({
      fileName: file.name,
      zip: file.bytes,
      encryptedPincode: wrongPincode,
      owner: { taxCode: MEDICO.owner.taxCode },
    });
    expect(failure(upload)).toMatchObject({ kind: 'credential', code: '104' });
    const single = await client.sendDocument({
      encryptedPincode: wrongPincode,
      sender: senderOf(MEDICO),
      document: documentFor(MEDICO),
    });
    expect(failure(single)).toMatchObject({ kind: 'credential', code: '104' });
    client.close();
  });

  it('too-big file, broken zip, bad file name: the request is rejected with the official code', async () => {
    const client = clientFor(MEDICO);
    const upload = (fileName: string, zip: Buffer) =>
      client.uploadFile({
        fileName,
        zip,
        encryptedPincode: pincodeOf(MEDICO),
        owner: { taxCode: MEDICO.owner.taxCode },
      });
    expect(failure(await upload('toobig.zip', Buffer.alloc(5 * 1024 * 1024 + 1, 7)))).toMatchObject({
      kind: 'request-rejected',
      code: '108',
    });
    expect(failure(await upload('broken.zip', Buffer.from('this is not a zip')))).toMatchObject({
      kind: 'request-rejected',
      code: '102',
    });
    const file = await zipOf(MEDICO, [documentFor(MEDICO)], 'goodzip.zip');
    expect(failure(await upload('file.xml', file.bytes))).toMatchObject({
      kind: 'request-rejected',
      code: '101',
    });
    client.close();
  });

  it('a schema violation comes back as a cvc- fault, a rejected request', async () => {
    const client = clientFor(MEDICO);
    const file = await zipOf(MEDICO, [documentFor(MEDICO)], 'schema.zip');
    // nomeFileAllegato is \p{IsBasicLatin}{6,60} in the upload XSD.
    const result = await client.uploadFile({
      fileName: `${'x'.repeat(70)}.zip`,
      zip: file.bytes,
      encryptedPincode: pincodeOf(MEDICO),
      owner: { taxCode: MEDICO.owner.taxCode },
    });
    const rejected = failure(result);
    expect(rejected).toMatchObject({ kind: 'request-rejected', code: 'schema-violation' });
    expect(rejected.kind === 'request-rejected' && rejected.description).toMatch(/^cvc-/);
    client.close();
  });

  it('duplicates: the same document twice gets S017, in a file and one by one', async () => {
    const client = clientFor(MEDICO);
    const pincode = pincodeOf(MEDICO);
    const document = documentFor(MEDICO);
    expect(
      value(await client.sendDocument({ encryptedPincode: pincode, sender: senderOf(MEDICO), document }))
        .outcome,
    ).toBe('accepted');
    const again = value(
      await client.sendDocument({ encryptedPincode: pincode, sender: senderOf(MEDICO), document }),
    );
    expect(again.outcome).toBe('rejected');
    expect(again.messages.map((m) => m.code)).toContain('S017');

    const file = await zipOf(MEDICO, [document, documentFor(MEDICO)], 'duplicate.zip');
    const receipt = value(
      await client.uploadFile({
        fileName: file.name,
        zip: file.bytes,
        encryptedPincode: pincode,
        owner: { taxCode: MEDICO.owner.taxCode },
      }),
    );
    const outcome = await finalOutcome(client, pincode, receipt.protocol);
    expect(outcome).toMatchObject({ state: 3, sent: 2, accepted: 1, errors: 1 });
    const detail = value(
      await client.getErrorDetail({ encryptedPincode: pincode, protocol: receipt.protocol }),
    );
    expect(detail.available).toBe(true);
    expect(detail.available && detail.errors).toEqual([
      expect.objectContaining({ number: document.id.number, code: 'S017', issueDate: document.id.issueDate }),
    ]);
    client.close();
  });

  it('injected faults: each gives its typed result', async () => {
    const client = clientFor(MEDICO, { responseTimeoutMs: 300 });
    const pincode = pincodeOf(MEDICO);
    const query = () => client.getOutcomes({ encryptedPincode: pincode, protocol: '99999999999999999' });

    await admin('POST', 'faults', { kind: 'http-500', user: MEDICO.user, count: 1 });
    expect(failure(await query())).toMatchObject({ kind: 'transient' });

    await admin('POST', 'faults', { kind: 'http-503', user: MEDICO.user, count: 1 });
    expect(failure(await query())).toMatchObject({ kind: 'transient', status: 503 });

    await admin('POST', 'faults', { kind: 'reset', user: MEDICO.user, count: 1 });
    expect(failure(await query())).toMatchObject({ kind: 'no-answer' });

    await admin('POST', 'faults', { kind: 'latency', user: MEDICO.user, count: 1, latencyMs: 2_000 });
    expect(failure(await query())).toMatchObject({ kind: 'no-answer', code: 'RESPONSE_TIMEOUT' });

    await admin('POST', 'faults', { kind: 'throttle', user: MEDICO.user, ratePerSecond: 1, status: 429 });
    const throttled = await Promise.all([query(), query(), query()]);
    expect(throttled.filter((r) => !r.ok).map((r) => failure(r))).toContainEqual(
      expect.objectContaining({ kind: 'transient', reason: 'throttled' }),
    );
    await admin('DELETE', 'faults');

    expect(value(await query()).found).toBe(false);
    client.close();
  });

  it('nobody listening: a transient network failure, safe to send again', async () => {
    const client = createStsClient({
      baseUrl: 'http://127.0.0.1:9',
      auth: { user: MEDICO.user, password: MEDICO.password },
    });
    const result = await client.getOutcomes({
      encryptedPincode: pincodeOf(MEDICO),
      protocol: '99999999999999999',
    });
    expect(failure(result)).toMatchObject({ kind: 'transient', reason: 'network' });
    client.close();
  });

  it('answer lost after the work was done: no-answer, and reconciliation finds the document stored exactly once', async () => {
    const client = clientFor(MEDICO);
    const pincode = pincodeOf(MEDICO);
    const document = documentFor(MEDICO);
    await admin('POST', 'faults', { kind: 'lost-answer', user: MEDICO.user, operation: 'insert', count: 1 });
    const lost = await client.sendDocument({ encryptedPincode: pincode, sender: senderOf(MEDICO), document });
    expect(failure(lost).kind).toBe('no-answer');

    const reconciled = value(
      await client.queryDocument({
        encryptedPincode: pincode,
        sender: senderOf(MEDICO),
        documentId: document.id,
      }),
    );
    expect(reconciled.found).toBe(true);
    const { vatNumber, issueDate, device, number } = document.id;
    const counter = await admin(
      'GET',
      `counters/document?vatNumber=${vatNumber}&issueDate=${issueDate}&device=${device}&number=${number}`,
    );
    expect(counter.json).toMatchObject({ stored: 1 });
    client.close();
  });
});

/** The owner as the simulator's admin API names it: a structure by its office, anyone else by codice fiscale. */
const ownerFor = (category: KitCategory) =>
  category.owner.office
    ? {
        office: `${category.owner.office.regionCode}-${category.owner.office.aslCode}-${category.owner.office.ssaCode}`,
      }
    : { taxCode: category.owner.taxCode };

describe('citizen reports (WS_Segnalazioni_Cittadino), for each kit user category', () => {
  // The failures above leave accounts expired or locked: every kit account usable again.
  beforeAll(async () => {
    for (const category of KIT_CATEGORIES) {
      await admin('POST', `users/${category.user}/password`, { password: category.password });
    }
  });

  for (const category of KIT_CATEGORIES) {
    it(category.category, async () => {
      const client = clientFor(category);
      const pincode = pincodeOf(category);
      const sender = senderOf(category);
      try {
        const document = documentFor(category);
        const inserted = value(await client.sendDocument({ encryptedPincode: pincode, sender, document }));
        expect(inserted.outcome).toBe('accepted');

        // Nothing reported yet: not found, nothing in the period.
        const before = value(
          await client.getCitizenReportDetail({ encryptedPincode: pincode, sender, documentId: document.id }),
        );
        expect(before).toMatchObject({ found: false, messages: [{ code: 'WS96' }] });
        expect(
          value(
            await client.listCitizenReports({
              encryptedPincode: pincode,
              sender,
              from: romeDay(),
              to: romeDay(),
            }),
          ),
        ).toMatchObject({ available: false, messages: [{ code: 'WS96' }] });

        const seeded = await admin('POST', 'citizen-reports', {
          owner: ownerFor(category),
          document: document.id,
          reports: ['Non ho mai ricevuto questa prestazione'],
          lines: [{ expenseType: category.expenseType, amountReport: 'IMPORTO NON RICONOSCIUTO' }],
        });
        expect(seeded).toMatchObject({ status: 201, json: { documentHeld: true } });

        const detail = value(
          await client.getCitizenReportDetail({ encryptedPincode: pincode, sender, documentId: document.id }),
        );
        expect(detail).toEqual({
          found: true,
          messages: [{ code: '0', description: 'Operazione eseguita correttamente', type: '' }],
          document: {
            id: document.id,
            paymentDate: document.paymentDate,
            protocol: inserted.protocol,
            fileName: 'SERVIZIO SINCRONO',
            sentOn: romeDay(),
            reports: ['Non ho mai ricevuto questa prestazione'],
            lines: [
              {
                expenseType: category.expenseType,
                amount: '120.50',
                amountReport: 'IMPORTO NON RICONOSCIUTO',
              },
            ],
            refundedLines: [],
          },
        });

        const list = value(
          await client.listCitizenReports({
            encryptedPincode: pincode,
            sender,
            from: romeDay(),
            to: romeDay(),
          }),
        );
        if (!list.available) throw new Error('expected the period’s reports');
        expect(list.file.entryName).toBe('report.csv');
        const rows = list.file.rows.filter(
          (row) => row.byColumn?.['NUMERO DOCUMENTO'] === document.id.number,
        );
        expect(
          rows.map((row) => [row.byColumn?.OGGETTO, row.byColumn?.SEGNALAZIONE, row.byColumn?.IMPORTO]),
        ).toEqual([
          ['DOCUMENTO', 'Non ho mai ricevuto questa prestazione', ''],
          ['VOCE DI SPESA', '', '120.50'],
        ]);
        expect(rows[0]!.raw).toContain(`;${inserted.protocol};`);
      } finally {
        client.close();
      }
    });
  }

  it('refused: another owner (110), a wrong pincode (104), a wrong password, a period the wrong way round (WS94)', async () => {
    const client = clientFor(MEDICO);
    const pincode = pincodeOf(MEDICO);
    const documentId = documentFor(MEDICO).id;
    const psychologist = KIT_CATEGORIES.find((c) => c.category.startsWith('psicologo'))!;
    expect(
      failure(
        await client.getCitizenReportDetail({
          encryptedPincode: pincode,
          sender: senderOf(psychologist),
          documentId,
        }),
      ),
    ).toMatchObject({ kind: 'credential', code: '110' });
    const list = (encryptedPincode: string, from: string, to: string) =>
      client.listCitizenReports({ encryptedPincode, sender: senderOf(MEDICO), from, to });
    expect(
      failure(await list(encryptPincode(encryptor, '0000000000'), '2026-01-01', '2026-12-31')),
    ).toMatchObject({
      kind: 'credential',
      code: '104',
    });
    expect(failure(await list(pincode, '2026-12-31', '2026-01-01'))).toMatchObject({
      kind: 'request-rejected',
      code: 'WS94',
    });
    client.close();

    const wrong = clientFor(MEDICO, { password: 'wrong' });
    expect(
      failure(
        await wrong.getCitizenReportDetail({
          encryptedPincode: pincode,
          sender: senderOf(MEDICO),
          documentId,
        }),
      ),
    ).toMatchObject({ kind: 'authentication', reason: 'authentication' });
    wrong.close();
    await admin('POST', `users/${MEDICO.user}/unlock`);
  });

  it('a report seeded on a document id the simulator does not hold comes back as given', async () => {
    const client = clientFor(FARMACIA);
    const documentId = { vatNumber: '00012345678', issueDate: '2025-12-20', device: 3, number: 'EXT-7' };
    const seeded = await admin('POST', 'citizen-reports', {
      owner: ownerFor(FARMACIA),
      document: documentId,
      filedOn: '2026-02-05',
      refundedLines: [{ expenseType: 'FC', amount: '9.9', amountReport: 'RIMBORSO MAI RICEVUTO' }],
      documentData: { paymentDate: '2025-12-20', protocol: '99251220000000009', fileName: 'farmacia.zip' },
    });
    expect(seeded).toMatchObject({ status: 201, json: { documentHeld: false } });
    const detail = value(
      await client.getCitizenReportDetail({
        encryptedPincode: pincodeOf(FARMACIA),
        sender: senderOf(FARMACIA),
        documentId,
      }),
    );
    expect(detail).toMatchObject({
      found: true,
      document: {
        id: documentId,
        paymentDate: '2025-12-20',
        protocol: '99251220000000009',
        fileName: 'farmacia.zip',
        reports: [],
        lines: [],
        refundedLines: [{ expenseType: 'FC', amount: '9.90', amountReport: 'RIMBORSO MAI RICEVUTO' }],
      },
    });
    const list = value(
      await client.listCitizenReports({
        encryptedPincode: pincodeOf(FARMACIA),
        sender: senderOf(FARMACIA),
        from: '2026-02-01',
        to: '2026-02-28',
      }),
    );
    expect(list.available && list.file.rows.map((row) => row.byColumn?.['NUMERO DOCUMENTO'])).toEqual([
      'EXT-7',
    ]);
    client.close();
  });
});
