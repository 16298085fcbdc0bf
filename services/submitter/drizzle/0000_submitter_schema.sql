-- The submitter's own schema. Its tables (documents, batches, submissions, receipts) arrive
-- with the submitter issue, each as a migration of its own.
CREATE SCHEMA IF NOT EXISTS "submitter";
