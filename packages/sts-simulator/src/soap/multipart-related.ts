import { MIMEType } from 'node:util';
import {
  MaxHeaderSizeExceededError,
  MaxPartsExceededError,
  MultipartParseError,
  type MultipartPart,
  parseMultipart,
} from '@remix-run/multipart-parser';

/**
 * Reads `multipart/related` bodies (MTOM/XOP and SOAP with attachments, docs/protocol.md §1.5): the
 * root part (the `start` parameter, else the first part) and the other parts by Content-ID. The parts
 * are split by @remix-run/multipart-parser, Content-Type values parsed by Node's `MIMEType`;
 * `Content-Transfer-Encoding: base64` parts are decoded here.
 */

export interface MimePart {
  /** Lower-case names. */
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
  try {
    const type = new MIMEType(header ?? '');
    return { mediaType: type.essence, parameters: Object.fromEntries(type.params) };
  } catch {
    // Not a media type at all: whatever stands before the first `;`, so that callers can name it.
    return { mediaType: (header ?? '').split(';')[0]!.trim().toLowerCase(), parameters: {} };
  }
}

const stripAngles = (id: string) => id.trim().replace(/^<(.*)>$/, '$1');

/**
 * Real messages have two parts (envelope and file) with a few header lines each; the caps keep a body
 * of thousands of tiny parts or one endless header from costing far more memory than its size.
 */
export const MAX_PARTS = 32;
export const MAX_PART_HEADER_BYTES = 16 * 1024;

function mimePart(part: MultipartPart): MimePart {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(part.headers)) if (value !== undefined) headers[name] = value;
  const bytes = part.bytes;
  let body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const encoding = headers['content-transfer-encoding']?.toLowerCase();
  if (encoding === 'base64') body = Buffer.from(body.toString('latin1').replace(/\s+/g, ''), 'base64');
  else if (encoding === 'quoted-printable')
    throw new MultipartError('quoted-printable parts are not supported');
  const contentId = headers['content-id'];
  return { headers, contentId: contentId ? stripAngles(contentId) : undefined, body };
}

function multipartError(error: unknown): unknown {
  if (error instanceof MaxPartsExceededError)
    return new MultipartError(`the multipart body has more than ${MAX_PARTS} parts`);
  if (error instanceof MaxHeaderSizeExceededError)
    return new MultipartError(`the headers of a MIME part exceed ${MAX_PART_HEADER_BYTES} bytes`);
  if (error instanceof MultipartParseError) return new MultipartError(error.message);
  return error;
}

export function parseMultipartRelated(body: Buffer, contentType: ContentType): MultipartRelated {
  const boundary = contentType.parameters.boundary;
  if (!boundary) throw new MultipartError('multipart/related without a boundary parameter');
  // A preamble may come before the first delimiter (RFC 2046 §5.1.1: some stacks send a blank
  // line); the parser wants the delimiter first.
  const first = body.indexOf(`--${boundary}`, 0, 'latin1');
  if (first === -1) throw new MultipartError('the multipart body does not contain its boundary');
  const parts: MimePart[] = [];
  try {
    for (const part of parseMultipart(body.subarray(first), {
      boundary,
      maxParts: MAX_PARTS,
      maxHeaderSize: MAX_PART_HEADER_BYTES,
      // The HTTP body limit bounds the sizes already.
      maxFileSize: body.length,
      maxTotalSize: body.length,
    })) {
      parts.push(mimePart(part));
    }
  } catch (error) {
    throw multipartError(error);
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
