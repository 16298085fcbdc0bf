import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SaxesParser } from 'saxes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stsKitDir } from '../crypto/sts-kit-dir.ts';
import type { ExpenseDocument } from '../documents/expense-document.ts';
import { inlineMtomResponse } from './soap-transport.ts';
import { createStsClient } from './sts-client.ts';

/**
 * Each request our clients send must have the shape of the kit's SoapUI sample for the same
 * operation: the same elements, in the same namespaces (qualified or not), in the same order.
 * Values differ; elements the sample carries and we leave out must be optional and listed here.
 */

interface Node {
  name: string;
  ns: string;
  children: Node[];
}

function skeleton(xml: string): Node {
  const parser = new SaxesParser({ xmlns: true });
  const root: Node = { name: '#document', ns: '', children: [] };
  const stack: Node[] = [root];
  parser.on('opentag', (tag) => {
    const node = { name: tag.local ?? tag.name, ns: tag.uri ?? '', children: [] };
    stack.at(-1)!.children.push(node);
    stack.push(node);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.write(xml).close();
  return root;
}

const label = (node: Node) => `{${node.ns}}${node.name}`;

/**
 * Walks both trees: our children must appear in the sample's order, in the same namespaces. Elements
 * only the sample has must be in `allowedMissing` (optional ones we leave out); elements only we have
 * must be in `allowedExtra` (fields added to the schema after the sample was written).
 */
function compareShape(
  ours: Node,
  sample: Node,
  allowedMissing: ReadonlySet<string>,
  allowedExtra: ReadonlySet<string>,
  path = '',
): string[] {
  const problems: string[] = [];
  let cursor = 0;
  for (const child of ours.children) {
    const at = sample.children.findIndex((candidate, i) => i >= cursor && label(candidate) === label(child));
    if (at === -1) {
      if (allowedExtra.has(child.name)) continue;
      problems.push(`${path}/${label(child)}: not in the sample at this place`);
      continue;
    }
    for (const skipped of sample.children.slice(cursor, at)) {
      if (!allowedMissing.has(skipped.name))
        problems.push(`${path}/${label(skipped)}: in the sample, missing from ours`);
    }
    if (child.name !== 'documento') {
      problems.push(
        ...compareShape(child, sample.children[at]!, allowedMissing, allowedExtra, `${path}/${child.name}`),
      );
    }
    cursor = at + 1;
  }
  for (const skipped of sample.children.slice(cursor)) {
    if (!allowedMissing.has(skipped.name))
      problems.push(`${path}/${label(skipped)}: in the sample, missing from ours`);
  }
  return problems;
}

const sample = (file: string) => readFileSync(join(stsKitDir(), 'samples/soapui-requests', file), 'utf8');

const captured: { body: string; headers: Record<string, string | string[] | undefined> }[] = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const type = String(request.headers['content-type']);
      const body = type.startsWith('multipart/related')
        ? inlineMtomResponse(raw, type)
        : raw.toString('utf8');
      captured.push({ body, headers: request.headers });
      response.writeHead(500, { 'content-type': 'text/xml' });
      response.end(
        '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body><env:Fault>' +
          '<faultcode>env:Server</faultcode><faultstring>captured</faultstring></env:Fault></env:Body></env:Envelope>',
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const encrypted = (seed: string) => Buffer.from(seed.padEnd(128, '.')).toString('base64');
const pincode = encrypted('pincode');
const sender = { kind: 'professional' as const, taxCode: { encrypted: encrypted('owner') } };

const document: ExpenseDocument = {
  id: { vatNumber: '01201200121', issueDate: '2020-12-23', device: 1, number: '500' },
  operation: 'insert',
  paymentDate: '2020-12-23',
  patient: { kind: 'identified', taxCode: { encrypted: encrypted('patient') } },
  traceablePayment: true,
  documentType: 'invoice',
  lines: [
    { expenseType: 'SR', amount: '25.30', vatRate: '10.00' },
    { expenseType: 'SR', amount: '30.30', vatRate: '10.00' },
  ],
};

async function captureOne(
  send: (client: ReturnType<typeof createStsClient>) => Promise<unknown>,
  options: { optional1?: string } = {},
) {
  const client = createStsClient({
    baseUrl,
    auth: { user: 'PROVAX00X00X000Y', password: 'Salve123' },
    // The kit's identifiers fail check digits; two samples predate the 2021 mandatory fields.
    documentRules: { allowKitTestIdentifiers: true, documentTypeRequired: false },
    ...options,
  });
  const before = captured.length;
  try {
    await send(client);
  } finally {
    client.close();
  }
  expect(captured.length).toBe(before + 1);
  return captured.at(-1)!;
}

/** Like the kit's older samples: 2015, one line, none of the fields added in 2020–2021. */
const document2015 = (operation: 'update' | 'refund', expenseType: 'TK' | 'SR'): ExpenseDocument => ({
  id: { vatNumber: '00123456789', issueDate: '2015-01-02', device: 1, number: '123456781' },
  operation,
  paymentDate: operation === 'refund' ? '2015-01-02' : '2015-01-05',
  patient: { kind: 'identified', taxCode: { encrypted: encrypted('patient') } },
  lines: [
    {
      expenseType,
      expenseTypeFlag: expenseType === 'TK' ? 'emergency-ticket' : 'intramoenia',
      amount: '99.00',
    },
  ],
  ...(operation === 'refund'
    ? { refundedDocumentId: { vatNumber: '00123456789', issueDate: '2015-01-01', device: 1, number: '400' } }
    : {}),
});

const OPTIONAL = new Set(['opzionale1', 'opzionale2', 'opzionale3', 'Header']);
/** A structure sends its office codes with the owner's codice fiscale (the Farmacia samples). */
const pharmacy = {
  kind: 'structure' as const,
  regionCode: '130',
  aslCode: '204',
  ssaCode: '78909',
  taxCode: { encrypted: encrypted('owner') },
};
/** We always state the patient's opposition (0 or 1); the 2015 samples predate the field (DM 19/10/2020). */
const NEWER_FIELDS = new Set(['flagOpposizione']);
const NONE = new Set<string>();

describe('SOAP requests have the shape of the kit samples', () => {
  const cases: [
    string,
    string,
    Set<string>,
    Set<string>,
    (client: ReturnType<typeof createStsClient>) => Promise<unknown>,
  ][] = [
    [
      'inviaFileMtom',
      'Medico__inviaFileMtom__Medico__0.xml',
      OPTIONAL,
      NONE,
      (client) =>
        client.uploadFile({
          fileName: 'provaMedico.zip',
          zip: Buffer.from('PK-not-really'),
          encryptedPincode: pincode,
          owner: { taxCode: 'PROVAX00X00X000Y' },
        }),
    ],
    [
      'EsitoInvii',
      'Medico__EsitoInvii__Medico__0.xml',
      OPTIONAL,
      NONE,
      (client) => client.getOutcomes({ encryptedPincode: pincode, protocol: '15120209572702757' }),
    ],
    [
      'DettaglioErrori',
      'Medico__DettaglioErrori__Medico__0.xml',
      OPTIONAL,
      NONE,
      (client) => client.getErrorDetail({ encryptedPincode: pincode, protocol: '15120209572702757' }),
    ],
    [
      'RicevutaPdf',
      'Medico__RicevutaPdf__Medico__0.xml',
      OPTIONAL,
      NONE,
      (client) => client.getPdfReceipt({ encryptedPincode: pincode, protocol: '15120209572702757' }),
    ],
    [
      'Inserimento',
      'Medico__Inserimento__MedicoNuoviCampi__1.xml',
      new Set([...OPTIONAL, 'flagOpposizione']),
      NONE,
      (client) => client.sendDocument({ encryptedPincode: pincode, sender, document }),
    ],
    [
      'Variazione',
      'Medico__Variazione__Medico__0.xml',
      OPTIONAL,
      NEWER_FIELDS,
      (client) =>
        client.sendDocument({ encryptedPincode: pincode, sender, document: document2015('update', 'TK') }),
    ],
    [
      'Rimborso',
      'Medico__Rimborso__Medico__0.xml',
      OPTIONAL,
      NEWER_FIELDS,
      (client) =>
        client.sendDocument({ encryptedPincode: pincode, sender, document: document2015('refund', 'SR') }),
    ],
    [
      'Cancellazione',
      'Medico__Cancellazione__Medico__0.xml',
      OPTIONAL,
      NONE,
      (client) =>
        client.sendDocument({
          encryptedPincode: pincode,
          sender,
          document: { ...document, operation: 'cancel' },
        }),
    ],
    [
      'InterrogazionePuntuale',
      'Medico__InterrogazionePuntuale__Medico__0.xml',
      OPTIONAL,
      NONE,
      (client) => client.queryDocument({ encryptedPincode: pincode, sender, documentId: document.id }),
    ],
    [
      'ReportMensile',
      'Medico__ReportMensile__Medico__0.xml',
      OPTIONAL,
      NONE,
      (client) => client.getMonthlyReport({ encryptedPincode: pincode, sender, month: '2016-12' }),
    ],
    [
      'DettaglioSegnalazione',
      'Medico__DettaglioSegnalazione__Medico__0.xml',
      OPTIONAL,
      NONE,
      (client) =>
        client.getCitizenReportDetail({ encryptedPincode: pincode, sender, documentId: document.id }),
    ],
    [
      'DettaglioSegnalazione (structure)',
      'Farmacia__DettaglioSegnalazione__FarmaciaAbruzzo__0.xml',
      OPTIONAL,
      NONE,
      (client) =>
        client.getCitizenReportDetail({
          encryptedPincode: pincode,
          sender: pharmacy,
          documentId: document.id,
        }),
    ],
    [
      'ReportSegnalazioni',
      'Medico__ReportSegnalazioni__Medico__0.xml',
      OPTIONAL,
      NONE,
      (client) =>
        client.listCitizenReports({
          encryptedPincode: pincode,
          sender,
          from: '2018-01-01',
          to: '2018-08-31',
        }),
    ],
    [
      'ReportSegnalazioni (structure)',
      'Farmacia__ReportSegnalazioni__FarmaciaAbruzzo__0.xml',
      OPTIONAL,
      NONE,
      (client) =>
        client.listCitizenReports({
          encryptedPincode: pincode,
          sender: pharmacy,
          from: '2018-01-01',
          to: '2018-01-31',
        }),
    ],
  ];

  for (const [operation, file, allowedMissing, allowedExtra, send] of cases) {
    it(operation, async () => {
      const request = await captureOne(send);
      const problems = compareShape(
        skeleton(request.body),
        skeleton(sample(file)),
        allowedMissing,
        allowedExtra,
      );
      expect(problems).toEqual([]);
    });
  }

  it('sends Basic auth pre-emptively, the WSDL SOAPAction, and the zip as an MTOM part', async () => {
    const upload = await captureOne((client) =>
      client.uploadFile({
        fileName: 'provaMedico.zip',
        zip: Buffer.from('zip-bytes'),
        encryptedPincode: pincode,
        owner: { taxCode: 'PROVAX00X00X000Y' },
      }),
    );
    expect(upload.headers.authorization).toBe(
      `Basic ${Buffer.from('PROVAX00X00X000Y:Salve123').toString('base64')}`,
    );
    expect(upload.headers['content-type']).toMatch(/^multipart\/related; type="application\/xop\+xml"/);
    expect(upload.body).toContain(`<documento>${Buffer.from('zip-bytes').toString('base64')}</documento>`);

    const insert = await captureOne((client) =>
      client.sendDocument({ encryptedPincode: pincode, sender, document }),
    );
    expect(insert.headers.soapaction).toBe('"inserimento.documentospesap730.sanita.finanze.it"');
  });

  it('citizen reports: the WSDL SOAPActions, and an Entratel delegate as its kit sample (PIN in clear, opzionale1 last)', async () => {
    const detail = await captureOne((client) =>
      client.getCitizenReportDetail({ encryptedPincode: pincode, sender, documentId: document.id }),
    );
    expect(detail.headers.soapaction).toBe('"dettagliosegnalazione.p730.sanita.finanze.it"');
    const list = await captureOne((client) =>
      client.listCitizenReports({ encryptedPincode: pincode, sender, from: '2018-01-01', to: '2018-01-31' }),
    );
    expect(list.headers.soapaction).toBe('"reportsegnalazioni.p730.sanita.finanze.it"');

    for (const [file, send] of [
      [
        'DelegatoFiscale__DettaglioSegnalazione__DelegatoFiscale__0.xml',
        (client: ReturnType<typeof createStsClient>) =>
          client.getCitizenReportDetail({ encryptedPincode: '4B64AA1D', sender, documentId: document.id }),
      ],
      [
        'DelegatoFiscale__ReportSegnalazioni__DelegatoFiscale__0.xml',
        (client: ReturnType<typeof createStsClient>) =>
          client.listCitizenReports({
            encryptedPincode: '4B64AA1D',
            sender,
            from: '2018-01-01',
            to: '2018-01-31',
          }),
      ],
    ] as const) {
      const request = await captureOne(send, { optional1: '07874631000-000' });
      // Only opzionale2 and opzionale3, empty in the sample, may be missing here.
      const problems = compareShape(
        skeleton(request.body),
        skeleton(sample(file)),
        new Set(['opzionale2', 'opzionale3', 'Header']),
        NONE,
      );
      expect(problems, file).toEqual([]);
      expect(request.body).toMatch(/opzionale1>07874631000-000<\/(\w+:)?opzionale1><\/(\w+:)?\w+Request>/);
    }
  });
});
