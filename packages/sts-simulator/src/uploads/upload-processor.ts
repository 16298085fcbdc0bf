import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Clock, Logger } from '@sts/shared';
import {
  type ExpenseDocument,
  PrecompilataParseError,
  parsePrecompilataXml,
  readZipArchive,
  ZipArchiveError,
} from '@sts/sts';
import type { FieldDecryptor } from '../crypto/field-decryptor.ts';
import type { DocumentIntake } from '../documents/document-intake.ts';
import { type DocumentMessage, SIMULATOR_MESSAGES } from '../documents/document-messages.ts';
import { type SchemaValidator, toCvcMessage } from '../schema/schema-validator.ts';
import type { ErrorRow, UploadRecord, UploadResult, UploadStore } from './upload-store.ts';

/**
 * Processes accepted files after the configured delay, one at a time in protocol order (so two files
 * touching the same document apply in the order they were sent). A file goes from stato 0 (queued)
 * to 1 (in progress, from half the delay) to 2 (all accepted), 3 (some documents rejected or with
 * warnings) or 5 (the whole file rejected: not a valid 730 file, or its owner is not the sender's).
 */

export interface UploadProcessor {
  schedule(record: UploadRecord): void;
  /** Processes every queued upload now (admin API, tests); resolves when they are done. */
  processAll(): Promise<void>;
  /** The `stato` of an upload at `now`. */
  statusOf(record: UploadRecord, now: Date): 0 | 1 | 2 | 3 | 5;
  /** Waits for the upload being processed, drops the timers. */
  close(): Promise<void>;
}

/** Wording observed for files refused against the schema (quickmastro FAQ). */
const NOT_VALID_AGAINST_SCHEMA = 'File non conforme allo schema di validazione';
/** Documents handled between two yields to the event loop, so a big file does not stall the server. */
const DOCUMENTS_PER_SLICE = 200;

