import type { Clock } from '@sts/shared';
import type { FieldDecryptor } from '../crypto/field-decryptor.ts';
import { type DocumentMessage, uploadCodeMessage } from '../documents/document-messages.ts';
import type { FaultInjector } from '../faults/fault-injector.ts';
import { FIELD } from '../protocol/field-names.ts';
import { checkPincode } from '../soap/caller-checks.ts';
import {
  requestChild,
  requestText,
  responseElement,
  responseWriter,
  type SoapCall,
} from '../soap/soap-call.ts';
import type { XmlElement } from '../soap/xml-tree.ts';
import type { UploadRecord } from '../uploads/upload-store.ts';

/**
 * What the three receipt services (EsitoInvii, DettaglioErrori, RicevutaPdf) share: the
 * `DatiInputRichiesta` with its encrypted `pinCode`, and answers `DatiOutputRichiesta` with
 * `esitoChiamata` 0 and `esitiPositivi`, or 1 and `esitiNegativi/dettaglioEsitoNegativo` (RIC15 §2).
 * A wrong pincode is answered as a negative outcome with the upload's code (104, 002), a simulator
 * choice: RIC15 gives no code for it.
 */

export interface ReceiptInput {
  input: XmlElement | undefined;
  text(name: string): string | undefined;
  /** The pincode problem as a negative outcome, if any. */
  pincodeProblem: DocumentMessage | undefined;
}

export function readReceiptInput(call: SoapCall, decryptor: FieldDecryptor): ReceiptInput {
  const input = requestChild(call, call.payload, FIELD.input);
  const text = (name: string) => (input ? requestText(call, input, name) || undefined : undefined);
  const problem = checkPincode(call.user, text(FIELD.receiptPincode), decryptor);
  return { input, text, pincodeProblem: problem ? uploadCodeMessage(problem) : undefined };
}

/** `DatiOutputRichiesta` with `esitoChiamata`, an optional `descrizioneEsito` (EsitoInvii only), and the outcome lists. */
export function receiptResponse(
  call: SoapCall,
  parts: { outcome: 0 | 1; description?: string; positives?: string; negatives?: DocumentMessage[] },
): string {
  const w = responseWriter(call);
  let content = w.leaf(FIELD.callOutcome, parts.outcome);
  if (parts.description !== undefined) content += w.leaf(FIELD.resultDescription, parts.description);
  if (parts.positives !== undefined) content += w.node(FIELD.positives, parts.positives);
  if (parts.negatives && parts.negatives.length > 0) {
    content += w.node(
      FIELD.negatives,
      parts.negatives
        .map((negative) =>
          w.node(
            FIELD.negative,
            w.leaf(FIELD.code, negative.code) + w.leaf(FIELD.description, negative.text),
          ),
        )
        .join(''),
    );
  }
  return responseElement(call, w.node(FIELD.output, content));
}

/** What decides whether a processed upload's receipts are ready. */
export interface ReceiptReadiness {
  faults: FaultInjector;
  clock: Clock;
  /** Time from the end of processing until DettaglioErrori and RicevutaPdf give the receipt (0: at once). */
  receiptDelayMs: () => number;
}

/**
 * Whether a receipt call on the caller's own upload is answered WS15 "not ready yet" (the simulator's
 * reading of an unconfirmed code, docs/protocol.md §1.8): a `receipt-not-ready` fault for it, or a
 * processed upload whose receipts are still within the configured delay. A queued upload has its own
 * answer (WS95); the delay counts from the end of processing, so EsitoInvii already says 2/3/5.
 */
export function receiptNotReady(call: SoapCall, record: UploadRecord, readiness: ReceiptReadiness): boolean {
  if (
    readiness.faults.receiptNotReady({
      user: call.user.username,
      operation: call.operation.name,
      protocol: record.protocol,
    })
  )
    return true;
  if (record.state !== 'processed' || !record.result) return false;
  const readyAt = Date.parse(record.result.processedAt) + readiness.receiptDelayMs();
  return readiness.clock().getTime() < readyAt;
}
