import { type DocumentStatus, type DocumentStatusEvent, isFinalDocumentStatus } from '@sts/shared';
import type { WebhookEventInput } from './webhook-events.ts';

/**
 * The webhooks of one applied `document.status` event: `invoice.status-changed` always, and
 * `submission.completed` when the document reached its final status with a protocol. STS messages
 * go as code and kind only (their text may quote the document). Keyed by the status event's id, so
 * emitting them twice records them once.
 */
export function statusWebhookEvents(change: {
  event: DocumentStatusEvent;
  previous: { status: DocumentStatus } | null;
}): WebhookEventInput[] {
  const { event } = change;
  const messages = event.messages?.map(({ code, kind }) => ({ code, kind }));
  const events: WebhookEventInput[] = [
    {
      tenantId: event.tenantId,
      type: 'invoice.status-changed',
      dedupeKey: `status-${event.eventId}`,
      data: {
        invoiceId: event.invoiceId,
        status: event.status,
        ...(change.previous ? { previousStatus: change.previous.status } : {}),
        ...(event.cause ? { cause: event.cause } : {}),
        ...(event.protocol ? { protocol: event.protocol } : {}),
        ...(messages ? { messages } : {}),
        at: event.at,
      },
    },
  ];
  if (isFinalDocumentStatus(event.status) && event.protocol) {
    events.push({
      tenantId: event.tenantId,
      type: 'submission.completed',
      dedupeKey: `completed-${event.eventId}`,
      data: {
        invoiceId: event.invoiceId,
        status: event.status as 'accepted' | 'accepted_with_warnings' | 'rejected',
        protocol: event.protocol,
        ...(messages ? { messages } : {}),
        at: event.at,
      },
    });
  }
  return events;
}
