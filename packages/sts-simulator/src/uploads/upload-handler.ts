import { type Clock, romeTime } from '@sts/shared';
import { readZipArchive } from '@sts/sts';
import type { FieldDecryptor } from '../crypto/field-decryptor.ts';
import { isVeterinarian } from '../documents/document-intake.ts';
import { uploadResultText } from '../documents/document-messages.ts';
import { FIELD } from '../protocol/field-names.ts';
import { checkOwner, checkPincode } from '../soap/caller-checks.ts';
import {
  type OperationHandler,
  requestText,
  responseElement,
  responseWriter,
  type SoapCall,
} from '../soap/soap-call.ts';
import { formatDashedTimestamp } from '../time/rome-time.ts';
import type { UploadProcessor } from './upload-processor.ts';
import type { UploadRecord, UploadStore } from './upload-store.ts';

/**
 * `inviaFileMtom` (docs/protocol.md §1.4): every check the STS makes at reception, answered at once
 * with `codiceEsito`; an accepted file gets `000` and a protocol and is processed later.
 * Order of the checks (the spec gives none): file name 101, pincode 002/104 (113 Entratel), owner
 * 109/110/105, Entratel site 114, attachment 103/108/102, owner inside the file 010.
 */

const FILE_NAME = /^[\x20-\x7E]{6,60}$/;
/** The owner's encrypted codice fiscale inside the file, looked up without parsing the whole file. */
const FILE_OWNER_TAX_CODE = /^<proprietario>[\s\S]*?<cfProprietario>\s*([^<\s]*)\s*<\/cfProprietario>/;
/** Bytes of the file searched for the owner: it comes first in a 730 file. */
const OWNER_SEARCH_BYTES = 64 * 1024;

function fileOwnerTaxCode(content: Buffer): string | undefined {
  const head = content.subarray(0, OWNER_SEARCH_BYTES).toString('utf8');
  // Matched from the first <proprietario> only: an unanchored search retries from every later one,
  // which costs a fifth of a second on 64 KB of repeated tags.
  const start = head.indexOf('<proprietario>');
  return start < 0 ? undefined : FILE_OWNER_TAX_CODE.exec(head.slice(start))?.[1];
}

export interface UploadHandlerOptions {
  uploads: UploadStore;
  processor: UploadProcessor;
  decryptor: FieldDecryptor;
  clock: Clock;
  maxFileBytes: number;
  /** A zip whose file inflates beyond this gets 102, like a broken one (zip bombs). */
  maxUncompressedBytes: number;
  processingDelayMs: () => number;
}

export function createUploadHandler(options: UploadHandlerOptions): OperationHandler {
  return (call) => {
    const fileName = requestText(call, call.payload, FIELD.fileName) ?? '';
    const bytes = call.document?.bytes ?? Buffer.alloc(0);
    const answer = (code: string, protocol = '') =>
      uploadResponse(call, { code, fileName, size: bytes.length, protocol, at: call.receivedAt });

    if (!FILE_NAME.test(fileName) || !fileName.toLowerCase().endsWith('.zip')) return answer('101');
    const pincode = checkPincode(
      call.user,
      requestText(call, call.payload, FIELD.encryptedPincode),
      options.decryptor,
    );
    if (pincode) return answer(pincode);
    const owner = checkOwner(call, FIELD.ownerData, options.decryptor, false);
    if (!owner.ok) return answer(owner.code);
    const site = call.user.kind === 'entratel' ? call.user.entratelSite : undefined;
    if (site !== undefined && requestText(call, call.payload, FIELD.optional1) !== site) return answer('114');

    if (bytes.length === 0) return answer('103');
    if (bytes.length > options.maxFileBytes) return answer('108');
    let content: Buffer;
    try {
      content = readZipArchive(bytes, { maxUncompressedBytes: options.maxUncompressedBytes }).content;
    } catch {
      return answer('102');
    }
    if (content.length === 0) return answer('103');

    const inFile = fileOwnerTaxCode(content);
    if (inFile && owner.owner.taxCode) {
      const decrypted = options.decryptor.decrypt(inFile);
      if (decrypted.kind === 'plain' && decrypted.value !== owner.owner.taxCode) return answer('010');
    }

    const receivedAt = call.receivedAt;
    const protocol = options.uploads.nextProtocol(receivedAt);
    const record: UploadRecord = {
      protocol,
      username: call.user.username,
      fileName,
      fileSize: bytes.length,
      owner: {
        key: owner.key,
        ...(owner.owner.taxCode ? { taxCode: owner.owner.taxCode } : {}),
        ...(owner.owner.office ? { office: owner.owner.office } : {}),
      },
      traceablePaymentExempt: call.user.traceablePaymentExempt,
      veterinarian: isVeterinarian(call.user),
      receivedAt: receivedAt.toISOString(),
      dueAt: new Date(receivedAt.getTime() + options.processingDelayMs()).toISOString(),
      state: 'queued',
      zip: bytes.toString('base64'),
    };
    options.uploads.put(record);
    options.processor.schedule(record);
    return answer('000', protocol);
  };
}

function uploadResponse(
  call: SoapCall,
  result: { code: string; fileName: string; size: number; protocol: string; at: Date },
): string {
  const w = responseWriter(call);
  const t = romeTime(result.at);
  // "Numero che identifica un invio fallito" (§1.4): ours is the reception time plus the code.
  const errorId =
    result.code === '000' ? '' : `${t.year}${t.month}${t.day}${t.hour}${t.minute}${t.second}${result.code}`;
  return responseElement(
    call,
    w.node(
      FIELD.uploadReturn,
      w.leaf(FIELD.resultCode, result.code) +
        w.leaf(FIELD.receivedAt, formatDashedTimestamp(result.at)) +
        w.leaf(FIELD.resultDescription, uploadResultText(result.code)) +
        w.leaf(FIELD.fileSize, result.size) +
        w.leaf(FIELD.fileName, result.fileName) +
        w.leaf(FIELD.protocol, result.protocol) +
        w.leaf(FIELD.errorId, errorId),
    ),
  );
}
