import { randomUUID } from 'node:crypto';
import {
  type Clock,
  type FieldProblem,
  invalidRequest,
  type JobProducer,
  type Logger,
  notFound,
  ProblemError,
} from '@sts/shared';
import { and, asc, desc, eq, inArray, lt, or } from 'drizzle-orm';
import type { Database, Queryable } from '../db/database.ts';
import { isUuid } from '../tenants/tenant-store.ts';
import { type WebhookDeliveryRow, webhookDeliveriesTable } from './webhook-deliveries-table.ts';
import { webhookDeliveryAttemptsTable } from './webhook-delivery-attempts-table.ts';
import { type WebhookEndpointRow, webhookEndpointsTable } from './webhook-endpoints-table.ts';
import {
  WEBHOOK_EVENT_DATA,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventInput,
  type WebhookEventType,
} from './webhook-events.ts';
import type { WebhookSecretBox } from './webhook-secret-box.ts';
import { newWebhookSecret } from './webhook-signature.ts';
import { checkWebhookUrl, type WebhookUrlPolicy } from './webhook-url.ts';

/** How long a rotated-out secret keeps signing beside the new one. */
export const PREVIOUS_SECRET_GRACE_MS = 24 * 3600 * 1000;
const MAX_DESCRIPTION_LENGTH = 500;

