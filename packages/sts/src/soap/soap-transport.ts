import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { MIMEType } from 'node:util';
import { parseMultipart } from '@remix-run/multipart-parser';

/**
 * The HTTP layer under node-soap: one place that decides what "sent" means. Everything the
 * exactly-once rule needs rests on it: a failure before the connection was established means the
 * STS never saw the request (safe to retry); after that, the STS may have acted on it, so the
 * caller gets "sent, but no answer" and must reconcile instead of resending.
 */

export interface TlsOptions {
  /** Extra trusted CAs (PEM): the kit's test CA for the test environment; none for production. */
  ca?: string | Buffer | (string | Buffer)[];
  /** The credential's client certificate (the `/enti/` endpoints), as PKCS#12 or PEM pair. */
  clientCertificate?: { pfx: Buffer; passphrase: string } | { cert: string; key: string };
  /** Opt-in for STS hosts that still need pre-2020 cipher suites (docs/protocol.md §2.4). */
  legacyCiphers?: boolean;
}

export interface TransportOptions {
  /** Sent on every request, before any challenge (the STS expects it pre-emptively). */
  basicAuth?: { user: string; password: string };
  tls?: TlsOptions;
  /** Time to establish TCP + TLS. Default 10 s. */
  connectTimeoutMs?: number;
  /** Time from the request being sent to the whole answer. Default 120 s: the STS can take over a minute. */
  responseTimeoutMs?: number;
  /** Largest answer accepted (monthly reports and receipts are the big ones). Default 64 MiB. */
  maxResponseBytes?: number;
}

/** An attachment sent as an MTOM/XOP part; the envelope refers to it as `cid:<contentId>`. */
export interface MtomAttachment {
  contentId: string;
  mimeType: string;
  body: Buffer;
}

export type TransportPhase = 'not-sent' | 'sent';

/** A request that failed below SOAP: where it failed decides whether it may be sent again. */
export class TransportError extends Error {
  readonly phase: TransportPhase;
  readonly code: string | undefined;

  constructor(phase: TransportPhase, message: string, code?: string) {
    super(message);
    this.name = 'TransportError';
    this.phase = phase;
    this.code = code;
  }
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The SOAP envelope as text (for an MTOM answer: the root part, with attachments inlined as base64). */
  data: string;
}

const XOP_NS = 'http://www.w3.org/2004/08/xop/include';

/** The element content that points an MTOM part: node-soap writes it verbatim (`$xml`). */
export const xopInclude = (contentId: string) => ({
  $xml: `<xop:Include xmlns:xop="${XOP_NS}" href="cid:${contentId}"/>`,
});

function mtomBody(envelope: string, attachments: readonly MtomAttachment[]) {
  const boundary = `MIMEBoundary_${randomUUID()}`;
  const rootId = `rootpart.${randomUUID()}@sts`;
  const parts: Buffer[] = [
    Buffer.from(
      `--${boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type="text/xml"\r\n` +
        `Content-Transfer-Encoding: 8bit\r\nContent-ID: <${rootId}>\r\n\r\n`,
    ),
    Buffer.from(envelope, 'utf8'),
  ];
  for (const attachment of attachments) {
    parts.push(
      Buffer.from(
        `\r\n--${boundary}\r\nContent-Type: ${attachment.mimeType}\r\nContent-Transfer-Encoding: binary\r\n` +
          `Content-ID: <${attachment.contentId}>\r\n\r\n`,
      ),
      attachment.body,
    );
  }
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return {
    body: Buffer.concat(parts),
    contentType: `multipart/related; type="application/xop+xml"; start="<${rootId}>"; start-info="text/xml"; boundary="${boundary}"`,
  };
}

