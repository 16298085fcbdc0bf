import type { ExpenseDocument } from '@sts/sts';
import type { FieldDecryptor } from '../crypto/field-decryptor.ts';
import { type DocumentIntake, isVeterinarian } from '../documents/document-intake.ts';
import { type DocumentMessage, MESSAGES, uploadCodeMessage } from '../documents/document-messages.ts';
import { FIELD, SYNC_FILE_NAME } from '../protocol/field-names.ts';
import { checkOwner, checkPincode } from '../soap/caller-checks.ts';
import {
  type OperationHandler,
  requestChild,
  requestNamespace,
  requestText,
  responseElement,
  responseWriter,
  type SoapCall,
} from '../soap/soap-call.ts';
import type { UploadStore } from '../uploads/upload-store.ts';
import { cancellationOf, readDocumentId, readSyncDocument } from './sync-document-reader.ts';

/**
 * `DocumentoSpesa730p` (Inserimento, Variazione, Rimborso, Cancellazione; docs/protocol.md §1.9): the
 * document is judged at once by the same rules as a file's records, and the answer carries
 * `esitoChiamata` 0 (accepted), 2 (accepted with warnings) or 1 (rejected, no protocol) and
 * `listaMessaggi`. An accepted call gets a protocol of its own. Pincode and owner problems are
 * answered with esitoChiamata 1 and the upload's code as message (a simulator choice).
 */

export function createSingleDocumentHandler(options: {
  intake: DocumentIntake;
  uploads: UploadStore;
  decryptor: FieldDecryptor;
}): OperationHandler {
  return (call) => {
    const reject = (messages: DocumentMessage[]) => documentResponse(call, '1', undefined, messages);
    const pincode = checkPincode(
      call.user,
      requestText(call, call.payload, FIELD.pincode),
      options.decryptor,
    );
    if (pincode) return reject([uploadCodeMessage(pincode)]);
    const owner = checkOwner(call, FIELD.owner, options.decryptor, true);
    if (!owner.ok) return reject([uploadCodeMessage(owner.code)]);

    const document = readRequestDocument(call);
    // Rejected calls burn a number: protocols have gaps, as real ones do.
    const protocol = options.uploads.nextProtocol(call.receivedAt);
    const outcome = options.intake.process(document, {
      owner: owner.key,
      source: { protocol, fileName: SYNC_FILE_NAME, receivedAt: call.receivedAt.toISOString() },
      traceablePaymentExempt: call.user.traceablePaymentExempt,
      veterinarian: isVeterinarian(call.user),
    });
    if (!outcome.accepted) return reject(outcome.messages);
    const warnings = outcome.messages.filter((message) => message.type === 'W');
    return documentResponse(call, warnings.length > 0 ? '2' : '0', protocol, [...warnings, MESSAGES.ok]);
  };
}

function readRequestDocument(call: SoapCall): ExpenseDocument {
  const ns = requestNamespace(call);
  const child = (name: string) => requestChild(call, call.payload, name)!;
  switch (call.operation.name) {
    case 'insert':
      return readSyncDocument(child(FIELD.insertDocument), ns, 'insert');
    case 'update':
      return readSyncDocument(child(FIELD.updateDocument), ns, 'update');
    case 'refund':
      return readSyncDocument(
        child(FIELD.refundDocument),
        ns,
        'refund',
        readDocumentId(child(FIELD.refundedDocumentId), ns),
      );
    default:
      return cancellationOf(readDocumentId(child(FIELD.cancelDocumentId), ns));
  }
}

function documentResponse(
  call: SoapCall,
  outcome: '0' | '1' | '2',
  protocol: string | undefined,
  messages: DocumentMessage[],
): string {
  const w = responseWriter(call);
  const list = messages
    .map((message) =>
      w.node(
        FIELD.message,
        w.leaf(FIELD.code, message.code) +
          w.leaf(FIELD.description, message.text) +
          // The success message comes with an empty tipo in the captured responses (§1.9).
          w.leaf(FIELD.messageType, message.code === MESSAGES.ok.code ? '' : message.type),
      ),
    )
    .join('');
  return responseElement(
    call,
    w.leaf(FIELD.callOutcome, outcome) +
      (protocol ? w.leaf(FIELD.protocol, protocol) : '') +
      w.node(FIELD.messages, list),
  );
}
