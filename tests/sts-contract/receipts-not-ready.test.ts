import { setTimeout as sleep } from 'node:timers/promises';
import {
  createSanitelEncryptor,
  createStsClient,
  createZipArchive,
  type ExpenseDocument,
  encryptPincode,
  encryptTaxCode,
  packPrecompilataFiles,
  parseSanitelCertificate,
  type ReceiptWait,
  type SanitelEncryptor,
  type StsClient,
  type StsResult,
} from '@sts/sts';
import { buildSimulator, type Simulator } from '@sts/sts-simulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KIT_CATEGORIES } from './kit-categories.ts';

/**
 * Issue 10, item 4, over real HTTP: receipts that are not ready yet. The client tells "not ready,
 * ask again later" (with the wait to use, ours) from a final answer, for RicevutaPdf, DettaglioErrori
 * and EsitoInvii; the simulator produces "not ready" with its receipt delay and its
 * `receipt-not-ready` fault (WS15), and WS95 while a file is processed.
 */

let simulator: Simulator;
let baseUrl: string;
let encryptor: SanitelEncryptor;

const MEDICO = KIT_CATEGORIES.find((category) => category.category === 'medico')!;
const PATIENT = 'RSSMRA80A01H501U';
const PROCESSING_DELAY_MS = 30;

beforeAll(async () => {
  simulator = await buildSimulator({
    processingDelayMs: PROCESSING_DELAY_MS,
    validationWorkers: 1,
    calendar: 'relaxed',
  });
  baseUrl = await simulator.app.listen({ host: '127.0.0.1', port: 0 });
  encryptor = createSanitelEncryptor(parseSanitelCertificate(simulator.certificatePem));
});
afterAll(() => simulator.app.close());
beforeEach(async () => {
  await admin('DELETE', 'faults');
  await admin('PATCH', 'settings', { processingDelayMs: PROCESSING_DELAY_MS, receiptDelayMs: 0 });
});

async function admin(method: string, path: string, body?: unknown) {
  const response = await fetch(`${baseUrl}/__admin/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${simulator.adminToken}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  expect(response.status, `${method} ${path}`).toBeLessThan(300);
}

const clientFor = (clock?: () => Date): StsClient =>
  createStsClient({
    baseUrl,
    auth: { user: MEDICO.user, password: MEDICO.password },
    documentRules: { allowKitTestIdentifiers: true },
    ...(clock ? { clock } : {}),
  });
const pincode = () => encryptPincode(encryptor, MEDICO.pincode);

function value<T>(result: StsResult<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.failure)}`);
  return result.value;
}

let documentNumber = 0;
function document(): ExpenseDocument {
  documentNumber += 1;
  return {
    id: { vatNumber: MEDICO.vatNumber, issueDate: '2026-11-02', device: 1, number: `NR-${documentNumber}` },
    operation: 'insert',
    paymentDate: '2026-11-02',
    patient: { kind: 'identified', taxCode: encryptTaxCode(encryptor, PATIENT) },
    traceablePayment: true,
    documentType: 'invoice',
    lines: [{ expenseType: MEDICO.expenseType, amount: '80.00', vatNature: 'N4' }],
  };
}

async function uploadZip(client: StsClient, fileName: string, zip: Buffer): Promise<string> {
  const receipt = value(
    await client.uploadFile({
      fileName,
      zip,
      encryptedPincode: pincode(),
      owner: { taxCode: MEDICO.owner.taxCode },
    }),
  );
  return receipt.protocol;
}

const sender = () => ({
  kind: 'professional' as const,
  taxCode: encryptTaxCode(encryptor, MEDICO.owner.taxCode),
});

/** Packs `documents` into one 730 file and uploads it; returns its protocol. */
async function uploadDocuments(client: StsClient, documents: ExpenseDocument[]): Promise<string> {
  const fileName = `notready${documentNumber}.zip`;
  const files = [];
  for await (const file of packPrecompilataFiles(documents, {
    sender: sender(),
    rules: { allowKitTestIdentifiers: true },
    fileName: () => fileName,
  })) {
    files.push(file);
  }
  expect(files).toHaveLength(1);
  return uploadZip(client, fileName, files[0]!.bytes);
}

/** Uploads two documents, one of them already sent (S017): stato 3, with an error detail. */
async function uploadWithAnError(client: StsClient): Promise<string> {
  const sent = document();
  const answer = value(
    await client.sendDocument({ encryptedPincode: pincode(), sender: sender(), document: sent }),
  );
  expect(answer.outcome).toBe('accepted');
  return uploadDocuments(client, [sent, document()]);
}

/**
 * Asks EsitoInvii as a poller would, counting its asks, until the file is processed; returns the
 * final stato and every "not ready" wait the client gave on the way.
 */
