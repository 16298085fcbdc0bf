import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createSanitelEncryptor,
  createZipArchive,
  encryptPincode,
  generateSanitelStandIn,
  parseSanitelCertificate,
} from '@sts/sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  mtomRequest,
  precompilataXml,
  precompilataZip,
  receiptEnvelope,
  uploadEnvelope,
} from '../../test-support/envelopes.ts';
import {
  errorCsv,
  errorDetail,
  fileFor,
  outcome,
  schemaProblems,
  upload,
  waitForOutcome,
} from '../../test-support/flows.ts';
import { findText, type Harness, startSimulator } from '../../test-support/harness.ts';
import {
  FARMACIA_ABRUZZO,
  INFERMIERE,
  MEDICO,
  OTTICO,
  PATH,
  PATIENTS,
  PSICOLOGO,
} from '../../test-support/kit-actors.ts';
import { KIT_DIR, kitAttachment, soapuiSample } from '../../test-support/kit-samples.ts';
import { readPdf } from '../../test-support/pdf-text.ts';
import { ERROR_DETAIL_CSV_HEADER } from '../receipts/error-detail-handler.ts';
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

const code = (answer: { body: Parameters<typeof findText>[0] }) => findText(answer.body, 'codiceEsito');
let sequence = 0;
const nextNumber = () => `UP${++sequence}`;
const document = (overrides: Partial<Parameters<typeof precompilataXml>[1][number]> = {}, harness = h) => ({
  vatNumber: MEDICO.vatNumber,
  issueDate: '2025-05-10',
  number: nextNumber(),
  patient: harness.cf(PATIENTS[0]),
  ...overrides,
});

describe('inviaFileMtom with the kit samples', () => {
  it('accepts the Medico sample unchanged (SoapUI cid text, kit ciphertexts) and processes it to stato 2', async () => {
    const zip = kitAttachment('SoggettoMedico/730Medico-soapui-project.xml', 'provaMedico.zip');
    const message = mtomRequest(soapuiSample('Medico__inviaFileMtom__Medico__0'), [
      { contentId: 'provaMedico.zip', bytes: zip },
    ]);
    const answer = await h.soap(PATH.upload, message.body, {
      user: MEDICO.user,
      password: MEDICO.password,
      contentType: message.contentType,
    });

    expect(answer.status).toBe(200);
    expect(code(answer)).toBe('000');
    expect(findText(answer.body, 'descrizioneEsito')).toBe(
      "Il file è in attesa di elaborazione, per conoscerne l'esito è necessario verificare la ricevuta",
    );
    const protocol = findText(answer.body, 'protocollo')!;
    expect(protocol).toMatch(/^99\d{15}$/);
    const received = findText(answer.body, 'dataAccoglienza')!;
    expect(received).toMatch(/^\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}$/);
    // Test-environment protocols: 99 + yyMMdd of the reception (docs/protocol.md §1.4).
    expect(protocol.slice(2, 8)).toBe(
      `${received.slice(8, 10)}${received.slice(3, 5)}${received.slice(0, 2)}`,
    );
    expect(findText(answer.body, 'dimensioneFileAllegato')).toBe(String(zip.length));
    expect(findText(answer.body, 'nomeFileAllegato')).toBe('provaMedico.zip');
    expect(await schemaProblems(validator, 'soap:upload', answer.text)).toEqual([]);

    const processed = await waitForOutcome(h, MEDICO, protocol);
    expect(processed).toMatchObject({ status: 2, sent: 1, accepted: 1, warnings: 0, errors: 0 });
    expect(await schemaProblems(validator, 'soap:outcome', processed.answer.text)).toEqual([]);
  });

  it.each([
    [
      'Farmacia (structure)',
      'Farmacia__inviaFileMtom__FarmaciaAbruzzo__0',
      'SoggettoFarmacia/730Farmacia-soapui-project.xml',
      'provaSSA.zip',
      FARMACIA_ABRUZZO.user,
      FARMACIA_ABRUZZO.password,
    ],
    [
      'Delegato fiscale (Entratel, plain PIN)',
      'DelegatoFiscale__inviaFileMtom__DelegatoFiscale__0',
      'Delegati/DelegatoFiscale/InvioPerContoDelSoggettoMedico/730DelegatoFiscale-soapui-project.xml',
      'provaMedicoDelegatoFiscale.zip',
      'MSSSMN78C13C773M',
      'sotcat00',
    ],
    [
      'Associazione di categoria (delegate)',
      'AssociazioneCategoria__inviaFileMtom__AssociazioneCategoria__0',
      'Delegati/DelegatoAssociazioneCategoria/730AssociazioneCategoria-soapui-project.xml',
      'provaFarmaciaDelega.zip',
      'UYIIY4SD',
      'P3FHUTTY',
    ],
  ])('accepts the %s sample unchanged', async (_label, sample, project, attachment, user, password) => {
    const message = mtomRequest(soapuiSample(sample), [
      { contentId: attachment, bytes: kitAttachment(project, attachment) },
    ]);
    const answer = await h.soap(PATH.upload, message.body, {
      user,
      password,
      contentType: message.contentType,
    });
    expect(code(answer)).toBe('000');
  });

  it.each([
    ['Psicologo', PSICOLOGO, 'SoggettoPsicologo/730Psicologo-soapui-project.xml', 'psicologo.zip'],
    ['Infermiere', INFERMIERE, 'SoggettoInfermiere/730Infermiere-soapui-project.xml', 'infermiere.zip'],
    ['Ottico (structure)', OTTICO, 'SoggettoOttico/730Ottico-soapui-project.xml', 'otticoI.zip'],
  ])(
    'processes the %s kit file, sent with the kit pincode ciphertext',
    async (_label, actor, project, attachment) => {
      const kitPincode = /Pincode cifrato: (\S+)/.exec(
        readFileSync(
          path.join(
            KIT_DIR,
            'kit730P_ver_20201218',
            project.replace(/\/[^/]+$/, ''),
            `UtenzeTest${project.split('/')[0]!.replace('Soggetto', '')}.txt`,
          ),
          'latin1',
        ),
      )![1]!;
      const answer = await upload(h, actor, {
        zip: kitAttachment(project, attachment),
        fileName: attachment,
        pincode: kitPincode,
      });
      expect(code(answer)).toBe('000');
      const processed = await waitForOutcome(h, actor, findText(answer.body, 'protocollo')!);
      expect(processed.status).toBe(2);
    },
  );
});

