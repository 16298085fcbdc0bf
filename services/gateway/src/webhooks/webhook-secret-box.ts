import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** The smallest `GATEWAY_WEBHOOK_SECRET_KEY` accepted. */
export const MIN_WEBHOOK_SECRET_KEY_BYTES = 32;
const FORMAT = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Endpoint secrets at rest: AES-256-GCM under a key derived (HKDF-SHA256) from
 * `GATEWAY_WEBHOOK_SECRET_KEY`, with the endpoint's tenant and id as associated data, so a
 * ciphertext copied to another row does not open. Stored as `format(1) | iv(12) | tag(16) | data`.
 */
export interface WebhookSecretBox {
  seal(secret: string, context: { tenantId: string; endpointId: string }): Buffer;
  open(sealed: Buffer, context: { tenantId: string; endpointId: string }): string;
}

export function createWebhookSecretBox(keyMaterial: Buffer): WebhookSecretBox {
  if (keyMaterial.length < MIN_WEBHOOK_SECRET_KEY_BYTES) {
    throw new Error(`the webhook secret key must have at least ${MIN_WEBHOOK_SECRET_KEY_BYTES} bytes`);
  }
  const key = Buffer.from(
    hkdfSync('sha256', keyMaterial, Buffer.alloc(0), 'sts-gateway webhook secrets v1', 32),
  );
  const aad = ({ tenantId, endpointId }: { tenantId: string; endpointId: string }) =>
    Buffer.from(`webhook-endpoint\0${tenantId}\0${endpointId}`);
  return {
    seal(secret, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad(context));
      const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.of(FORMAT), iv, cipher.getAuthTag(), data]);
    },
    open(sealed, context) {
      if (sealed[0] !== FORMAT) throw new Error('unknown webhook secret format');
      const iv = sealed.subarray(1, 1 + IV_BYTES);
      const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(aad(context));
      decipher.setAuthTag(tag);
      return Buffer.concat([
        decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    },
  };
}