async function outcomeWhenFinal(client: StsClient, protocol: string) {
  const waits: ReceiptWait[] = [];
  for (let attempt = 1; attempt <= 200; attempt++) {
    const answer = value(await client.getOutcomes({ encryptedPincode: pincode(), protocol, attempt }));
    if (!answer.notReady) return { state: answer.uploads[0]!.state, waits };
    expect(answer.stillProcessing).toEqual([protocol]);
    waits.push(answer.wait);
    await sleep(20);
  }
  throw new Error(`upload ${protocol} was never processed`);
}

/**
 * Asks for a receipt until it comes, counting the asks and passing the last known stato, as a
 * receipt job would; returns the receipt and every "not ready" answer before it. `pause` stands in
 * for the wait the client gives (seconds to minutes: too long for a test).
 */
async function askUntilReady<R extends { available: boolean }>(
  ask: (attempt: number) => Promise<StsResult<R>>,
  /** Runs after each "not ready" answer, with how many there have been. */
  onNotReady: (count: number) => Promise<void> = async () => {},
) {
  const notReady: Extract<R, { notReady: true }>[] = [];
  for (let attempt = 1; attempt <= 50; attempt++) {
    const answer = value(await ask(attempt));
    if (answer.available) return { receipt: answer, notReady };
    if (!(answer as { notReady?: boolean }).notReady) throw new Error(`final: ${JSON.stringify(answer)}`);
    notReady.push(answer as Extract<R, { notReady: true }>);
    await onNotReady(notReady.length);
  }
  throw new Error('the receipt never came');
}

const waitsOf = (answers: { wait: ReceiptWait }[]) => answers.map((answer) => answer.wait.retryAfterMs);

describe('a receipt that becomes ready after a few "not ready" answers', () => {
  it('WS15 three times for the PDF and twice for the error CSV (injected for that protocol), then each receipt', async () => {
    const client = clientFor();
    try {
      const protocol = await uploadWithAnError(client);
      const { state } = await outcomeWhenFinal(client, protocol);
      expect(state).toBe(3);
      await admin('POST', 'faults', {
        kind: 'receipt-not-ready',
        protocol,
        operation: 'RicevutaPdf',
        count: 3,
      });
      await admin('POST', 'faults', {
        kind: 'receipt-not-ready',
        protocol,
        operation: 'DettaglioErrori',
        count: 2,
      });

      const pdf = await askUntilReady((attempt) =>
        client.getPdfReceipt({ encryptedPincode: pincode(), protocol, attempt, lastKnownState: state }),
      );
      expect(pdf.notReady.map((answer) => [answer.basis, answer.notices.map((n) => n.code)])).toEqual([
        ['sts-code', ['WS15']],
        ['sts-code', ['WS15']],
        ['sts-code', ['WS15']],
      ]);
      expect(waitsOf(pdf.notReady)).toEqual([5_000, 15_000, 60_000]);
      expect(pdf.receipt.available && pdf.receipt.pdf.subarray(0, 5).toString()).toBe('%PDF-');

      const detail = await askUntilReady((attempt) =>
        client.getErrorDetail({ encryptedPincode: pincode(), protocol, attempt, lastKnownState: state }),
      );
      expect(waitsOf(detail.notReady)).toEqual([5_000, 15_000]);
      expect(detail.notReady.every((answer) => answer.wait.overdue === false)).toBe(true);
      expect(detail.receipt.available && detail.receipt.errors.map((error) => error.code)).toEqual(['S017']);
    } finally {
      client.close();
    }
  });

  it('the receipts lag behind processing (the simulator’s receipt delay): WS15 with growing waits, then the receipt', async () => {
    // A lag longer than the test: the receipts stay "not ready" until the lag is lifted below.
    await admin('PATCH', 'settings', { receiptDelayMs: 3_600_000 });
    const client = clientFor();
    try {
      const protocol = await uploadWithAnError(client);
      const { state } = await outcomeWhenFinal(client, protocol);
      expect(state).toBe(3);
      const pdf = await askUntilReady(
        (attempt) =>
          client.getPdfReceipt({ encryptedPincode: pincode(), protocol, attempt, lastKnownState: state }),
        async (count) => {
          // After three "not ready" answers the STS catches up.
          if (count === 3) await admin('PATCH', 'settings', { receiptDelayMs: 0 });
        },
      );
      expect(pdf.notReady.every((answer) => answer.basis === 'sts-code')).toBe(true);
      expect(waitsOf(pdf.notReady)).toEqual([5_000, 15_000, 60_000]);
      expect(pdf.receipt.available).toBe(true);
      // The delay has passed for the error detail too.
      const detail = value(
        await client.getErrorDetail({ encryptedPincode: pincode(), protocol, lastKnownState: state }),
      );
      expect(detail.available).toBe(true);
    } finally {
      client.close();
    }
  });

  it('while the file is processed: EsitoInvii is "not ready" (stato 0/1), and so are the receipts for a caller who passes that stato (inferred)', async () => {
    await admin('PATCH', 'settings', { processingDelayMs: 600_000 });
    // The client's clock is 10 minutes after the upload: the wait is the one for an upload that old.
    const uploadedAt = new Date();
    const client = clientFor(() => new Date(uploadedAt.getTime() + 10 * 60_000));
    try {
      const protocol = await uploadWithAnError(client);
      const outcome = value(await client.getOutcomes({ encryptedPincode: pincode(), protocol, uploadedAt }));
      expect(outcome.notReady && outcome.wait).toEqual({
        retryAfterMs: 15 * 60_000,
        attempt: 5,
        overdue: false,
      });
      const state = outcome.uploads[0]!.state;
      expect([0, 1]).toContain(state);

      const pdf = value(
        await client.getPdfReceipt({ encryptedPincode: pincode(), protocol, lastKnownState: state }),
      );
      expect(pdf).toMatchObject({ available: false, notReady: true, basis: 'still-processing' });
      const detail = value(
        await client.getErrorDetail({
          encryptedPincode: pincode(),
          protocol,
          attempt: 2,
          uploadedAt,
          lastKnownState: state,
        }),
      );
      expect(detail).toMatchObject({ notReady: true, basis: 'still-processing', wait: { attempt: 5 } });
      // Without the stato, the simulator's own "still processing" code (not an STS one) reads as final.
      expect(value(await client.getPdfReceipt({ encryptedPincode: pincode(), protocol }))).toMatchObject({
        available: false,
        notReady: false,
      });

      await admin('POST', 'uploads/process');
      const processed = value(await client.getOutcomes({ encryptedPincode: pincode(), protocol }));
      expect(processed).toMatchObject({ notReady: false, uploads: [{ state: 3 }] });
      expect(
        value(await client.getPdfReceipt({ encryptedPincode: pincode(), protocol, lastKnownState: 3 }))
          .available,
      ).toBe(true);
    } finally {
      client.close();
    }
  });
});

