CREATE TABLE "gateway"."api_keys" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"prefix" text NOT NULL,
	"secret_hash" "bytea" NOT NULL,
	"scopes" text[] NOT NULL,
	"label" text,
	"created_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "api_keys_scopes" CHECK (cardinality("gateway"."api_keys"."scopes") >= 1 and "gateway"."api_keys"."scopes" <@ array['invoices:write', 'invoices:read', 'credentials:manage', 'webhooks:manage']::text[]),
	CONSTRAINT "api_keys_secret_hash" CHECK (octet_length("gateway"."api_keys"."secret_hash") = 32)
);
--> statement-breakpoint
ALTER TABLE "gateway"."api_keys" ADD CONSTRAINT "api_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "gateway"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_prefix" ON "gateway"."api_keys" USING btree ("prefix");--> statement-breakpoint
CREATE INDEX "api_keys_tenant" ON "gateway"."api_keys" USING btree ("tenant_id","created_at");