export function createUploadProcessor(options: {
  uploads: UploadStore;
  intake: DocumentIntake;
  decryptor: FieldDecryptor;
  validator: SchemaValidator | undefined;
  clock: Clock;
  /** A file inflating beyond this is rejected (stato 5); it may have been accepted under a higher limit. */
  maxUncompressedBytes: number;
  /** The configured delay now: an upload restored from the journal waits no longer than this. */
  processingDelayMs: () => number;
  logger: Logger;
}): UploadProcessor {
  const timers = new Map<string, NodeJS.Timeout>();
  const inProgress = new Set<string>();
  let chain: Promise<void> = Promise.resolve();
  let closed = false;

  const enqueue = (protocol: string): Promise<void> => {
    const timer = timers.get(protocol);
    if (timer) clearTimeout(timer);
    timers.delete(protocol);
    chain = chain
      .then(() => processOne(protocol))
      .catch((error: unknown) => {
        options.logger.error({ err: error, protocol }, 'upload processing failed');
      });
    return chain;
  };

  async function processOne(protocol: string): Promise<void> {
    const record = options.uploads.get(protocol);
    if (record?.state !== 'queued' || closed) return;
    inProgress.add(protocol);
    try {
      const result = await evaluate(record);
      const { zip: _zip, ...rest } = record;
      options.uploads.put({ ...rest, state: 'processed', result });
    } finally {
      inProgress.delete(protocol);
    }
  }

  const rejectFile = (reason: string): UploadResult => ({
    status: 5,
    sent: 0,
    accepted: 0,
    warnings: 0,
    errors: 0,
    rejectionReason: reason,
    rows: [],
    processedAt: options.clock().toISOString(),
  });

  async function evaluate(record: UploadRecord): Promise<UploadResult> {
    let content: Buffer;
    try {
      content = readZipArchive(Buffer.from(record.zip ?? '', 'base64'), {
        maxUncompressedBytes: options.maxUncompressedBytes,
      }).content;
    } catch (error) {
      if (error instanceof ZipArchiveError && error.code === 'zip.too-large')
        return rejectFile(
          `File zip non leggibile: il file decompresso supera ${options.maxUncompressedBytes} byte`,
        );
      return rejectFile(`File zip non leggibile: ${(error as Error).message}`);
    }
    let xml: string;
    try {
      xml = new TextDecoder('utf-8', { fatal: true }).decode(content);
    } catch {
      return rejectFile(`${NOT_VALID_AGAINST_SCHEMA}: il file non è codificato in UTF-8`);
    }
    if (options.validator) {
      const validation = await options.validator.validate('precompilata', xml);
      if (!validation.valid)
        return rejectFile(`${NOT_VALID_AGAINST_SCHEMA}: ${toCvcMessage(validation.problems[0]!)}`);
    }
    let parsed: ReturnType<typeof parsePrecompilataXml>;
    try {
      parsed = parsePrecompilataXml(xml);
    } catch (error) {
      if (error instanceof PrecompilataParseError)
        return rejectFile(`${NOT_VALID_AGAINST_SCHEMA}: ${error.message}`);
      throw error;
    }

    const sender = parsed.sender;
    const fileOffice =
      sender.kind === 'structure' ? `${sender.regionCode}-${sender.aslCode}-${sender.ssaCode}` : undefined;
    if (fileOffice !== record.owner.office) return rejectFile(SIMULATOR_MESSAGES.ownerMismatch.text);
    if (sender.taxCode) {
      const decrypted = options.decryptor.decrypt(sender.taxCode.encrypted);
      if (decrypted.kind === 'failed') return rejectFile('CF PROPRIETARIO NON DECIFRABILE');
      if (
        decrypted.kind === 'plain' &&
        record.owner.taxCode !== undefined &&
        decrypted.value !== record.owner.taxCode
      )
        return rejectFile(SIMULATOR_MESSAGES.ownerMismatch.text);
    }

    const rows: ErrorRow[] = [];
    let accepted = 0;
    let warnings = 0;
    let errors = 0;
    const source = { protocol: record.protocol, fileName: record.fileName, receivedAt: record.receivedAt };
    for (const [index, document] of parsed.documents.entries()) {
      if (index > 0 && index % DOCUMENTS_PER_SLICE === 0) await yieldToEventLoop();
      const outcome = options.intake.process(document, {
        owner: record.owner.key,
        source,
        traceablePaymentExempt: record.traceablePaymentExempt,
        veterinarian: record.veterinarian ?? false,
      });
      if (outcome.accepted) accepted++;
      else errors++;
      if (outcome.warning) warnings++;
      for (const message of outcome.messages) rows.push(errorRow(document, message));
    }
    return {
      status: errors > 0 || warnings > 0 ? 3 : 2,
      sent: parsed.documents.length,
      accepted,
      warnings,
      errors,
      rows,
      processedAt: options.clock().toISOString(),
    };
  }

  return {
    schedule(record) {
      if (closed || record.state !== 'queued') return;
      const wait = Math.max(
        0,
        Math.min(new Date(record.dueAt).getTime() - options.clock().getTime(), options.processingDelayMs()),
      );
      const timer = setTimeout(() => void enqueue(record.protocol), wait);
      timer.unref();
      timers.set(record.protocol, timer);
    },
    async processAll() {
      const queued = options.uploads
        .list()
        .filter((record) => record.state === 'queued')
        .sort((a, b) => a.protocol.localeCompare(b.protocol));
      for (const record of queued) void enqueue(record.protocol);
      await chain;
    },
    statusOf(record, now) {
      if (record.state === 'processed') return record.result!.status;
      if (inProgress.has(record.protocol)) return 1;
      const received = new Date(record.receivedAt).getTime();
      const due = new Date(record.dueAt).getTime();
      return now.getTime() < received + (due - received) / 2 ? 0 : 1;
    },
    async close() {
      closed = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      await chain;
    },
  };
}

const LINE_CODES = new Set<string>([SIMULATOR_MESSAGES.lines.code, SIMULATOR_MESSAGES.vat.code]);

function errorRow(document: ExpenseDocument, message: DocumentMessage): ErrorRow {
  return {
    vatNumber: document.id.vatNumber,
    issueDate: document.id.issueDate,
    device: document.id.device,
    number: document.id.number,
    // The real file leaves TIPO SPESA empty for errors about the whole document.
    expenseType: LINE_CODES.has(message.code) ? (document.lines[0]?.expenseType ?? '') : '',
    code: message.code,
    text: message.text,
  };
}