describe('inviaFileMtom transports', () => {
  it.each(['xop', 'cid-text', 'inline-base64'] as const)('receives the zip sent as %s', async (transport) => {
    const zip = fileFor(h, MEDICO, [document()]);
    const answer = await upload(h, MEDICO, { zip, transport });
    expect(code(answer)).toBe('000');
    expect(findText(answer.body, 'dimensioneFileAllegato')).toBe(String(zip.length));
    const processed = await waitForOutcome(h, MEDICO, findText(answer.body, 'protocollo')!);
    expect(processed).toMatchObject({ status: 2, sent: 1, accepted: 1 });
  });
});

describe('inviaFileMtom reception codes', () => {
  const expectCode = async (answer: Awaited<ReturnType<typeof upload>>, expected: string) => {
    expect(answer.status).toBe(200);
    expect(code(answer)).toBe(expected);
    expect(findText(answer.body, 'protocollo')).toBe('');
    expect(findText(answer.body, 'idErrore')).not.toBe('');
    expect(await schemaProblems(validator, 'soap:upload', answer.text)).toEqual([]);
  };

  it('101 for a name that does not end in .zip', async () => {
    await expectCode(
      await upload(h, MEDICO, { zip: fileFor(h, MEDICO, [document()]), fileName: 'prova01.xml' }),
      '101',
    );
  });

  it('108 for an attachment over 5 MB', async () => {
    // Random bytes do not compress: the zip stays over the limit.
    const big = createZipArchive('big.xml', randomBytes(5 * 1024 * 1024 + 1024));
    expect(big.length).toBeGreaterThan(5 * 1024 * 1024);
    await expectCode(await upload(h, MEDICO, { zip: big, fileName: 'big.zip' }), '108');
  });

  it('102 for an attachment that is not a zip', async () => {
    await expectCode(await upload(h, MEDICO, { zip: Buffer.from('this is not a zip file at all') }), '102');
  });

  it('102 for a truncated zip', async () => {
    const zip = fileFor(h, MEDICO, [document()]);
    await expectCode(await upload(h, MEDICO, { zip: zip.subarray(0, zip.length - 30) }), '102');
  });

  it('102 for a small zip whose file inflates beyond the limit (zip bomb)', async () => {
    // 80 MiB of blanks deflate to some 80 KB; the default limit is 64 MiB.
    const bomb = createZipArchive('bomb.xml', Buffer.alloc(80 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    await expectCode(await upload(h, MEDICO, { zip: bomb, fileName: 'bomb.zip' }), '102');
  });

  it('103 for an empty attachment', async () => {
    await expectCode(await upload(h, MEDICO, { zip: Buffer.alloc(0) }), '103');
  });

  it('104 for the pincode of someone else', async () => {
    await expectCode(
      await upload(h, MEDICO, { zip: fileFor(h, MEDICO, [document()]), pincode: h.pin('9999999999') }),
      '104',
    );
  });

  it('002 for a pincode encrypted with another certificate', async () => {
    const other = createSanitelEncryptor(parseSanitelCertificate(generateSanitelStandIn().certificatePem));
    await expectCode(
      await upload(h, MEDICO, {
        zip: fileFor(h, MEDICO, [document()]),
        pincode: encryptPincode(other, MEDICO.pincode),
      }),
      '002',
    );
  });

  it('002 for a pincode sent in clear', async () => {
    await expectCode(
      await upload(h, MEDICO, { zip: fileFor(h, MEDICO, [document()]), pincode: MEDICO.pincode }),
      '002',
    );
  });

  it("110 when the clear cfProprietario is not the user's", async () => {
    await expectCode(
      await upload(h, MEDICO, {
        zip: fileFor(h, MEDICO, [document()]),
        owner: { taxCode: PSICOLOGO.taxCode },
      }),
      '110',
    );
  });

  it('010 when the cfProprietario inside the file differs from the one in the request', async () => {
    const zip = precompilataZip(
      'prova01.zip',
      precompilataXml({ taxCode: h.cf(PSICOLOGO.taxCode) }, [document()]),
    );
    await expectCode(await upload(h, MEDICO, { zip }), '010');
  });

  it('109 for partial structure codes', async () => {
    const zip = fileFor(h, FARMACIA_ABRUZZO, [document()]);
    await expectCode(
      await upload(h, FARMACIA_ABRUZZO, {
        zip,
        owner: { regionCode: '130', taxCode: FARMACIA_ABRUZZO.taxCode },
      }),
      '109',
    );
  });

  describe('delegates and Entratel intermediaries', () => {
    const sample = () => soapuiSample('DelegatoFiscale__inviaFileMtom__DelegatoFiscale__0');
    const project =
      'Delegati/DelegatoFiscale/InvioPerContoDelSoggettoMedico/730DelegatoFiscale-soapui-project.xml';
    const send = async (envelope: string) => {
      const zip = kitAttachment(project, 'provaMedicoDelegatoFiscale.zip');
      const message = mtomRequest(envelope, [{ contentId: 'provaMedicoDelegatoFiscale.zip', bytes: zip }]);
      return h.soap(PATH.upload, message.body, {
        user: 'MSSSMN78C13C773M',
        password: 'sotcat00',
        contentType: message.contentType,
      });
    };

    it('113 for a wrong Entratel PIN (sent in clear)', async () => {
      await expectCode(await send(sample().replace('>4B64AA1D<', '>4B64AA1E<')), '113');
    });

    it('114 for an opzionale1 that is not the intermediary’s site', async () => {
      await expectCode(await send(sample().replace('>07874631000-000<', '>07874631000-001<')), '114');
    });

    it('105 for an owner the delegate has no delegation for', async () => {
      await expectCode(await send(sample().replace('>FBNFBA62S28H501F<', `>${MEDICO.taxCode}<`)), '105');
    });
  });

  it('answers a schema violation with a cvc- fault, before looking at the file', async () => {
    // The example of IndicazioniTecniche p.2: datiProprietario where pincodeInvianteCifrato belongs.
    const envelope = uploadEnvelope({
      fileName: 'prova01.zip',
      pincode: h.pin(MEDICO.pincode),
      owner: { taxCode: MEDICO.taxCode },
      document: '',
    }).replace(/<pincodeInvianteCifrato>[^<]*<\/pincodeInvianteCifrato>/, '');
    const answer = await h.soap(PATH.upload, envelope, { user: MEDICO.user, password: MEDICO.password });
    expect(answer.status).toBe(500);
    expect(answer.fault?.code).toBe('env:Client');
    expect(answer.fault?.message).toMatch(
      /^cvc-complex-type\.2\.4\.a: Element 'datiProprietario': This element is not expected\. Expected is \( pincodeInvianteCifrato \)/,
    );
    expect(answer.text).toContain('xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"');
  });

  it('reports an unresolvable cid: reference as not base64 (cvc fault)', async () => {
    const envelope = uploadEnvelope({
      fileName: 'prova01.zip',
      pincode: h.pin(MEDICO.pincode),
      owner: { taxCode: MEDICO.taxCode },
      document: 'cid:missing.zip',
    });
    const answer = await h.soap(PATH.upload, envelope, { user: MEDICO.user, password: MEDICO.password });
    expect(answer.fault?.message).toMatch(/^cvc-datatype-valid\.1\.2\.1: .*base64Binary/);
  });
});

describe('processing and receipts', () => {
  it('goes from stato 0 to 2 as time passes, with counts', async () => {
    const slow = await startSimulator({ processingDelayMs: 60_000 });
    try {
      const answer = await upload(slow, MEDICO, {
        zip: fileFor(slow, MEDICO, [document({}, slow), document({}, slow)]),
      });
      const protocol = findText(answer.body, 'protocollo')!;
      expect(await outcome(slow, MEDICO, protocol)).toMatchObject({ status: 0, sent: 0, accepted: 0 });
      const pdf = await slow.soap(
        PATH.pdfReceipt,
        receiptEnvelope('RicevutaPdf', { pincode: slow.pin(MEDICO.pincode), protocol }),
        { user: MEDICO.user, password: MEDICO.password },
      );
      expect(findText(pdf.body, 'esitoChiamata')).toBe('1');
      expect(findText(pdf.body, 'codice')).toBe('WS95');
      await slow.admin('POST', '/uploads/process');
      expect(await outcome(slow, MEDICO, protocol)).toMatchObject({
        status: 2,
        sent: 2,
        accepted: 2,
        warnings: 0,
        errors: 0,
      });
      const detail = await errorDetail(slow, MEDICO, protocol);
      expect(findText(detail.body, 'esitoChiamata')).toBe('1');
      expect(findText(detail.body, 'codice')).toBe('WS96');
    } finally {
      await slow.close();
    }
  });

  it('reports stato 1 once half the processing time has passed', async () => {
    let now = new Date('2026-03-02T10:00:00Z');
    const clocked = await startSimulator({ processingDelayMs: 60_000, clock: () => now });
    try {
      const answer = await upload(clocked, MEDICO, {
        zip: fileFor(clocked, MEDICO, [document({}, clocked)]),
      });
      const protocol = findText(answer.body, 'protocollo')!;
      expect(protocol.slice(0, 8)).toBe('99260302');
      expect((await outcome(clocked, MEDICO, protocol)).status).toBe(0);
      now = new Date('2026-03-02T10:00:40Z');
      expect((await outcome(clocked, MEDICO, protocol)).status).toBe(1);
    } finally {
      await clocked.close();
    }
  });

  it('rejects a file that is not valid against 730_precompilata.xsd with stato 5, WS37 and a PDF saying why', async () => {
    const xml = precompilataXml({ taxCode: h.cf(MEDICO.taxCode) }, [document()]).replace(
      /<voceSpesa>.*?<\/voceSpesa>/,
      '',
    );
    const answer = await upload(h, MEDICO, { zip: precompilataZip('prova01.zip', xml) });
    expect(code(answer)).toBe('000');
    const protocol = findText(answer.body, 'protocollo')!;
    expect(await waitForOutcome(h, MEDICO, protocol)).toMatchObject({
      status: 5,
      sent: 0,
      accepted: 0,
      warnings: 0,
      errors: 0,
    });
    const processed = await outcome(h, MEDICO, protocol);
    expect(findText(processed.answer.body, 'descrizione')).toBe('File scartato in fase di Elaborazione');

    const detail = await errorDetail(h, MEDICO, protocol);
    expect(findText(detail.body, 'esitoChiamata')).toBe('1');
    expect(findText(detail.body, 'codice')).toBe('WS37');
    expect(findText(detail.body, 'descrizione')).toBe('FILE SCARTATO, CONTROLLARE LA RICEVUTA PDF');
    expect(await schemaProblems(validator, 'soap:errorDetail', detail.text)).toEqual([]);

    const pdfAnswer = await h.soap(
      PATH.pdfReceipt,
      receiptEnvelope('RicevutaPdf', { pincode: h.pin(MEDICO.pincode), protocol }),
      { user: MEDICO.user, password: MEDICO.password },
    );
    const pdf = await readPdf(Buffer.from(findText(pdfAnswer.body, 'pdf')!, 'base64'));
    expect(pdf.text).toContain(
      'Motivo dello scarto: File non conforme allo schema di validazione: cvc-complex-type.2.4.b',
    );
  });

  it('rejects with stato 5 a queued file that inflates beyond the limit of the simulator processing it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sts-simulator-bomb-'));
    const shared = { stateFile: path.join(dir, 'journal.ndjson'), keyPair: generateSanitelStandIn() };
    try {
      // Accepted under the default limit (64 MiB) and still queued when the simulator stops.
      const first = await startSimulator({ ...shared, processingDelayMs: 60_000 });
      let protocol: string;
      try {
        // A valid 730 file padded past 1 MiB with blanks after the root element.
        const xml = precompilataXml({ taxCode: first.cf(MEDICO.taxCode) }, [document({}, first)]);
        const zip = precompilataZip('prova01.zip', `${xml}${' '.repeat(2 * 1024 * 1024)}`);
        const answer = await upload(first, MEDICO, { zip });
        expect(code(answer)).toBe('000');
        protocol = findText(answer.body, 'protocollo')!;
      } finally {
        await first.close();
      }

      const second = await startSimulator({ ...shared, maxUncompressedBytes: 1024 * 1024 });
      try {
        expect(await waitForOutcome(second, MEDICO, protocol)).toMatchObject({ status: 5, sent: 0 });
        const pdfAnswer = await second.soap(
          PATH.pdfReceipt,
          receiptEnvelope('RicevutaPdf', { pincode: second.pin(MEDICO.pincode), protocol }),
          { user: MEDICO.user, password: MEDICO.password },
        );
        const pdf = await readPdf(Buffer.from(findText(pdfAnswer.body, 'pdf')!, 'base64'));
        expect(pdf.text).toContain('File zip non leggibile: il file decompresso supera 1048576 byte');
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('processes a file with rejected and flagged documents to stato 3 and lists each message in the official CSV', async () => {
    const a = document();
    const d = document();
    const e = document();
    const refund = document({
      issueDate: '2025-05-20',
      paymentDate: '2025-05-20',
      operation: 'R',
      refundOf: e,
    });
    const documents = [
      a, // accepted
      { ...a }, // S017: already present
      document({ patient: 'bm90IGEgY2lwaGVydGV4dA==' }), // S011: cannot be decrypted
      document({ operation: 'C' }), // S921: cancel of an unknown document
      d,
      { ...d, operation: 'C' as const },
      { ...d, operation: 'C' as const }, // W010: accepted with a warning
      e,
      refund,
      { ...e, operation: 'C' as const }, // S923: has a refund
      document({ traceable: null }), // S907: pagamentoTracciato missing for SR in 2025
    ];
    const answer = await upload(h, MEDICO, { zip: fileFor(h, MEDICO, documents) });
    const protocol = findText(answer.body, 'protocollo')!;
    expect(await waitForOutcome(h, MEDICO, protocol)).toMatchObject({
      status: 3,
      sent: 11,
      accepted: 6,
      warnings: 1,
      errors: 5,
    });

    const detail = await errorDetail(h, MEDICO, protocol);
    expect(findText(detail.body, 'esitoChiamata')).toBe('0');
    expect(await schemaProblems(validator, 'soap:errorDetail', detail.text)).toEqual([]);
    const csv = errorCsv(detail);
    expect(csv.entryName).toBe(`errori-${protocol}.csv`);
    const realHeader = readFileSync(
      path.join(KIT_DIR, 'error-tables', 'DettaglioErrori_example_REDACTED.csv'),
      'latin1',
    ).split('\n')[0];
    const [header, ...rows] = csv.text.trimEnd().split('\n');
    expect(header).toBe(realHeader);
    expect(header).toBe(ERROR_DETAIL_CSV_HEADER);
    expect(rows.map((row) => row.split(';')[10])).toEqual(['S017', 'S011', 'S921', 'W010', 'S923', 'S907']);
    for (const row of rows) {
      const fields = row.split(';');
      expect(fields).toHaveLength(12);
      expect(fields[0]).toBe(MEDICO.taxCode);
      expect(fields[4]).toBe(MEDICO.vatNumber);
      expect(fields[5]).toBe('10/05/2025');
      expect(fields[6]).toBe('1');
      expect(fields[8]).toBe('');
    }
    expect(rows[1]).toBe(
      `${MEDICO.taxCode};;;;${MEDICO.vatNumber};10/05/2025;1;${documents[2]!.number};;;S011;IL CF DEL CITTADINO RISULTA FORMALMENTE ERRATO`,
    );
    // Latin-1, not UTF-8: È is one byte.
    expect(rows[4]).toContain('È NECESSARIO CANCELLARE PRIMA IL RIMBORSO');
    expect(csv.bytes.includes(Buffer.from([0xc8, 0x20, 0x4e]))).toBe(true);
    expect(csv.bytes.includes(Buffer.from('È', 'utf8'))).toBe(false);
  });

  it('returns a PDF receipt that starts with %PDF and has a consistent cross-reference table', async () => {
    const answer = await upload(h, MEDICO, { zip: fileFor(h, MEDICO, [document()]) });
    const protocol = findText(answer.body, 'protocollo')!;
    await waitForOutcome(h, MEDICO, protocol);
    const receipt = await h.soap(
      PATH.pdfReceipt,
      receiptEnvelope('RicevutaPdf', { pincode: h.pin(MEDICO.pincode), protocol }),
      { user: MEDICO.user, password: MEDICO.password },
    );
    expect(findText(receipt.body, 'esitoChiamata')).toBe('0');
    expect(await schemaProblems(validator, 'soap:pdfReceipt', receipt.text)).toEqual([]);
    const pdf = Buffer.from(findText(receipt.body, 'pdf')!, 'base64');
    expect(pdf.subarray(0, 8).toString('latin1')).toBe('%PDF-1.4');
    const text = pdf.toString('latin1');
    expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
    const startxref = Number(/startxref\n(\d+)\n%%EOF/.exec(text)![1]);
    expect(text.slice(startxref, startxref + 4)).toBe('xref');
    const entries = [...text.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gm)].map((match) =>
      Number(match[1]),
    );
    expect(entries.length).toBeGreaterThan(4);
    for (const [index, offset] of entries.entries()) {
      expect(text.slice(offset, offset + 12)).toMatch(new RegExp(`^${index + 1} 0 obj\n`));
    }
    const { lines } = await readPdf(pdf);
    expect(lines).toContain(`Protocollo: ${protocol}`);
    expect(lines).toContain('Documenti accolti: 1');
  });

  it('answers EsitoInvii by date range (dd-mm-yyyy) with the caller’s uploads only', async () => {
    const clocked = await startSimulator({ clock: () => new Date('2026-01-15T09:00:00Z') });
    try {
      const first = await upload(clocked, MEDICO, { zip: fileFor(clocked, MEDICO, [document({}, clocked)]) });
      const second = await upload(clocked, MEDICO, {
        zip: fileFor(clocked, MEDICO, [document({}, clocked)]),
      });
      await upload(clocked, PSICOLOGO, {
        zip: fileFor(clocked, PSICOLOGO, [document({ vatNumber: PSICOLOGO.vatNumber }, clocked)]),
      });
      const range = (actor: typeof MEDICO, from: string, to: string) =>
        clocked.soap(
          PATH.outcome,
          receiptEnvelope('EsitoInvii', { pincode: clocked.pin(actor.pincode), from, to }),
          { user: actor.user, password: actor.password },
        );

      const found = await range(MEDICO, '14-01-2026', '15-01-2026');
      expect(findText(found.body, 'esitoChiamata')).toBe('0');
      expect(found.text.match(/<protocollo>(\d+)<\/protocollo>/g)).toEqual([
        `<protocollo>${findText(first.body, 'protocollo')}</protocollo>`,
        `<protocollo>${findText(second.body, 'protocollo')}</protocollo>`,
      ]);
      expect(findText(found.body, 'dataInvio')).toBe('15-01-2026 10:00:00');
      expect(await schemaProblems(validator, 'soap:outcome', found.text)).toEqual([]);

      const none = await range(MEDICO, '01-02-2026', '28-02-2026');
      expect(findText(none.body, 'esitoChiamata')).toBe('1');
      expect(findText(none.body, 'codice')).toBe('WS96');
      expect(await schemaProblems(validator, 'soap:outcome', none.text)).toEqual([]);

      const malformed = await range(MEDICO, '2026-01-14', '15-01-2026');
      expect(findText(malformed.body, 'codice')).toBe('WS94');
    } finally {
      await clocked.close();
    }
  });

  it('answers the receipt services with esitoChiamata 1 and 104 for a wrong pincode', async () => {
    const answer = await h.soap(
      PATH.outcome,
      receiptEnvelope('EsitoInvii', { pincode: h.pin('1111111111'), protocol: '99000000000000000' }),
      { user: MEDICO.user, password: MEDICO.password },
    );
    expect(findText(answer.body, 'esitoChiamata')).toBe('1');
    expect(findText(answer.body, 'codice')).toBe('104');
    expect(findText(answer.body, 'descrizione')).toBe('PINCODE ERRATO');
  });
});
