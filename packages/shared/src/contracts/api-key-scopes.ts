/**
 * The gateway's public API scopes: what an API key may be allowed to do. Defined once here because
 * the gateway grants and checks them, and the product's CLI (a later issue) offers them when it
 * creates keys through the gateway's API.
 */
export const API_KEY_SCOPES = {
  /** Send invoice events (`POST /v1/invoices…`). */
  invoicesWrite: 'invoices:write',
  /** Read documents, their states and receipts (`GET /v1/invoices…`). */
  invoicesRead: 'invoices:read',
  /** Manage the tenant's STS credentials through the gateway (`/v1/credentials…`). */
  credentialsManage: 'credentials:manage',
  /** Manage the tenant's webhook endpoints and deliveries. */
  webhooksManage: 'webhooks:manage',
} as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[keyof typeof API_KEY_SCOPES];

/** Every scope, in a stable order (as `API_KEY_SCOPES` lists them). */
export const API_KEY_SCOPE_NAMES: readonly ApiKeyScope[] = Object.values(API_KEY_SCOPES);

export const isApiKeyScope = (value: string): value is ApiKeyScope =>
  (API_KEY_SCOPE_NAMES as readonly string[]).includes(value);
