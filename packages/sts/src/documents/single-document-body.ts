import type { SanitelEncryptor } from '../crypto/sanitel-encryptor.ts';
import { assertSealedPincode } from '../crypto/sealed-pincode.ts';
import {
  documentIdContent,
  documentIdElement,
  documentTypeElement,
  lineElement,
  oppositionElement,
  ownerContent,
  patientTaxCodeElement,
  type QualifyName,
  traceablePaymentElement,
} from './document-xml.ts';
import { type AnySender, encryptSender } from './encrypted-sender.ts';
import type { ExpenseDocument, Operation } from './expense-document.ts';
import {
  type DocumentRules,
  InvalidDocumentError,
  validateDocumentId,
  validateEncryptedDocument,
} from './validate-document.ts';
import { PAID_IN_ADVANCE_CODE, SINGLE_DOCUMENT, SINGLE_DOCUMENT_OPERATIONS, XML } from './xml-names.ts';
import { element, escapeXml } from './xml-text.ts';

/**
 * Request bodies of the synchronous single-document service (`DocumentoSpesa730p`, schema
 * `DocumentoSpesa730pSchema.xsd`). Differences from the batch file, all from that XSD: every element is
 * qualified in `http://documentospesap730.sanita.finanze.it`; `documentoSpesa` has no `flagOperazione`
 * and no `idRimborso` (the operation picks the request element) and puts `pagamentoTracciato`,
 * `tipoDocumento`, `flagOpposizione` AFTER the `voceSpesa` lines.
 */

export interface SingleDocumentHeader {
  /** `opzionale1..3`, written only when given. */
  optional1?: string;
  optional2?: string;
  optional3?: string;
  /** The sender's pincode, already encrypted with SanitelCF (as the credential vault leases it). */
  encryptedPincode: string;
  /** `Proprietario`, optional in the XSD; its codice fiscale is encrypted here if given in clear. */
  sender?: AnySender;
}

export interface SingleDocumentRequestInput {
  header: SingleDocumentHeader;
  /** The operation is the document's own: insert, update, refund (with `refundedDocumentId`) or cancel. */
  document: ExpenseDocument;
  /** Needed only when the sender's codice fiscale is given in clear. */
  encryptor?: SanitelEncryptor;
  rules?: DocumentRules;
}

export interface SingleDocumentRequest {
  operation: Operation;
  /** Local name of the request element, e.g. `inserimentoDocumentoSpesaRequest`. */
  requestElement: string;
  /** The SOAPAction of the operation, from the WSDL. */
  soapAction: string;
  /** The request element, declaring its namespace, ready to be the child of a SOAP Body. */
  xml: string;
}

const q: QualifyName = (name) => `${SINGLE_DOCUMENT.prefix}:${name}`;
const leaf = (name: string, text: string) => element(q(name), text);
const wrap = (name: string, content: string) => `<${q(name)}>${content}</${q(name)}>`;

/** `documentoSpesa` content in the service's order. */
function documentContent(document: ExpenseDocument): string {
  let content = documentIdElement(XML.id, document.id, q);
  content += leaf(XML.paymentDate, document.paymentDate);
  if (document.paidInAdvance) content += leaf(XML.paidInAdvance, PAID_IN_ADVANCE_CODE);
  content += patientTaxCodeElement(document, q);
  for (const line of document.lines) content += lineElement(line, q);
  content += traceablePaymentElement(document, q);
  content += documentTypeElement(document, q);
  content += oppositionElement(document, q);
  return content;
}

function headerContent(input: SingleDocumentRequestInput): string {
  const { header } = input;
  assertSealedPincode(header.encryptedPincode);
  let content = '';
  if (header.optional1 !== undefined) content += leaf(XML.optional1, header.optional1);
  if (header.optional2 !== undefined) content += leaf(XML.optional2, header.optional2);
  if (header.optional3 !== undefined) content += leaf(XML.optional3, header.optional3);
  content += leaf(SINGLE_DOCUMENT.pincode, header.encryptedPincode);
  if (header.sender) {
    const sender = encryptSender(header.sender, input.encryptor, input.rules);
    content += wrap(SINGLE_DOCUMENT.owner, ownerContent(sender, q));
  }
  return content;
}

/**
 * Builds the request element for one document. Validates first (a cancellation only needs a valid
 * document id); throws `InvalidDocumentError` with the violations otherwise.
 */
export function buildSingleDocumentRequest(input: SingleDocumentRequestInput): SingleDocumentRequest {
  const { document } = input;
  let body: string;
  const operation = document.operation;
  if (operation === 'cancel') {
    const id = validateDocumentId(document.id, input.rules);
    if (!id.ok) throw new InvalidDocumentError('The document to cancel', id.violations);
    body = wrap(SINGLE_DOCUMENT_OPERATIONS.cancel.documentId, documentIdContent(id.value, q));
  } else {
    const checked = validateEncryptedDocument(document, input.rules);
    if (!checked.ok) throw new InvalidDocumentError('The document', checked.violations);
    const valid = checked.value;
    if (operation === 'refund') {
      body =
        wrap(
          SINGLE_DOCUMENT_OPERATIONS.refund.refundedDocumentId,
          documentIdContent(valid.refundedDocumentId!, q),
        ) + wrap(SINGLE_DOCUMENT_OPERATIONS.refund.document, documentContent(valid));
    } else {
      body = wrap(SINGLE_DOCUMENT_OPERATIONS[operation].document, documentContent(valid));
    }
  }
  const names = SINGLE_DOCUMENT_OPERATIONS[operation];
  const requestElement = names.request;
  const xml =
    `<${q(requestElement)} xmlns:${SINGLE_DOCUMENT.prefix}="${escapeXml(SINGLE_DOCUMENT.namespace)}">` +
    headerContent(input) +
    body +
    `</${q(requestElement)}>`;
  return { operation, requestElement, soapAction: names.soapAction, xml };
}
