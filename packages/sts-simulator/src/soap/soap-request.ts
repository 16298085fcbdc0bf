import { FIELD } from '../protocol/field-names.ts';
import {
  findAttachment,
  MultipartError,
  type MultipartRelated,
  parseContentType,
  parseMultipartRelated,
} from './multipart-related.ts';
import { MTOM_READER_FAULT, SoapFault } from './soap-messages.ts';

/**
 * The SOAP message of a request, whatever its packaging (docs/protocol.md §1.5): plain `text/xml`, or
 * `multipart/related` (MTOM/XOP or SwA) with the root part first. The `documento` of an upload is taken
 * out of the XML before anything parses it: as an XOP attachment (`<xop:Include href="cid:…"/>`), as
 * SoapUI's `cid:name` text, or inline base64. A 5 MB zip thus never goes through the XML parser or the
 * schema validator, which see an empty `documento` (a valid xs:base64Binary) instead.
 */

export interface ExtractedDocument {
  bytes: Buffer;
  transport: 'xop' | 'cid-text' | 'inline-base64';
}

export interface SoapRequest {
  /** The envelope as text, `documento` emptied when it was extracted. */
  xml: string;
  /** The upload's attachment, when the message has a `documento`. */
  document: ExtractedDocument | undefined;
  multipart: boolean;
}

/**
 * The envelope, `documento` aside, is parsed into a tree and validated; real ones are a few KB. A tree
 * costs some 50 times its text, so without a cap a body of tiny elements as large as the HTTP limit
 * (32 MiB) would take gigabytes and seconds of the event loop.
 */
export const MAX_ENVELOPE_CHARS = 1024 * 1024;

const DOCUMENT_OPEN = new RegExp(`<${FIELD.document}(\\s[^>]*)?>`);
const DOCUMENT_CLOSE = new RegExp(`</${FIELD.document}\\s*>`);
const HREF = /\shref\s*=\s*(["'])(.*?)\1/;
const BASE64_TEXT = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

function decodeText(bytes: Buffer, charset: string | undefined): string {
  const encoding = (charset ?? 'utf-8').toLowerCase();
  if (encoding === 'iso-8859-1' || encoding === 'latin1') return bytes.toString('latin1');
  return bytes.toString('utf8');
}

export function readSoapRequest(body: Buffer, contentTypeHeader: string | undefined): SoapRequest {
  const contentType = parseContentType(contentTypeHeader);
  let xml: string;
  let related: MultipartRelated | undefined;
  if (contentType.mediaType === 'multipart/related') {
    try {
      related = parseMultipartRelated(body, contentType);
    } catch (error) {
      throw new SoapFault({
        code: 'Client',
        message: MTOM_READER_FAULT,
        reason: error instanceof MultipartError ? error.message : 'MULTIPART',
      });
    }
    const rootType = parseContentType(related.root.headers['content-type']);
    xml = decodeText(related.root.body, rootType.parameters.charset);
  } else {
    xml = decodeText(body, contentType.parameters.charset);
  }
  const extracted = extractDocument(xml, related);
  if (extracted.xml.length > MAX_ENVELOPE_CHARS) {
    throw new SoapFault({
      code: 'Client',
      message: `The SOAP message exceeds ${MAX_ENVELOPE_CHARS} characters, the attached file aside`,
      reason: 'MESSAGGIO_TROPPO_GRANDE',
    });
  }
  return { xml: extracted.xml, document: extracted.document, multipart: related !== undefined };
}

function extractDocument(
  xml: string,
  related: MultipartRelated | undefined,
): { xml: string; document: ExtractedDocument | undefined } {
  const open = DOCUMENT_OPEN.exec(xml);
  if (!open) return { xml, document: undefined };
  const contentStart = open.index + open[0].length;
  const close = DOCUMENT_CLOSE.exec(xml.slice(contentStart));
  if (!close) return { xml, document: undefined };
  const contentEnd = contentStart + close.index;
  const content = xml.slice(contentStart, contentEnd);
  const replace = (replacement: string) => xml.slice(0, contentStart) + replacement + xml.slice(contentEnd);
  const attachments = related?.attachments ?? new Map();

  if (content.includes('<')) {
    const href = HREF.exec(content)?.[2];
    if (!/Include\b/.test(content) || !href) return { xml, document: undefined };
    const part = findAttachment(attachments, href);
    if (!part) {
      throw new SoapFault({ code: 'Client', message: MTOM_READER_FAULT, reason: 'ALLEGATO_NON_TROVATO' });
    }
    return { xml: replace(''), document: { bytes: part.body, transport: 'xop' } };
  }
  const text = content.trim();
  if (/^cid:/i.test(text)) {
    const part = findAttachment(attachments, text);
    // Unresolved, the text stays: the schema validator then reports it as not base64, like the STS.
    if (!part) return { xml, document: undefined };
    return { xml: replace(''), document: { bytes: part.body, transport: 'cid-text' } };
  }
  if (!BASE64_TEXT.test(content)) return { xml, document: undefined };
  return {
    xml: replace(''),
    document: { bytes: Buffer.from(content.replace(/\s+/g, ''), 'base64'), transport: 'inline-base64' },
  };
}