export interface WebhookEndpointView {
  id: string;
  url: string;
  description: string | null;
  eventTypes: WebhookEventType[];
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookDeliveryView {
  id: string;
  eventId: string;
  eventType: WebhookEventType;
  status: WebhookDeliveryRow['status'];
  replayOf: string | null;
  createdAt: string;
  completedAt: string | null;
  attempts: { at: string; durationMs: number; httpStatus: number | null; errorClass: string | null }[];
}

export interface EndpointInput {
  url?: unknown;
  eventTypes?: unknown;
  description?: unknown;
  enabled?: unknown;
}

export interface WebhookServiceDeps {
  db: Database;
  clock: Clock;
  logger: Logger;
  secretBox: WebhookSecretBox;
  urlPolicy: WebhookUrlPolicy;
  producer: Pick<JobProducer<'gateway'>, 'enqueue' | 'enqueueMany'>;
}

const endpointView = (row: WebhookEndpointRow): WebhookEndpointView => ({
  id: row.id,
  url: row.url,
  description: row.description,
  eventTypes: row.eventTypes,
  enabled: row.enabled,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** Checks the fields given (all of them on create); problems name the field and the rule. */
function checkEndpointInput(
  input: EndpointInput,
  policy: WebhookUrlPolicy,
  creating: boolean,
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (input.url !== undefined || creating) {
    if (typeof input.url !== 'string')
      problems.push({ field: 'url', rule: 'required', message: 'A URL (string) is required.' });
    else problems.push(...checkWebhookUrl(input.url, policy));
  }
  if (input.eventTypes !== undefined || creating) {
    const types = input.eventTypes;
    if (!Array.isArray(types) || types.length === 0 || types.length > WEBHOOK_EVENT_TYPES.length * 2) {
      problems.push({
        field: 'eventTypes',
        rule: 'required',
        message: `A non-empty list of event types: ${WEBHOOK_EVENT_TYPES.join(', ')}.`,
      });
    } else {
      types.forEach((type, index) => {
        if (!(WEBHOOK_EVENT_TYPES as readonly unknown[]).includes(type)) {
          problems.push({
            field: `eventTypes.${index}`,
            rule: 'enum',
            message: `Must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}.`,
          });
        }
      });
    }
  }
  if (input.description !== undefined && input.description !== null) {
    if (typeof input.description !== 'string' || input.description.length > MAX_DESCRIPTION_LENGTH) {
      problems.push({
        field: 'description',
        rule: 'max-length',
        message: `A string of at most ${MAX_DESCRIPTION_LENGTH} characters.`,
      });
    }
  }
  if (input.enabled !== undefined && typeof input.enabled !== 'boolean') {
    problems.push({ field: 'enabled', rule: 'boolean', message: 'Must be true or false.' });
  }
  return problems;
}

const encodeCursor = (row: { createdAt: Date; id: string }) =>
  Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (!id || !isUuid(id) || Number.isNaN(createdAt.getTime())) {
    throw invalidRequest([
      { field: 'cursor', rule: 'cursor', message: 'Pass the nextCursor of a previous page, unchanged.' },
    ]);
  }
  return { createdAt, id };
}

export type WebhookService = ReturnType<typeof createWebhookService>;

/**
 * A tenant's webhook endpoints, the deliveries of its events and their replay. Every read and write
 * is scoped by the tenant: another tenant's endpoint or delivery id is "not found".
 */
export function createWebhookService(deps: WebhookServiceDeps) {
  const { db, clock, secretBox, urlPolicy, producer } = deps;

  async function findEndpoint(tenantId: string, id: string, tx: Queryable = db): Promise<WebhookEndpointRow> {
    if (!isUuid(id) || !isUuid(tenantId)) throw notFound('The webhook endpoint');
    const [row] = await tx
      .select()
      .from(webhookEndpointsTable)
      .where(and(eq(webhookEndpointsTable.id, id), eq(webhookEndpointsTable.tenantId, tenantId)));
    if (!row) throw notFound('The webhook endpoint');
    return row;
  }

  const enqueue = (rows: Pick<WebhookDeliveryRow, 'id' | 'tenantId' | 'endpointId'>[]) =>
    rows.length === 0
      ? Promise.resolve([])
      : producer.enqueueMany(
          'webhook.deliver',
          rows.map((row) => ({ tenantId: row.tenantId, endpointId: row.endpointId, deliveryId: row.id })),
        );

  /**
   * `emitWebhookEvent` for many events in two statements (the endpoints of their tenants, then
   * every delivery): the status consumer's batches. One result per event, in order.
   */
  async function emitWebhookEvents(
    events: readonly WebhookEventInput[],
    options: { db?: Queryable } = {},
  ): Promise<{ eventId: string; deliveryIds: string[] }[]> {
    const now = clock();
    const prepared = events.map((event) => ({
      event,
      data: WEBHOOK_EVENT_DATA[event.type].parse(event.data),
      eventId: randomUUID(),
    }));
    const results = prepared.map(({ eventId }) => ({ eventId, deliveryIds: [] as string[] }));
    const tenantIds = [...new Set(events.map((event) => event.tenantId).filter(isUuid))];
    if (tenantIds.length === 0) return results;
    const target = options.db ?? db;
    const endpoints = await target
      .select({
        id: webhookEndpointsTable.id,
        tenantId: webhookEndpointsTable.tenantId,
        eventTypes: webhookEndpointsTable.eventTypes,
      })
      .from(webhookEndpointsTable)
      .where(
        and(inArray(webhookEndpointsTable.tenantId, tenantIds), eq(webhookEndpointsTable.enabled, true)),
      );
    if (endpoints.length === 0) return results;
    const values = prepared.flatMap(({ event, data, eventId }, index) => {
      const subscribed = endpoints.filter(
        (endpoint) =>
          endpoint.tenantId === event.tenantId &&
          (endpoint.eventTypes as readonly string[]).includes(event.type),
      );
      if (subscribed.length === 0) return [];
      const body = JSON.stringify({ id: eventId, type: event.type, timestamp: now.toISOString(), data });
      return subscribed.map((endpoint) => ({
        index,
        row: {
          id: randomUUID(),
          tenantId: event.tenantId,
          endpointId: endpoint.id,
          eventId,
          eventType: event.type,
          body,
          dedupeKey: event.dedupeKey ?? null,
          createdAt: now,
        },
      }));
    });
    if (values.length === 0) return results;
    const rows = await target
      .insert(webhookDeliveriesTable)
      .values(values.map((value) => value.row))
      .onConflictDoNothing()
      .returning({
        id: webhookDeliveriesTable.id,
        tenantId: webhookDeliveriesTable.tenantId,
        endpointId: webhookDeliveriesTable.endpointId,
      });
    const inserted = new Set(rows.map((row) => row.id));
    for (const { index, row } of values) if (inserted.has(row.id)) results[index]!.deliveryIds.push(row.id);
    if (!options.db) await enqueue(rows);
    return results;
  }

  return {
    async createEndpoint(tenantId: string, input: EndpointInput) {
      const problems = checkEndpointInput(input, urlPolicy, true);
      if (problems.length) throw invalidRequest(problems);
      const id = randomUUID();
      const secret = newWebhookSecret();
      const now = clock();
      const [row] = await db
        .insert(webhookEndpointsTable)
        .values({
          id,
          tenantId,
          url: input.url as string,
          description: (input.description as string | null | undefined) ?? null,
          eventTypes: [...new Set(input.eventTypes as WebhookEventType[])],
          enabled: (input.enabled as boolean | undefined) ?? true,
          secretCiphertext: secretBox.seal(secret, { tenantId, endpointId: id }),
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      return { endpoint: endpointView(row!), secret };
    },

    async listEndpoints(tenantId: string): Promise<WebhookEndpointView[]> {
      const rows = await db
        .select()
        .from(webhookEndpointsTable)
        .where(eq(webhookEndpointsTable.tenantId, tenantId))
        .orderBy(asc(webhookEndpointsTable.createdAt), asc(webhookEndpointsTable.id));
      return rows.map(endpointView);
    },

    getEndpoint: async (tenantId: string, id: string) => endpointView(await findEndpoint(tenantId, id)),

    async updateEndpoint(tenantId: string, id: string, input: EndpointInput): Promise<WebhookEndpointView> {
      await findEndpoint(tenantId, id);
      const problems = checkEndpointInput(input, urlPolicy, false);
      if (problems.length) throw invalidRequest(problems);
      const [row] = await db
        .update(webhookEndpointsTable)
        .set({
          ...(input.url !== undefined ? { url: input.url as string } : {}),
          ...(input.eventTypes !== undefined
            ? { eventTypes: [...new Set(input.eventTypes as WebhookEventType[])] }
            : {}),
          ...(input.description !== undefined ? { description: input.description as string | null } : {}),
          ...(input.enabled !== undefined ? { enabled: input.enabled as boolean } : {}),
          updatedAt: clock(),
        })
        .where(and(eq(webhookEndpointsTable.id, id), eq(webhookEndpointsTable.tenantId, tenantId)))
        .returning();
      if (!row) throw notFound('The webhook endpoint');
      return endpointView(row);
    },

    async deleteEndpoint(tenantId: string, id: string): Promise<void> {
      await findEndpoint(tenantId, id);
      await db
        .delete(webhookEndpointsTable)
        .where(and(eq(webhookEndpointsTable.id, id), eq(webhookEndpointsTable.tenantId, tenantId)));
    },

    /** A new secret, shown once; the old one keeps signing beside it for a day. */
    async rotateSecret(tenantId: string, id: string) {
      return db.transaction(async (tx) => {
        const current = await findEndpoint(tenantId, id, tx);
        const secret = newWebhookSecret();
        const now = clock();
        const [row] = await tx
          .update(webhookEndpointsTable)
          .set({
            secretCiphertext: secretBox.seal(secret, { tenantId, endpointId: id }),
            previousSecretCiphertext: current.secretCiphertext,
            previousSecretExpiresAt: new Date(now.getTime() + PREVIOUS_SECRET_GRACE_MS),
            updatedAt: now,
          })
          .where(eq(webhookEndpointsTable.id, id))
          .returning();
        return {
          endpoint: endpointView(row!),
          secret,
          previousSecretExpiresAt: row!.previousSecretExpiresAt!.toISOString(),
        };
      });
    },

    async listDeliveries(
      tenantId: string,
      endpointId: string,
      page: { cursor?: string; limit?: number },
    ): Promise<{ deliveries: WebhookDeliveryView[]; nextCursor: string | null }> {
      await findEndpoint(tenantId, endpointId);
      const limit = page.limit ?? 50;
      const after = page.cursor ? decodeCursor(page.cursor) : undefined;
      const rows = await db
        .select()
        .from(webhookDeliveriesTable)
        .where(
          and(
            eq(webhookDeliveriesTable.endpointId, endpointId),
            eq(webhookDeliveriesTable.tenantId, tenantId),
            after
              ? or(
                  lt(webhookDeliveriesTable.createdAt, after.createdAt),
                  and(
                    eq(webhookDeliveriesTable.createdAt, after.createdAt),
                    lt(webhookDeliveriesTable.id, after.id),
                  ),
                )
              : undefined,
          ),
        )
        .orderBy(desc(webhookDeliveriesTable.createdAt), desc(webhookDeliveriesTable.id))
        .limit(limit + 1);
      const shown = rows.slice(0, limit);
      const attempts = shown.length
        ? await db
            .select()
            .from(webhookDeliveryAttemptsTable)
            .where(
              inArray(
                webhookDeliveryAttemptsTable.deliveryId,
                shown.map((row) => row.id),
              ),
            )
            .orderBy(asc(webhookDeliveryAttemptsTable.attemptedAt), asc(webhookDeliveryAttemptsTable.id))
        : [];
      return {
        deliveries: shown.map((row) => ({
          id: row.id,
          eventId: row.eventId,
          eventType: row.eventType,
          status: row.status,
          replayOf: row.replayOf,
          createdAt: row.createdAt.toISOString(),
          completedAt: row.completedAt?.toISOString() ?? null,
          attempts: attempts
            .filter((attempt) => attempt.deliveryId === row.id)
            .map((attempt) => ({
              at: attempt.attemptedAt.toISOString(),
              durationMs: attempt.durationMs,
              httpStatus: attempt.httpStatus,
              errorClass: attempt.errorClass,
            })),
        })),
        nextCursor: rows.length > limit ? encodeCursor(shown[shown.length - 1]!) : null,
      };
    },

    /**
     * Sends a delivery again, as a new delivery with the same event id and body (`replay_of` the
     * first): a receiver that already has the event recognises it. Refused while the delivery is
     * still being retried (409), or when the endpoint is disabled (409).
     */
    async replayDelivery(tenantId: string, endpointId: string, deliveryId: string) {
      const endpoint = await findEndpoint(tenantId, endpointId);
      if (!isUuid(deliveryId)) throw notFound('The delivery');
      const [original] = await db
        .select()
        .from(webhookDeliveriesTable)
        .where(
          and(
            eq(webhookDeliveriesTable.id, deliveryId),
            eq(webhookDeliveriesTable.endpointId, endpointId),
            eq(webhookDeliveriesTable.tenantId, tenantId),
          ),
        );
      if (!original) throw notFound('The delivery');
      if (!endpoint.enabled) {
        throw new ProblemError({
          status: 409,
          type: 'webhook-endpoint-disabled',
          title: 'Endpoint disabled',
          detail: 'The endpoint is disabled: enable it before replaying a delivery.',
        });
      }
      if (original.status === 'pending') {
        throw new ProblemError({
          status: 409,
          type: 'webhook-delivery-pending',
          title: 'Delivery still in progress',
          detail: 'The delivery is still being retried: replay it once it has succeeded or failed.',
        });
      }
      const [replay] = await db
        .insert(webhookDeliveriesTable)
        .values({
          id: randomUUID(),
          tenantId,
          endpointId,
          eventId: original.eventId,
          eventType: original.eventType,
          body: original.body,
          replayOf: original.id,
          createdAt: clock(),
        })
        .returning();
      await enqueue([replay!]);
      return { deliveryId: replay!.id, eventId: replay!.eventId, status: 'pending' as const };
    },

    /**
     * Records an event for every enabled endpoint of the tenant subscribed to its type and queues
     * its deliveries. Pass `db` (a transaction) to record it atomically with the caller's change:
     * the deliveries are then queued by `dispatchPending` (the sweeper) or by the caller calling
     * `dispatch(result.deliveryIds)` after its commit.
     */
    async emitWebhookEvent(
      event: WebhookEventInput,
      options: { db?: Queryable } = {},
    ): Promise<{ eventId: string; deliveryIds: string[] }> {
      const [result] = await emitWebhookEvents([event], options);
      return result!;
    },

    emitWebhookEvents,

    /** Queues deliveries recorded in a transaction, once it has committed. */
    async dispatch(deliveryIds: readonly string[]): Promise<void> {
      if (deliveryIds.length === 0) return;
      const rows = await db
        .select({
          id: webhookDeliveriesTable.id,
          tenantId: webhookDeliveriesTable.tenantId,
          endpointId: webhookDeliveriesTable.endpointId,
        })
        .from(webhookDeliveriesTable)
        .where(inArray(webhookDeliveriesTable.id, [...deliveryIds]));
      await enqueue(rows);
    },

    /**
     * The safety net (a background task): queues again pending deliveries never attempted and older
     * than `olderThanMs`. Harmless for queued ones: the job id is the delivery's, so BullMQ keeps one.
     */
    async dispatchPending(olderThanMs: number, limit = 500): Promise<number> {
      const rows = await db
        .select({
          id: webhookDeliveriesTable.id,
          tenantId: webhookDeliveriesTable.tenantId,
          endpointId: webhookDeliveriesTable.endpointId,
        })
        .from(webhookDeliveriesTable)
        .where(
          and(
            eq(webhookDeliveriesTable.status, 'pending'),
            eq(webhookDeliveriesTable.attemptCount, 0),
            lt(webhookDeliveriesTable.createdAt, new Date(clock().getTime() - olderThanMs)),
          ),
        )
        .orderBy(asc(webhookDeliveriesTable.createdAt))
        .limit(limit);
      await enqueue(rows);
      return rows.length;
    },
  };
}
