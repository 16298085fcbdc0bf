import { request } from 'node:https';
import type { Issued } from './certificates.ts';

/** An answer of the service over HTTPS: status and parsed JSON body (`{}` when empty). */
export interface HttpsAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever the answer holds.
  json: Record<string, any>;
}

/**
 * Calls the service over real HTTPS, as an operator with a CNS card (`card`) or without one (a
 * service token in `headers`), trusting the CA that issued the service's certificate.
 */
export function httpsClient(options: { baseUrl: () => string; serverCa: Issued }) {
  return (
    method: string,
    path: string,
    call: { card?: Issued; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<HttpsAnswer> =>
    new Promise((resolve, reject) => {
      const req = request(
        new URL(path, options.baseUrl()),
        {
          method,
          ca: options.serverCa.certificatePem,
          ...(call.card ? { cert: call.card.certificatePem, key: call.card.privateKeyPem } : {}),
          headers: { ...(call.body ? { 'content-type': 'application/json' } : {}), ...call.headers },
          agent: false,
          // The card's RSA-1024 key, as on many CNS cards: OpenSSL 3 needs security level 1 for it.
          ciphers: 'DEFAULT:@SECLEVEL=1',
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            resolve({ status: response.statusCode ?? 0, json: text ? JSON.parse(text) : {} });
          });
        },
      );
      req.on('error', reject);
      req.end(call.body ? JSON.stringify(call.body) : undefined);
    });
}
