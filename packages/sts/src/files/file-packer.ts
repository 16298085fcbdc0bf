import { createHash } from 'node:crypto';
import { type Clock, systemClock } from '@sts/shared';
import type { DocumentId, ExpenseDocument } from '../documents/expense-document.ts';
import {
  createPrecompilataWriter,
  describeDocument,
  type PrecompilataOptions,
} from './precompilata-builder.ts';
import { assertArchiveName, createZipWriter, entryNameFor, type ZipWriter } from './zip-archive.ts';

/**
 * Packs any number of documents into as many 730 zip files as needed, each strictly below the size
 * limit and filled close to it. The spec says "5 MByte" without defining it (v2.5 §4.5, error 108);
 * the default of 5,000,000 bytes is below both 5 MB and 5 MiB. Memory: the compressed bytes of the
 * file being filled plus one document; files are yielded one at a time.
 */

export const DEFAULT_MAX_ZIP_BYTES = 5_000_000;

export interface PackOptions extends PrecompilataOptions {
  /** Every zip is strictly smaller than this. Default `DEFAULT_MAX_ZIP_BYTES`. */
  maxZipBytes?: number;
  /** Name of the n-th zip (0-based): 6–60 characters of A-Z a-z 0-9 _ . - ending in `.zip`. */
  fileName?: (index: number) => string;
  /** zlib level 1–9, default 6. */
  compressionLevel?: number;
  /** Timestamp written in the zip entries. */
  clock?: Clock;
}

export interface PackedFile {
  /** `nomeFileAllegato`; the XML inside is named the same with `.xml`. */
  name: string;
  entryName: string;
  /** The whole zip. */
  bytes: Buffer;
  size: number;
  uncompressedSize: number;
  /** Hex SHA-256 of `bytes`. */
  sha256: string;
  documentCount: number;
  /** The `idSpesa` of each record in file order, to map the STS outcome back to documents. */
  documentIds: DocumentId[];
}

const defaultFileName = (index: number) => `spese730_${String(index + 1).padStart(4, '0')}.zip`;

const documentKey = (id: DocumentId) => `${id.vatNumber}|${id.issueDate}|${id.device}|${id.number}`;

interface OpenFile {
  name: string;
  entryName: string;
  zip: ZipWriter;
  documentIds: DocumentId[];
  /** Documents touched by a record in this file (its own id and a refund's original). */
  touched: Set<string>;
}

/**
 * Splits documents into zips. Two records that touch the same fiscal document (e.g. an insert and
 * its update, or a refund and its original) never share a file: the spec does not say in which order
 * the STS processes the records of one file, so the later one starts a new file.
 */
export async function* packPrecompilataFiles(
  documents: Iterable<ExpenseDocument> | AsyncIterable<ExpenseDocument>,
  options: PackOptions,
): AsyncGenerator<PackedFile> {
  const limit = options.maxZipBytes ?? DEFAULT_MAX_ZIP_BYTES;
  const fileName = options.fileName ?? defaultFileName;
  const clock = options.clock ?? systemClock;
  const writer = createPrecompilataWriter(options);
  const header = Buffer.from(writer.header, 'utf8');
  const footer = Buffer.from(writer.footer, 'utf8');
  let fileIndex = 0;
  let file: OpenFile | undefined;

  const open = (): OpenFile => {
    const name = fileName(fileIndex++);
    assertArchiveName(name);
    const entryName = entryNameFor(name);
    const zip = createZipWriter({
      entryName,
      modifiedAt: clock(),
      ...(options.compressionLevel !== undefined ? { level: options.compressionLevel } : {}),
    });
    zip.write(header);
    return { name, entryName, zip, documentIds: [], touched: new Set() };
  };

  const close = (open: OpenFile): PackedFile => {
    open.zip.write(footer);
    const uncompressedSize = open.zip.uncompressedBytes;
    const bytes = open.zip.finish();
    // The bounds make this impossible; checked anyway because an oversize file is rejected whole.
    if (bytes.length >= limit)
      throw new Error(`Packed file ${open.name} is ${bytes.length} bytes, over the limit`);
    return {
      name: open.name,
      entryName: open.entryName,
      bytes,
      size: bytes.length,
      uncompressedSize,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      documentCount: open.documentIds.length,
      documentIds: open.documentIds,
    };
  };

  const fits = (open: OpenFile, xml: Buffer) => open.zip.sizeBound(xml.length + footer.length) < limit;

  for await (const document of documents) {
    const xml = Buffer.from(writer.renderDocument(document), 'utf8');
    const keys = [documentKey(document.id)];
    if (document.refundedDocumentId) keys.push(documentKey(document.refundedDocumentId));

    if (file && keys.some((key) => file!.touched.has(key))) {
      yield close(file);
      file = undefined;
    }
    file ??= open();
    if (!fits(file, xml)) {
      file.zip.flush();
      if (!fits(file, xml)) {
        if (file.documentIds.length > 0) {
          yield close(file);
          file = open();
        }
        if (!fits(file, xml)) {
          throw new Error(`${describeDocument(document)} alone does not fit in a file of ${limit} bytes`);
        }
      }
    }
    file.zip.write(xml);
    file.documentIds.push(document.id);
    for (const key of keys) file.touched.add(key);
  }
  if (file) yield close(file);
}
