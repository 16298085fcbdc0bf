-- The credentials service's own schema. Its tables (credentials, data keys, audit log) arrive
-- with the credentials issue, each as a migration of its own.
CREATE SCHEMA IF NOT EXISTS "credentials";
