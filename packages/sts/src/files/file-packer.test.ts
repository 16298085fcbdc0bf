import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { realisticDocuments } from '../../test-support/realistic-documents.ts';
import {
  ciphertextPool,
  createTestEncryption,
  type TestEncryption,
} from '../../test-support/test-encryptor.ts';
import type { ExpenseDocument, Sender } from '../documents/expense-document.ts';
import { InvalidDocumentError } from '../documents/validate-document.ts';
import { DEFAULT_MAX_ZIP_BYTES, type PackedFile, packPrecompilataFiles } from './file-packer.ts';
import { parsePrecompilataZip } from './precompilata-parser.ts';

const sender: Sender = {
  kind: 'structure',
  regionCode: '130',
  aslCode: '204',
  ssaCode: '78909',
  taxCode: 'RSSMRA85T10A562S',
};

let encryption: TestEncryption;
let pool: string[];
beforeAll(() => {
  encryption = createTestEncryption();
  pool = ciphertextPool(encryption.encryptor, 2000);
});

async function collect(files: AsyncIterable<PackedFile>): Promise<PackedFile[]> {
  const all: PackedFile[] = [];
  for await (const file of files) all.push(file);
  return all;
}

describe('packPrecompilataFiles', () => {
  it('defaults to a limit below both 5 MB and 5 MiB', () => {
    expect(DEFAULT_MAX_ZIP_BYTES).toBeLessThanOrEqual(5_000_000);
    expect(DEFAULT_MAX_ZIP_BYTES).toBeGreaterThan(0.99 * 5_000_000);
  });

  it('splits into named files under the limit, each reporting its documents and hash', async () => {
    const documents = [...realisticDocuments(3000, pool)];
    const files = await collect(
      packPrecompilataFiles(documents, {
        sender,
        encryptor: encryption.encryptor,
        maxZipBytes: 100_000,
        fileName: (index) => `clinica42_2025_${index + 1}.zip`,
        clock: () => new Date('2026-01-15T09:00:00Z'),
      }),
    );
    expect(files.length).toBeGreaterThan(3);
    expect(files.map((f) => f.name).slice(0, 2)).toEqual(['clinica42_2025_1.zip', 'clinica42_2025_2.zip']);
    let offset = 0;
    for (const [index, file] of files.entries()) {
      expect(file.size).toBe(file.bytes.length);
      expect(file.size).toBeLessThan(100_000);
      if (index < files.length - 1) expect(file.size).toBeGreaterThan(90_000);
      expect(file.sha256).toBe(createHash('sha256').update(file.bytes).digest('hex'));
      expect(file.entryName).toBe(file.name.replace('.zip', '.xml'));
      const parsed = parsePrecompilataZip(file.bytes);
      expect(parsed.documents).toEqual(documents.slice(offset, offset + file.documentCount));
      expect(file.documentIds).toEqual(parsed.documents.map((d) => d.id));
      expect(file.uncompressedSize).toBeGreaterThan(file.size);
      offset += file.documentCount;
    }
    expect(offset).toBe(documents.length);
  });

  it('never puts two records of the same fiscal document in one file', async () => {
    const [original] = [...realisticDocuments(1, pool)] as [ExpenseDocument];
    const update: ExpenseDocument = { ...original, operation: 'update' };
    const refund: ExpenseDocument = {
      ...original,
      id: { ...original.id, number: 'NC1' },
      operation: 'refund',
      refundedDocumentId: original.id,
    };
    const other = [...realisticDocuments(3, pool)].slice(1);
    const files = await collect(
      packPrecompilataFiles([original, ...other, update, refund], {
        sender,
        encryptor: encryption.encryptor,
      }),
    );
    expect(files.map((f) => f.documentIds.map((id) => id.number))).toEqual([
      ['FT2025/0', 'FT2025/1', 'FT2025/2'],
      ['FT2025/0'],
      ['NC1'],
    ]);
  });

  it('yields nothing for no documents and refuses invalid ones or oversize ones', async () => {
    expect(await collect(packPrecompilataFiles([], { sender, encryptor: encryption.encryptor }))).toEqual([]);
    const [valid] = [...realisticDocuments(1, pool)] as [ExpenseDocument];
    const invalid = { ...valid, lines: [{ ...valid.lines[0]!, amount: '0.00' }] };
    await expect(
      collect(packPrecompilataFiles([invalid], { sender, encryptor: encryption.encryptor })),
    ).rejects.toThrow(InvalidDocumentError);
    await expect(
      collect(packPrecompilataFiles([valid], { sender, encryptor: encryption.encryptor, maxZipBytes: 600 })),
    ).rejects.toThrow(/alone does not fit/);
    await expect(
      collect(
        packPrecompilataFiles([valid], { sender, encryptor: encryption.encryptor, fileName: () => 'a.zip' }),
      ),
    ).rejects.toThrow(/6 to 60 characters/);
  });

  it('packs 200,000 realistic documents into full 5 MB files, streaming', async () => {
    const total = 200_000;
    const limit = DEFAULT_MAX_ZIP_BYTES;
    const heapBefore = process.memoryUsage().heapUsed;
    let peakHeap = heapBefore;
    const summary: { size: number; documentCount: number }[] = [];
    let ids = 0;
    let firstFileChecked = false;
    for await (const file of packPrecompilataFiles(realisticDocuments(total, pool), {
      sender,
      encryptor: encryption.encryptor,
    })) {
      expect(file.size).toBeLessThan(limit);
      expect(file.sha256).toBe(createHash('sha256').update(file.bytes).digest('hex'));
      expect(file.documentIds).toHaveLength(file.documentCount);
      if (!firstFileChecked) {
        expect(parsePrecompilataZip(file.bytes).documents).toHaveLength(file.documentCount);
        firstFileChecked = true;
      }
      ids += file.documentIds.length;
      summary.push({ size: file.size, documentCount: file.documentCount });
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    }
    expect(summary.reduce((sum, f) => sum + f.documentCount, 0)).toBe(total);
    expect(ids).toBe(total);
    expect(summary.length).toBeGreaterThan(1);
    for (const file of summary.slice(0, -1)) expect(file.size).toBeGreaterThan(0.9 * limit);
    // Files are not accumulated: the heap grows by far less than the ~30 MB of zips produced.
    expect(peakHeap - heapBefore).toBeLessThan(200 * 1024 * 1024);
    console.log(
      `200k documents → ${summary.length} files: ${summary.map((f) => `${f.documentCount} docs/${f.size} B`).join(', ')}; peak heap +${Math.round((peakHeap - heapBefore) / 1048576)} MB`,
    );
  }, 120_000);
});
