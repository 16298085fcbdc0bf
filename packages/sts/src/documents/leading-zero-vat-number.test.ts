import { vatNumberCheckDigit } from '@sts/shared';
import { describe, expect, it } from 'vitest';
import { createTestEncryption } from '../../test-support/test-encryptor.ts';
import { packPrecompilataFiles } from '../files/file-packer.ts';
import { renderPrecompilataXml } from '../files/precompilata-builder.ts';
import { parsePrecompilataXml, parsePrecompilataZip } from '../files/precompilata-parser.ts';
import { validateAgainstKitSchema } from '../files/xsd-validation.ts';
import type { DocumentId, ExpenseDocument } from './expense-document.ts';
import { buildSingleDocumentRequest } from './single-document-body.ts';
import { validateDocumentId, validateEncryptedDocument } from './validate-document.ts';

/**
 * Both the batch schema and the single-document schema type `pIva` `xs:integer` (11 digits by
 * pattern): a VAT number with leading zeros must keep them through validation, the 730 file
 * (build → parse) and the single-document body. VAT numbers are text everywhere.
 */

const VAT = `0123456789${vatNumberCheckDigit('0123456789')}`;
const TWO_ZEROS = `0012345678${vatNumberCheckDigit('0012345678')}`;
const { encryptor } = createTestEncryption();

const idOf = (vatNumber: string, number: string): DocumentId => ({
  vatNumber,
  issueDate: '2026-11-02',
  device: 1,
  number,
});
const documentOf = (id: DocumentId, extra: Partial<ExpenseDocument> = {}): ExpenseDocument => ({
  id,
  operation: 'insert',
  paymentDate: '2026-11-02',
  patient: { kind: 'identified', taxCode: { encrypted: encryptor.encrypt('RSSMRA80A01H501U') } },
  traceablePayment: true,
  documentType: 'invoice',
  lines: [{ expenseType: 'SR', amount: '120.50', vatNature: 'N4' }],
  ...extra,
});
const documents: ExpenseDocument[] = [
  documentOf(idOf(VAT, 'Z-1')),
  documentOf(idOf(TWO_ZEROS, 'Z-2')),
  documentOf(idOf(VAT, 'Z-3'), { operation: 'refund', refundedDocumentId: idOf(TWO_ZEROS, 'Z-2') }),
];
const sender = { kind: 'professional' as const, taxCode: 'RSSMRA85T10A562S' };

describe('a VAT number with leading zeros', () => {
  it('is valid with its check digit, and validation gives it back as written', () => {
    expect([VAT, TWO_ZEROS]).toEqual(['01234567897', '00123456782']);
    const checked = validateEncryptedDocument(documents[2]!);
    expect(checked.ok && [checked.value.id.vatNumber, checked.value.refundedDocumentId?.vatNumber]).toEqual([
      VAT,
      TWO_ZEROS,
    ]);
  });

  it('is never read from a number: one without its zeros, or given as a number, is refused', () => {
    const codes = (vatNumber: unknown) => {
      const result = validateDocumentId({ ...idOf(VAT, 'Z-1'), vatNumber: vatNumber as string });
      return result.ok ? [] : result.violations.map((violation) => violation.code);
    };
    expect(codes(VAT)).toEqual([]);
    expect(codes('1234567897')).toEqual(['document.vat-number.length']);
    expect(codes(1234567897)).toEqual(['document.vat-number.type']);
  });

  it('survives the 730 file: written as sent, schema-valid, parsed back equal (zip and XML)', async () => {
    const xml = await renderPrecompilataXml(documents, { sender, encryptor });
    expect(xml).toContain(`<pIva>${VAT}</pIva>`);
    expect(xml).toContain(`<pIva>${TWO_ZEROS}</pIva>`);
    expect(xml.match(/<pIva>[^<]*<\/pIva>/g)).toHaveLength(4);
    const schema = await validateAgainstKitSchema('precompilata', { fileName: 'zeros.xml', contents: xml });
    expect(schema.problems).toEqual([]);
    expect(parsePrecompilataXml(xml).documents).toEqual(documents);

    // The refund goes in a file after its original's (file-packer.ts): two zips.
    const parsed = [];
    for await (const file of packPrecompilataFiles(documents, { sender, encryptor })) {
      parsed.push(...parsePrecompilataZip(file.bytes).documents);
    }
    expect(parsed).toEqual(documents);
  });

  it('survives the single-document body, for every operation, schema-valid', async () => {
    const requests = [
      documents[0]!,
      { ...documents[0]!, operation: 'update' as const },
      documents[2]!,
      { ...documents[1]!, operation: 'cancel' as const },
    ].map(
      (document) =>
        buildSingleDocumentRequest({
          header: { encryptedPincode: encryptor.encrypt('1234567890') },
          document,
        }).xml,
    );
    const vatNumbersIn = (xml: string) =>
      [...xml.matchAll(/<[\w.-]+:pIva>([^<]*)</g)].map((match) => match[1]);
    expect(requests.map(vatNumbersIn)).toEqual([[VAT], [VAT], [TWO_ZEROS, VAT], [TWO_ZEROS]]);
    const schema = await validateAgainstKitSchema(
      'singleDocument',
      requests.map((contents, index) => ({ fileName: `request-${index}.xml`, contents })),
    );
    expect(schema.problems).toEqual([]);
  });
});
