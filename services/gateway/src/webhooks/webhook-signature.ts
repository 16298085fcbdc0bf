import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures, after the Standard Webhooks model (https://www.standardwebhooks.com) but with
 * node:crypto rather than the `standardwebhooks` package (docs/decisions.md, "Webhooks"):
 *
 * - the secret is `whsec_` + base64 of 32 random bytes; the HMAC key is those 32 bytes;
 * - `Webhook-Signature: v1=<hex HMAC-SHA256(key, "<Webhook-Timestamp>.<body>")>`, several separated
 *   by spaces while a rotated-out secret still signs (a receiver accepts the request when any matches);
 * - the body's `id` is the `Webhook-Id`, so the id a receiver deduplicates on is signed too.
 */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

export const newWebhookSecret = (): string =>
  `${WEBHOOK_SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;

const keyOf = (secret: string): Buffer => {
  if (!secret.startsWith(WEBHOOK_SECRET_PREFIX)) throw new Error('not a webhook secret');
  return Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), 'base64');
};

/** `v1=<hex>` for one secret. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', keyOf(secret)).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The headers of one attempt: signed now, with every secret that signs (newest first). */
export function webhookHeaders(
  secrets: readonly string[],
  eventId: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': eventId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((secret) => signWebhook(secret, timestamp, body)).join(' '),
  };
}

/**
 * What a receiver does (the README's recipe, and the tests' receiver): the signature must match, the
 * timestamp be within `toleranceSeconds` of now. Refusing an id already seen is the receiver's part.
 */
export function verifyWebhook(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  options: { nowSeconds: number; toleranceSeconds?: number },
): { ok: true } | { ok: false; reason: 'bad-signature' | 'stale-timestamp' } {
  const timestamp = Number(headers.timestamp);
  if (!Number.isInteger(timestamp)) return { ok: false, reason: 'stale-timestamp' };
  if (Math.abs(options.nowSeconds - timestamp) > (options.toleranceSeconds ?? 300)) {
    return { ok: false, reason: 'stale-timestamp' };
  }
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const matches = (headers.signature ?? '')
    .split(' ')
    .some(
      (candidate) =>
        candidate.length === expected.length && timingSafeEqual(Buffer.from(candidate), expected),
    );
  return matches ? { ok: true } : { ok: false, reason: 'bad-signature' };
}