/** Splits a multipart/related answer and puts each referenced part back inline, base64, as SOAP without MTOM would. */
export function inlineMtomResponse(body: Buffer, contentType: string): string {
  const boundary = new MIMEType(contentType).params.get('boundary');
  if (!boundary) throw new Error('multipart answer without a boundary');
  // Anything before the first delimiter is a preamble (RFC 2046 §5.1.1); the parser wants the delimiter first.
  const first = body.indexOf(`--${boundary}`, 0, 'latin1');
  if (first === -1) throw new Error('multipart answer without its boundary');
  const [root, ...attachments] = parseMultipart(body.subarray(first), {
    boundary,
    // The answer is already bounded by maxResponseBytes.
    maxFileSize: body.length,
    maxTotalSize: body.length,
  });
  if (!root) throw new Error('multipart answer without parts');
  let envelope = root.text;
  for (const attachment of attachments) {
    const id = attachment.headers['content-id']?.replace(/^<(.*)>$/, '$1');
    if (!id) continue;
    const include = new RegExp(`<([\\w.-]+:)?Include[^>]*href="cid:${escapeRegExp(id)}"[^>]*/>`, 'g');
    envelope = envelope.replace(include, Buffer.from(attachment.bytes).toString('base64'));
  }
  return envelope;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A node-soap `httpClient`: node:http(s) with our timeouts, TLS, pre-emptive Basic auth and MTOM,
 * and `TransportError`s that say whether the request left this process.
 */
export function createSoapTransport(options: TransportOptions) {
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const responseTimeoutMs = options.responseTimeoutMs ?? 120_000;
  const maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
  const tls = options.tls ?? {};
  const clientCertificate = tls.clientCertificate;
  // Idle kept-alive sockets close after 4 s, before a server's usual idle limit (5 s and more).
  const agentOptions = { keepAlive: true, maxSockets: 4, timeout: 4_000 };
  const httpsAgent = new https.Agent({
    ...agentOptions,
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(clientCertificate && 'pfx' in clientCertificate
      ? { pfx: clientCertificate.pfx, passphrase: clientCertificate.passphrase }
      : {}),
    ...(clientCertificate && 'cert' in clientCertificate
      ? { cert: clientCertificate.cert, key: clientCertificate.key }
      : {}),
    ...(tls.legacyCiphers ? { ciphers: 'DEFAULT@SECLEVEL=1' } : {}),
  });
  const httpAgent = new http.Agent(agentOptions);
  const authorization = options.basicAuth
    ? `Basic ${Buffer.from(`${options.basicAuth.user}:${options.basicAuth.password}`, 'utf8').toString('base64')}`
    : undefined;

  function send(
    url: string,
    envelope: string,
    soapHeaders: Record<string, string | number>,
    attachments: readonly MtomAttachment[],
  ): Promise<RawResponse> {
    const target = new URL(url);
    const isHttps = target.protocol === 'https:';
    const framed =
      attachments.length > 0
        ? mtomBody(envelope, attachments)
        : { body: Buffer.from(envelope, 'utf8'), contentType: 'text/xml; charset=utf-8' };
    const headers: Record<string, string | number> = {
      'Content-Type': framed.contentType,
      'Content-Length': framed.body.length,
      Accept: 'text/xml, multipart/related',
      SOAPAction: String(soapHeaders.SOAPAction ?? '""'),
      ...(attachments.length > 0 ? { 'MIME-Version': '1.0' } : {}),
      ...(authorization ? { Authorization: authorization } : {}),
    };

    return new Promise<RawResponse>((resolve, reject) => {
      let connected = false;
      let settled = false;
      const fail = (error: TransportError) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(responseTimer);
        request.destroy();
        reject(error);
      };
      const request = (isHttps ? https : http).request(target, {
        method: 'POST',
        headers,
        agent: isHttps ? httpsAgent : httpAgent,
      });
      const connectTimer = setTimeout(
        () =>
          fail(
            new TransportError('not-sent', `no connection within ${connectTimeoutMs} ms`, 'CONNECT_TIMEOUT'),
          ),
        connectTimeoutMs,
      );
      let responseTimer: NodeJS.Timeout | undefined;
      const markConnected = () => {
        if (connected) return;
        connected = true;
        clearTimeout(connectTimer);
        responseTimer = setTimeout(
          () =>
            fail(new TransportError('sent', `no answer within ${responseTimeoutMs} ms`, 'RESPONSE_TIMEOUT')),
          responseTimeoutMs,
        );
      };
      request.on('socket', (socket: Socket) => {
        if (request.reusedSocket || (!socket.connecting && !isHttps)) return markConnected();
        socket.once(isHttps ? 'secureConnect' : 'connect', markConnected);
      });
      request.on('error', (error: NodeJS.ErrnoException) => {
        // Once connected, the STS may have read the request, even on a kept-alive socket that then
        // resets: only the caller's reconciliation can tell, so that counts as sent. Idle sockets are
        // dropped after a few seconds (agent timeout) so that stale ones rarely cause this.
        fail(new TransportError(connected ? 'sent' : 'not-sent', error.message, error.code));
      });
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxResponseBytes) {
            fail(
              new TransportError(
                'sent',
                `answer larger than ${maxResponseBytes} bytes`,
                'RESPONSE_TOO_LARGE',
              ),
            );
          } else chunks.push(chunk);
        });
        response.on('error', (error: NodeJS.ErrnoException) =>
          fail(new TransportError('sent', error.message, error.code)),
        );
        response.on('aborted', () =>
          fail(new TransportError('sent', 'the answer was cut off', 'ECONNRESET')),
        );
        response.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(responseTimer);
          const body = Buffer.concat(chunks);
          const contentType = String(response.headers['content-type'] ?? '');
          try {
            const data = /multipart\/related/i.test(contentType)
              ? inlineMtomResponse(body, contentType)
              : body.toString('utf8');
            resolve({ status: response.statusCode ?? 0, headers: response.headers, data });
          } catch (error) {
            reject(
              new TransportError('sent', `unreadable answer: ${(error as Error).message}`, 'BAD_RESPONSE'),
            );
          }
        });
      });
      request.end(framed.body);
    });
  }

  return {
    /** The node-soap `IHttpClient` contract: the envelope node-soap built, our framing and transport. */
    request(
      rurl: string,
      data: string,
      callback: (error: unknown, response?: RawResponse, body?: string) => void,
      exheaders?: Record<string, string | number>,
      exoptions?: { attachments?: MtomAttachment[] },
    ) {
      const promise = send(rurl, data, exheaders ?? {}, exoptions?.attachments ?? []);
      promise.then(
        (response) => callback(null, response, response.data),
        (error) => callback(error),
      );
      // node-soap only chains on the promise; a rejection is already reported through the callback.
      return promise.catch(() => undefined) as never;
    },
    close() {
      httpsAgent.destroy();
      httpAgent.destroy();
    },
  };
}

export type SoapTransport = ReturnType<typeof createSoapTransport>;
