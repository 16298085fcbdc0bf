/**
 * Reads `multipart/related` bodies (MTOM/XOP and SOAP with attachments, docs/protocol.md §1.5): the
 * root part (the `start` parameter, else the first part) and the other parts by Content-ID. Parts
 * are sliced out of the body without copying; `Content-Transfer-Encoding: base64` parts are decoded.
 */

export interface MimePart {
  headers: Record<string, string>;
  /** Content-ID without angle brackets, if any. */
  contentId: string | undefined;
  body: Buffer;
}

export interface MultipartRelated {
  root: MimePart;
  /** Every part but the root, by Content-ID. */
  attachments: Map<string, MimePart>;
}

export class MultipartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultipartError';
  }
}

export interface ContentType {
  mediaType: string;
  parameters: Record<string, string>;
}

/** Parses a Content-Type header value, including quoted parameters (`start="<rootpart@soapui.org>"`). */
export function parseContentType(header: string | undefined): ContentType {
  const value = header ?? '';
  const semicolon = value.indexOf(';');
  const mediaType = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  const parameters: Record<string, string> = {};
  const rest = semicolon === -1 ? '' : value.slice(semicolon + 1);
  const pattern = /\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))\s*;?/g;
  for (const match of rest.matchAll(pattern)) {
    parameters[match[1]!.toLowerCase()] = (match[2] ?? match[3] ?? '').replace(/\\(.)/g, '$1').trim();
  }
  return { mediaType, parameters };
}

const stripAngles = (id: string) => id.trim().replace(/^<(.*)>$/, '$1');

/**
 * Real messages have two parts (envelope and file) with a few header lines each; the caps keep a body
 * of thousands of tiny parts or one endless header from costing far more memory than its size.
 */
export const MAX_PARTS = 32;
export const MAX_PART_HEADER_BYTES = 16 * 1024;

const CRLF_CRLF = Buffer.from('\r\n\r\n');
const LF_LF = Buffer.from('\n\n');

function parsePart(raw: Buffer): MimePart {
  let headerEnd = raw.indexOf(CRLF_CRLF);
  let separatorLength = 4;
  if (headerEnd === -1) {
    headerEnd = raw.indexOf(LF_LF);
    separatorLength = 2;
  }
  if (headerEnd === -1) throw new MultipartError('a MIME part has no header/body separator');
  if (headerEnd > MAX_PART_HEADER_BYTES)
    throw new MultipartError(`the headers of a MIME part exceed ${MAX_PART_HEADER_BYTES} bytes`);
  const headers: Record<string, string> = {};
  let lastName: string | undefined;
  for (const line of raw.toString('latin1', 0, headerEnd).split(/\r?\n/)) {
    if (/^\s/.test(line) && lastName) {
      headers[lastName] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    lastName = line.slice(0, colon).trim().toLowerCase();
    headers[lastName] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(headerEnd + separatorLength);
  const encoding = headers['content-transfer-encoding']?.toLowerCase();
  if (encoding === 'base64') body = Buffer.from(body.toString('latin1').replace(/\s+/g, ''), 'base64');
  else if (encoding === 'quoted-printable')
    throw new MultipartError('quoted-printable parts are not supported');
  const contentId = headers['content-id'];
  return { headers, contentId: contentId ? stripAngles(contentId) : undefined, body };
}

export function parseMultipartRelated(body: Buffer, contentType: ContentType): MultipartRelated {
  const boundary = contentType.parameters.boundary;
  if (!boundary) throw new MultipartError('multipart/related without a boundary parameter');
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: MimePart[] = [];
  let position = body.indexOf(delimiter);
  if (position === -1) throw new MultipartError('the multipart body does not contain its boundary');
  while (position !== -1) {
    let start = position + delimiter.length;
    // "--" right after the delimiter closes the multipart body.
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break;
    // Skip transport padding and the line break ending the delimiter line.
    while (body[start] === 0x20 || body[start] === 0x09) start++;
    if (body[start] === 0x0d) start++;
    if (body[start] === 0x0a) start++;
    const next = body.indexOf(delimiter, start);
    if (next === -1) throw new MultipartError('the multipart body is not closed by its boundary');
    // The line break before the next delimiter belongs to the delimiter.
    let end = next;
    if (body[end - 1] === 0x0a) end--;
    if (body[end - 1] === 0x0d) end--;
    if (parts.length === MAX_PARTS)
      throw new MultipartError(`the multipart body has more than ${MAX_PARTS} parts`);
    parts.push(parsePart(body.subarray(start, end)));
    position = next;
  }
  if (parts.length === 0) throw new MultipartError('the multipart body has no parts');
  const start = contentType.parameters.start ? stripAngles(contentType.parameters.start) : undefined;
  const root = (start && parts.find((part) => part.contentId === start)) || parts[0]!;
  const attachments = new Map<string, MimePart>();
  for (const part of parts) {
    if (part !== root && part.contentId !== undefined) attachments.set(part.contentId, part);
  }
  return { root, attachments };
}

/** Finds the part a `cid:` reference names (RFC 2392: the reference is URL-encoded). */
export function findAttachment(attachments: Map<string, MimePart>, reference: string): MimePart | undefined {
  const raw = reference.trim().replace(/^cid:/i, '');
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // keep the raw form
  }
  return attachments.get(decoded) ?? attachments.get(raw);
}
