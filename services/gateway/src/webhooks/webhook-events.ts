import { CREDENTIAL_STATUSES, DOCUMENT_STATUSES, FINAL_DOCUMENT_STATUSES } from '@sts/shared';
import { z } from 'zod';

/**
 * The events a tenant can subscribe a webhook endpoint to, and what each carries: ids, statuses,
 * the STS protocol and message codes, never a codice fiscale, a secret or an STS message's text (a
 * message's text may quote the document, the patient's code included).
 */
export const WEBHOOK_EVENT_TYPES = [
  /** A document (one operation on it) changed status. */
  'invoice.status-changed',
  /** A document reached its final status with a protocol: the STS has answered for it. */
  'submission.completed',
  /** A credential cannot be used (a failed login, an expired password): its documents wait. */
  'credential.invalid',
  'credential.password-expiring',
  'credential.certificate-expiring',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const messageCode = z.strictObject({
  code: z.string().min(1).max(20),
  kind: z.enum(['error', 'warning', 'info']),
});

const credentialData = z.strictObject({
  credentialId: z.uuid(),
  status: z.enum(CREDENTIAL_STATUSES),
  usable: z.boolean(),
  reason: z.string().min(1).max(120).optional(),
  daysLeft: z.number().int().optional(),
  expiresAt: z.iso.datetime().optional(),
  at: z.iso.datetime(),
});

/** The `data` of each event type, strict: nothing else can slip into a webhook body. */
export const WEBHOOK_EVENT_DATA = {
  'invoice.status-changed': z.strictObject({
    invoiceId: z.uuid(),
    status: z.enum(DOCUMENT_STATUSES),
    previousStatus: z.enum(DOCUMENT_STATUSES).optional(),
    cause: z.string().min(1).max(60).optional(),
    protocol: z.string().min(1).max(40).optional(),
    messages: z.array(messageCode).max(100).optional(),
    at: z.iso.datetime(),
  }),
  'submission.completed': z.strictObject({
    invoiceId: z.uuid(),
    status: z.enum(FINAL_DOCUMENT_STATUSES),
    protocol: z.string().min(1).max(40),
    messages: z.array(messageCode).max(100).optional(),
    at: z.iso.datetime(),
  }),
  'credential.invalid': credentialData,
  'credential.password-expiring': credentialData,
  'credential.certificate-expiring': credentialData,
} satisfies Record<WebhookEventType, z.ZodType>;

export type WebhookEventData<Type extends WebhookEventType> = z.input<(typeof WEBHOOK_EVENT_DATA)[Type]>;

/** What a producer (the status consumer, the credential-event reader) hands to `emitWebhookEvent`. */
export type WebhookEventInput = {
  [Type in WebhookEventType]: {
    tenantId: string;
    type: Type;
    data: WebhookEventData<Type>;
    /**
     * Makes emitting idempotent: an event with the same key is recorded once per endpoint (e.g. the
     * status event's id). Without it every call is a new event.
     */
    dedupeKey?: string;
  };
}[WebhookEventType];
