import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  encryptedDocumentArb,
  plainDocumentArb,
  plainSenderArb,
} from '../../test-support/document-arbitraries.ts';
import { MUTATIONS } from '../../test-support/document-mutations.ts';
import { personTaxCodeArb } from '../../test-support/identifier-arbitraries.ts';
import { createTestEncryption, type TestEncryption } from '../../test-support/test-encryptor.ts';
import type { ExpenseDocument, PlainExpenseDocument } from '../documents/expense-document.ts';
import { buildSingleDocumentRequest } from '../documents/single-document-body.ts';
import { InvalidDocumentError, validateDocument } from '../documents/validate-document.ts';
import { packPrecompilataFiles } from './file-packer.ts';
import { renderPrecompilataXml } from './precompilata-builder.ts';
import { parsePrecompilataXml, parsePrecompilataZip } from './precompilata-parser.ts';
import { validateAgainstKitSchema, type XsdFile } from './xsd-validation.ts';

/**
 * Random valid documents of every kind (opposition, refunds, advance payment, every expense type,
 * flag, VAT rate and nature, 20-character numbers with / . _ - \, every operation), with real RSA
 * encryption of generated codici fiscali.
 */

let encryption: TestEncryption;
let documentArb: fc.Arbitrary<ExpenseDocument>;
const POOL_SIZE = 300;

beforeAll(() => {
  encryption = createTestEncryption();
  // Real ciphertexts of valid codici fiscali, precomputed so the generators stay deterministic.
  const pool = fc.sample(personTaxCodeArb(), { numRuns: POOL_SIZE, seed: 7 }).map((taxCode) => ({
    encrypted: encryption.encryptor.encrypt(taxCode),
  }));
  documentArb = encryptedDocumentArb(fc.integer({ min: 0, max: POOL_SIZE - 1 }).map((i) => pool[i]!));
});

const docsArb = () => fc.array(documentArb, { minLength: 1, maxLength: 40, size: 'max' });

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** Lists XSD problems with the offending document line, to make a failure readable. */
const describeProblems = (
  files: readonly XsdFile[],
  problems: { fileName?: string; line?: number; message: string }[],
) =>
  problems.slice(0, 5).map((problem) => {
    const file = files.find((f) => f.fileName === problem.fileName);
    const line = file && problem.line ? String(file.contents).split('\n')[problem.line - 1] : '';
    return `${problem.fileName}:${problem.line} ${problem.message}\n  ${line}`;
  });