describe('final answers are never "not ready"', () => {
  it('a rejected file: WS37 on DettaglioErrori is final, even for a caller whose stato is stale', async () => {
    const client = clientFor();
    try {
      const protocol = await uploadZip(
        client,
        'rejected.zip',
        createZipArchive('rejected.xml', Buffer.from('no')),
      );
      const { state } = await outcomeWhenFinal(client, protocol);
      expect(state).toBe(5);
      for (const lastKnownState of [5, 1, undefined]) {
        const detail = value(
          await client.getErrorDetail({
            encryptedPincode: pincode(),
            protocol,
            attempt: 3,
            ...(lastKnownState === undefined ? {} : { lastKnownState }),
          }),
        );
        expect(detail).toEqual({
          available: false,
          notReady: false,
          notices: [{ code: 'WS37', description: 'FILE SCARTATO, CONTROLLARE LA RICEVUTA PDF' }],
        });
      }
      // Its PDF receipt says why.
      expect(value(await client.getPdfReceipt({ encryptedPincode: pincode(), protocol })).available).toBe(
        true,
      );
    } finally {
      client.close();
    }
  });

  it('a protocol that does not exist: WS96, final for every receipt service and EsitoInvii, even with a WS15 fault for any protocol', async () => {
    await admin('POST', 'faults', { kind: 'receipt-not-ready' });
    const client = clientFor();
    const protocol = '99999999999999999';
    try {
      const nothing = [{ code: 'WS96', description: 'LA RICERCA NON HA PRODOTTO RISULTATI' }];
      expect(
        value(await client.getPdfReceipt({ encryptedPincode: pincode(), protocol, attempt: 4 })),
      ).toEqual({
        available: false,
        notReady: false,
        notices: nothing,
      });
      expect(value(await client.getErrorDetail({ encryptedPincode: pincode(), protocol }))).toEqual({
        available: false,
        notReady: false,
        notices: nothing,
      });
      expect(value(await client.getOutcomes({ encryptedPincode: pincode(), protocol }))).toEqual({
        found: false,
        uploads: [],
        notices: nothing,
        notReady: false,
      });
    } finally {
      client.close();
    }
  });

  it('a processed file without errors: no error CSV (WS96), final', async () => {
    const client = clientFor();
    try {
      const protocol = await uploadDocuments(client, [document()]);
      const { state } = await outcomeWhenFinal(client, protocol);
      expect(state).toBe(2);
      const detail = value(
        await client.getErrorDetail({ encryptedPincode: pincode(), protocol, lastKnownState: state }),
      );
      expect(detail).toMatchObject({ available: false, notReady: false, notices: [{ code: 'WS96' }] });
    } finally {
      client.close();
    }
  });
});
