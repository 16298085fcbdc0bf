/**
 * How fast one full 730 file is made on one core: each patient's codice fiscale encrypted with the
 * real SanitelCF certificate (RSA-1024 PKCS#1 v1.5 via node:crypto), validation, XML, and zip, until
 * the first file of (almost) 5,000,000 bytes is complete. Prints figures; asserts nothing.
 *
 *   node packages/sts/bench/build-file.ts [documents-to-offer]
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { taxCodeCheckCharacter } from '@sts/shared/identifiers';
import { createSanitelEncryptor, encryptTaxCode } from '../src/crypto/sanitel-encryptor.ts';
import { stsKitDir } from '../src/crypto/sts-kit-dir.ts';
import type { ExpenseDocument, PlainExpenseDocument } from '../src/documents/expense-document.ts';
import { validateExpenseDocument } from '../src/documents/validate-document.ts';
import { DEFAULT_MAX_ZIP_BYTES, packPrecompilataFiles } from '../src/files/file-packer.ts';
import { realisticDocuments } from '../test-support/realistic-documents.ts';

const offered = Number(process.argv[2] ?? 60_000);
const certificate = new X509Certificate(
  readFileSync(path.join(stsKitDir(), 'certs/SanitelCF_2024-01-23_to_2027-01-23.pem')),
);
const encryptor = createSanitelEncryptor(certificate);

/** A distinct valid codice fiscale per document. */
const taxCodeFor = (i: number): string => {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const name = Array.from({ length: 6 }, (_, k) => letters[Math.floor(i / 26 ** k) % 26]).join('');
  const base = `${name}${String(50 + (i % 50))}${'ABCDEHLMPRST'[i % 12]}${String(1 + (i % 28)).padStart(2, '0')}H501`;
  return base + taxCodeCheckCharacter(base);
};

// Plain documents as they arrive at the edge (generated up front, outside the timings).
const plain: PlainExpenseDocument[] = [...realisticDocuments(offered, ['x'])].map((document, i) => ({
  ...document,
  patient:
    document.patient.kind === 'identified'
      ? { kind: 'identified', taxCode: taxCodeFor(i) }
      : document.patient,
}));

const mb = (bytes: number) => bytes / 1_000_000;
const rssBaseline = process.memoryUsage().rss;
const rssPeak = { value: rssBaseline };
const sampleRss = () => {
  rssPeak.value = Math.max(rssPeak.value, process.memoryUsage().rss);
};

// 1. Encryption alone.
let start = performance.now();
const sampleSize = 20_000;
for (let i = 0; i < sampleSize; i++) encryptor.encrypt(taxCodeFor(i));
const encryptMs = performance.now() - start;

// 2. Edge validation alone (plaintext).
start = performance.now();
for (const document of plain.slice(0, sampleSize)) validateExpenseDocument(document);
const validateMs = performance.now() - start;

// 3. The whole path for one full file: encrypt + validate + build + zip.
let documentsUsed = 0;
function* encrypted(): Generator<ExpenseDocument> {
  for (const document of plain) {
    documentsUsed++;
    if (documentsUsed % 1000 === 0) sampleRss();
    const patient = document.patient;
    yield {
      ...document,
      patient:
        patient.kind === 'identified'
          ? { kind: 'identified', taxCode: encryptTaxCode(encryptor, patient.taxCode) }
          : { kind: 'opposed' },
    };
  }
}
start = performance.now();
const files = packPrecompilataFiles(encrypted(), {
  sender: { kind: 'professional', taxCode: 'RSSMRA85T10A562S' },
  encryptor,
});
const first = await files.next();
const fileMs = performance.now() - start;
sampleRss();
if (first.done) throw new Error(`${offered} documents do not fill a file; offer more`);
const file = first.value;
// The packer read one document beyond the file to know it was full.
const docsPerSecond = file.documentCount / (fileMs / 1000);

console.log(`one full 730 file (limit ${DEFAULT_MAX_ZIP_BYTES} B), one core, Node ${process.version}`);
console.log(
  `  zip size            ${file.size} B (${((100 * file.size) / DEFAULT_MAX_ZIP_BYTES).toFixed(2)}% of the limit)`,
);
console.log(`  documents per file  ${file.documentCount}`);
console.log(
  `  XML inside          ${mb(file.uncompressedSize).toFixed(1)} MB (ratio ${(file.uncompressedSize / file.size).toFixed(2)}:1)`,
);
console.log(`  time                ${(fileMs / 1000).toFixed(2)} s`);
console.log(`  throughput          ${Math.round(docsPerSecond)} docs/s (encrypt + validate + build + zip)`);
console.log(
  `                      ${(mb(file.uncompressedSize) / (fileMs / 1000)).toFixed(1)} MB/s of XML, ${(mb(file.size) / (fileMs / 1000)).toFixed(2)} MB/s of zip`,
);
console.log(
  `  RSA encryption only ${Math.round(sampleSize / (encryptMs / 1000))} CFs/s (${((1000 * encryptMs) / sampleSize).toFixed(1)} µs each)`,
);
console.log(
  `  edge validation     ${Math.round(sampleSize / (validateMs / 1000))} docs/s (plaintext, check digits)`,
);
console.log(
  `  peak RSS            ${Math.round(rssPeak.value / 1048576)} MB (${Math.round(rssBaseline / 1048576)} MB before building, with ${offered} plain documents generated up front)`,
);
await files.return(undefined);