describe('730 files from random valid documents', () => {
  it('parse(build(x)) gives x back, sender codice fiscale encrypted and decryptable', async () => {
    await fc.assert(
      fc.asyncProperty(plainSenderArb, docsArb(), async (sender, documents) => {
        const xml = await renderPrecompilataXml(documents, { sender, encryptor: encryption.encryptor });
        const parsed = parsePrecompilataXml(xml);
        expect(parsed.documents).toEqual(documents);
        const { taxCode, ...codes } = sender;
        const { taxCode: encrypted, ...parsedCodes } = parsed.sender;
        expect(parsedCodes).toEqual(codes);
        expect(encrypted && encryption.decrypt(encrypted.encrypted)).toBe(taxCode);
      }),
      { numRuns: 120 },
    );
  });

  it('packing keeps every document, in order, in zips under the limit', async () => {
    await fc.assert(
      fc.asyncProperty(
        plainSenderArb,
        fc.array(documentArb, { minLength: 1, maxLength: 120, size: 'max' }),
        fc.integer({ min: 3_000, max: 40_000 }),
        async (sender, documents, maxZipBytes) => {
          const files = await collect(
            packPrecompilataFiles(documents, { sender, encryptor: encryption.encryptor, maxZipBytes }),
          );
          const unpacked: ExpenseDocument[] = [];
          for (const file of files) {
            expect(file.size).toBeLessThan(maxZipBytes);
            const parsed = parsePrecompilataZip(file.bytes);
            expect(parsed.entryName).toBe(file.entryName);
            expect(parsed.documents.map((d) => d.id)).toEqual(file.documentIds);
            unpacked.push(...parsed.documents);
          }
          expect(unpacked).toEqual(documents);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the official 730_precompilata.xsd accepts every file built (thousands of documents, one validator call)', async () => {
    const seed = Date.now();
    const samples = fc.sample(
      fc.tuple(plainSenderArb, fc.array(documentArb, { minLength: 40, maxLength: 100 })),
      {
        numRuns: 60,
        seed,
      },
    );
    const files: XsdFile[] = [];
    let documentCount = 0;
    for (const [index, [sender, documents]] of samples.entries()) {
      documentCount += documents.length;
      files.push({
        fileName: `random-${index}.xml`,
        contents: await renderPrecompilataXml(documents, { sender, encryptor: encryption.encryptor }),
      });
    }
    expect(documentCount).toBeGreaterThan(2000);
    const result = await validateAgainstKitSchema('precompilata', files);
    expect(describeProblems(files, result.problems), `seed ${seed}`).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('DocumentoSpesa730pSchema.xsd accepts the single-document request of each of 1000 random documents', async () => {
    const seed = Date.now();
    const documents = fc.sample(documentArb, { numRuns: 1000, seed });
    const files = documents.map((document, index) => ({
      fileName: `request-${index}.xml`,
      contents: buildSingleDocumentRequest({
        header: {
          encryptedPincode:
            document.patient.kind === 'identified'
              ? document.patient.taxCode.encrypted
              : Buffer.alloc(128, 1).toString('base64'),
        },
        document,
      }).xml,
    }));
    expect(new Set(documents.map((d) => d.operation)).size).toBe(4);
    const result = await validateAgainstKitSchema('singleDocument', files);
    expect(describeProblems(files, result.problems), `seed ${seed}`).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('the validator is not a rubber stamp: a file with one bad amount fails', async () => {
    const [sender, documents] = fc.sample(
      fc.tuple(plainSenderArb, fc.array(documentArb, { minLength: 5, maxLength: 5 })),
      1,
    )[0]!;
    const xml = await renderPrecompilataXml(documents, { sender, encryptor: encryption.encryptor });
    const broken = xml.replace(/<importo>(\d+)\.(\d\d)<\/importo>/, '<importo>$1.$20</importo>');
    const result = await validateAgainstKitSchema('precompilata', {
      fileName: 'broken.xml',
      contents: broken,
    });
    expect(result.valid).toBe(false);
    expect(result.problems[0]?.message).toMatch(/importo/);
  });
});

describe('invalid documents are rejected with the expected code before any XML is built', () => {
  const encryptPatient = (document: PlainExpenseDocument, ciphertext: string): ExpenseDocument => {
    const patient = document.patient as { kind: string; taxCode?: string };
    return {
      ...document,
      patient: (patient.taxCode === undefined
        ? { kind: patient.kind }
        : { kind: patient.kind, taxCode: { encrypted: ciphertext } }) as ExpenseDocument['patient'],
    };
  };

  it('each mutation of a valid document gives its violation', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        plainDocumentArb,
        plainSenderArb,
        fc.constantFrom(...MUTATIONS),
        async (doc, snd, mutation) => {
          const input = structuredClone({ document: doc, sender: snd });
          expect(validateDocument(input).ok).toBe(true);
          mutation.apply(input);
          seen.add(mutation.name);

          const result = validateDocument(input);
          expect(result.ok).toBe(false);
          const found = result.ok ? [] : result.violations.map((v) => `${v.path} ${v.code}`);
          expect(found).toContain(`${mutation.path} ${mutation.code}`);
          if (!result.ok) {
            for (const violation of result.violations) expect(violation.hint).not.toBe('');
          }

          if (mutation.visibleWhenEncrypted) {
            const encrypted = encryptPatient(
              input.document,
              encryption.encryptor.encrypt('RSSMRA85T10A562S'),
            );
            const built = renderPrecompilataXml([encrypted], {
              sender: input.sender,
              encryptor: encryption.encryptor,
            });
            await expect(built).rejects.toBeInstanceOf(InvalidDocumentError);
            const error = await built.catch((e: InvalidDocumentError) => e);
            expect((error as InvalidDocumentError).violations.map((v) => v.code)).toContain(mutation.code);
          }
        },
      ),
      { numRuns: 1500 },
    );
    expect(seen.size).toBe(MUTATIONS.length);
  });
});
