import type { SanitelEncryptor } from '../crypto/sanitel-encryptor.ts';
import {
  documentIdElement,
  documentTypeElement,
  lineElement,
  oppositionElement,
  ownerContent,
  patientTaxCodeElement,
  unqualified as q,
  traceablePaymentElement,
} from '../documents/document-xml.ts';
import { type AnySender, encryptSender } from '../documents/encrypted-sender.ts';
import type { EncryptedTaxCode, ExpenseDocument, Sender } from '../documents/expense-document.ts';
import {
  type DocumentRules,
  InvalidDocumentError,
  validateEncryptedDocument,
} from '../documents/validate-document.ts';
import { OPERATION_CODES, PAID_IN_ADVANCE_CODE, PRECOMPILATA, XML } from '../documents/xml-names.ts';
import { element } from '../documents/xml-text.ts';

/**
 * The 730 batch file (`730_precompilata.xsd`): `precompilata` → `proprietario` → `documentoSpesa+`,
 * every element in the XSD's sequence order (docs/protocol.md §3.1). One document per line, no other
 * whitespace. Documents are validated before they are written, so an invalid document can never end up
 * in a file (the STS would reject the whole file against the schema).
 */

export interface PrecompilataOptions {
  /** In clear (encrypted here with `encryptor`) or already encrypted. */
  sender: AnySender;
  encryptor?: SanitelEncryptor;
  rules?: DocumentRules;
}

export interface PrecompilataWriter {
  /** The encrypted sender as written in `proprietario`. */
  readonly sender: Sender<EncryptedTaxCode>;
  /** XML declaration, root start tag and `proprietario`. */
  readonly header: string;
  /** Validates a document and returns its `documentoSpesa` element; throws `InvalidDocumentError`. */
  renderDocument(document: ExpenseDocument): string;
  readonly footer: string;
}

/** Renders one (already validated) document in the file's element order. */
export function documentElement(document: ExpenseDocument): string {
  let content = documentIdElement(XML.id, document.id, q);
  if (document.refundedDocumentId)
    content += documentIdElement(XML.refundedDocumentId, document.refundedDocumentId, q);
  content += element(XML.paymentDate, document.paymentDate);
  if (document.paidInAdvance) content += element(XML.paidInAdvance, PAID_IN_ADVANCE_CODE);
  content += element(XML.operation, OPERATION_CODES[document.operation]);
  content += patientTaxCodeElement(document, q);
  content += traceablePaymentElement(document, q);
  content += documentTypeElement(document, q);
  content += oppositionElement(document, q);
  for (const line of document.lines) content += lineElement(line, q);
  return `<${XML.document}>${content}</${XML.document}>\n`;
}

export function createPrecompilataWriter(options: PrecompilataOptions): PrecompilataWriter {
  const sender = encryptSender(options.sender, options.encryptor, options.rules);
  const header =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<${PRECOMPILATA.root} xmlns:xsi="${PRECOMPILATA.xsiNamespace}" xsi:noNamespaceSchemaLocation="${PRECOMPILATA.schemaFile}">\n` +
    `<${PRECOMPILATA.owner}>${ownerContent(sender, q)}</${PRECOMPILATA.owner}>\n`;
  return {
    sender,
    header,
    footer: `</${PRECOMPILATA.root}>\n`,
    renderDocument(document) {
      const checked = validateEncryptedDocument(document, options.rules);
      if (!checked.ok) throw new InvalidDocumentError(describeDocument(document), checked.violations);
      return documentElement(checked.value);
    },
  };
}

/** Names a document in errors by its public identifier (never by the patient). */
export function describeDocument(document: ExpenseDocument): string {
  const id = document?.id;
  return id ? `Document ${id.vatNumber} ${id.issueDate} ${id.device}/${id.number}` : 'A document';
}

/**
 * Streams a whole 730 file as text chunks: header, one chunk per document, footer. Throws on the
 * first invalid document (before writing it), and before writing anything when there are no
 * documents (the XSD needs at least one).
 */
export async function* buildPrecompilataXml(
  documents: Iterable<ExpenseDocument> | AsyncIterable<ExpenseDocument>,
  options: PrecompilataOptions,
): AsyncGenerator<string> {
  const writer = createPrecompilataWriter(options);
  const iterator = toAsyncIterator(documents);
  let next = await iterator.next();
  if (next.done) throw new Error('A 730 file needs at least one document');
  yield writer.header;
  while (!next.done) {
    yield writer.renderDocument(next.value);
    next = await iterator.next();
  }
  yield writer.footer;
}

const toAsyncIterator = <T>(items: Iterable<T> | AsyncIterable<T>): AsyncIterator<T> | Iterator<T> =>
  Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : items[Symbol.iterator]();

/** The whole file as one string (for small files and tests). */
export async function renderPrecompilataXml(
  documents: Iterable<ExpenseDocument> | AsyncIterable<ExpenseDocument>,
  options: PrecompilataOptions,
): Promise<string> {
  let xml = '';
  for await (const chunk of buildPrecompilataXml(documents, options)) xml += chunk;
  return xml;
}
