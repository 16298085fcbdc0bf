-- The gateway's own schema. Its tables (tenants, API keys, invoices, idempotency, outbox) arrive
-- with the gateway's issue, each as a migration of its own.
CREATE SCHEMA IF NOT EXISTS "gateway";
