import { notFound } from '@sts/shared';
import type { FastifyInstance } from 'fastify';
import { principalOf } from '../../api-keys/api-key-auth.ts';
import { problemResponse, routeSchema, type ZodTypeProvider } from '../../http/route-schema.ts';
import { parseInvoiceListQuery, parseInvoiceSummaryQuery } from './invoice-list-query.ts';
import {
  invoiceDetailExample,
  invoiceDetailSchema,
  invoiceIdParams,
  invoiceListExample,
  invoiceListQuerystring,
  invoiceListSchema,
  invoiceLookupBody,
  invoiceLookupExample,
  invoiceLookupSchema,
  invoiceStatusSummaryExample,
  invoiceStatusSummarySchema,
  invoiceSummaryQuerystring,
} from './invoice-read-schemas.ts';
import type { InvoiceReadService } from './invoice-read-service.ts';

const unknownInvoice = () => notFound('The invoice');

/**
 * `GET /v1/invoices/:id`, `GET /v1/invoices`, `POST /v1/invoices/lookup` and `GET
 * /v1/invoices/summary` (scope `invoices:read`): the tenant's invoice events with their status, STS
 * messages (with our catalogue's explanation) and history, many at once by id, and counted. Another
 * tenant's invoice is answered as an unknown one (404, or `missing`), so ids reveal nothing across
 * tenants.
 */
export function registerInvoiceReadRoutes(
  app: FastifyInstance,
  { invoices }: { invoices: InvoiceReadService },
) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  api.get(
    '/v1/invoices/:id',
    {
      config: { requiredScopes: ['invoices:read'] },
      schema: routeSchema({
        summary: 'One invoice event: its status, STS messages and history',
        description:
          'The state of one operation on one document: identity, credential, tax year, the STS protocol and messages (verbatim, each with the explanation of our error catalogue), `late`, and the full history (`received` first, then every applied change). The patient is said to be identified or opposed only: the codice fiscale is never returned. An unknown id, or another tenant’s, is 404.',
        tags: ['Invoices'],
        operationId: 'getInvoice',
        params: invoiceIdParams,
        response: {
          200: {
            description: 'The invoice event.',
            schema: invoiceDetailSchema,
            examples: { warned: { summary: 'Accepted with a warning', value: invoiceDetailExample } },
          },
          404: problemResponse('No invoice event of this tenant has this id.', unknownInvoice(), {
            instance: `/v1/invoices/${invoiceDetailExample.id}`,
          }),
        },
      }),
    },
    async (request) => {
      const invoice = await invoices.get(principalOf(request).tenant.id, request.params.id);
      if (!invoice) throw unknownInvoice();
      return invoice;
    },
  );

  api.get(
    '/v1/invoices',
    {
      config: { requiredScopes: ['invoices:read'] },
      schema: routeSchema({
        summary: 'List invoice events, newest first, with filters',
        description:
          'Filters combine (all must hold): `status` (one or a comma list), `credentialId`, `receivedFrom` (inclusive) / `receivedTo` (exclusive), `issuedFrom` / `issuedTo` (inclusive), `taxYear`, `operation`, `vatNumber`, and `patient` (a codice fiscale, matched through a keyed hash; it is never stored nor logged). Pages are ordered by reception, newest first; pass `next` as `cursor` for the following page (`limit` 1–500, default 50). A bad value is 400, naming the field and the rule.',
        tags: ['Invoices'],
        operationId: 'listInvoices',
        querystring: invoiceListQuerystring,
        response: {
          200: {
            description: 'One page of invoice events.',
            schema: invoiceListSchema,
            examples: { page: { summary: 'A page with more after it', value: invoiceListExample } },
          },
        },
      }),
    },
    async (request) => {
      const query = parseInvoiceListQuery(request.query as Record<string, unknown>);
      return invoices.list(principalOf(request).tenant.id, query);
    },
  );

  api.post(
    '/v1/invoices/lookup',
    {
      config: { requiredScopes: ['invoices:read'] },
      schema: routeSchema({
        summary: 'Many invoice events at once, by id',
        description:
          'The status of up to 1,000 invoice events in one request (e.g. to wait for an import to be final): each found one as an item of `GET /v1/invoices`, in the order asked, and the ids not found — unknown, or another tenant’s — in `missing`. A bad id, an empty list or more than 1,000 ids is 400, naming the field (`ids.3`) and the rule.',
        tags: ['Invoices'],
        operationId: 'lookupInvoices',
        body: {
          schema: invoiceLookupBody,
          examples: { two: { summary: 'One found, one not', value: invoiceLookupExample.body } },
        },
        response: {
          200: {
            description: 'The invoice events found, and the ids not found.',
            schema: invoiceLookupSchema,
            examples: { two: { summary: 'One found, one not', value: invoiceLookupExample.answer } },
          },
        },
      }),
    },
    async (request) => invoices.lookup(principalOf(request).tenant.id, request.body.ids),
  );

  api.get(
    '/v1/invoices/summary',
    {
      config: { requiredScopes: ['invoices:read'] },
      schema: routeSchema({
        summary: 'Counts of invoice events by status, and the reasons of rejection',
        description:
          'Of the invoice events the filters select (those of the list, all of which must hold: `taxYear`, `credentialId`, `receivedFrom` (inclusive) / `receivedTo` (exclusive), `issuedFrom` / `issuedTo` (inclusive), `operation`, `vatNumber`): the total, the count of every status, how many are final and pending, when the oldest pending one was received, and the 20 most frequent STS error codes of the rejected ones, each with its text verbatim and the number of documents it rejected. A bad value is 400, naming the field and the rule.',
        tags: ['Invoices'],
        operationId: 'summarizeInvoices',
        querystring: invoiceSummaryQuerystring,
        response: {
          200: {
            description: 'The counts.',
            schema: invoiceStatusSummarySchema,
            examples: {
              taxYear: { summary: 'A tax year almost final', value: invoiceStatusSummaryExample },
            },
          },
        },
      }),
    },
    async (request) => {
      const query = parseInvoiceSummaryQuery(request.query as Record<string, unknown>);
      return invoices.summary(principalOf(request).tenant.id, query);
    },
  );
}
