CREATE TABLE "gateway"."idempotency_keys" (
	"tenant_id" uuid NOT NULL,
	"key" text NOT NULL,
	"request_hash" "bytea",
	"state" text NOT NULL,
	"status_code" integer,
	"response" jsonb,
	"content_type" text,
	"created_at" timestamp with time zone NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "idempotency_keys_tenant_id_key_pk" PRIMARY KEY("tenant_id","key"),
	CONSTRAINT "idempotency_keys_state" CHECK ("gateway"."idempotency_keys"."state" in ('in_flight', 'done'))
);
--> statement-breakpoint
CREATE TABLE "gateway"."invoice_history" (
	"event_id" uuid PRIMARY KEY NOT NULL,
	"invoice_id" uuid NOT NULL,
	"status" text NOT NULL,
	"sequence" bigint NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"cause" text,
	"protocol" text,
	"messages" jsonb,
	"late" boolean,
	"recorded_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "gateway"."invoices" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"credential_id" uuid NOT NULL,
	"operation" text NOT NULL,
	"document_key" text NOT NULL,
	"variant" text DEFAULT '' NOT NULL,
	"chain_key" text NOT NULL,
	"chain_sequence" integer NOT NULL,
	"vat_number" text NOT NULL,
	"issue_date" date NOT NULL,
	"device" smallint NOT NULL,
	"number" text NOT NULL,
	"payment_date" date NOT NULL,
	"tax_year" smallint NOT NULL,
	"patient_hash" "bytea",
	"document" jsonb NOT NULL,
	"content_hash" "bytea" NOT NULL,
	"environment" text NOT NULL,
	"notices" jsonb,
	"status" text DEFAULT 'received' NOT NULL,
	"status_sequence" bigint DEFAULT -1 NOT NULL,
	"status_at" timestamp with time zone NOT NULL,
	"status_cause" text,
	"protocol" text,
	"messages" jsonb,
	"late" boolean,
	"received_at" timestamp with time zone NOT NULL,
	CONSTRAINT "invoices_status" CHECK ("gateway"."invoices"."status" in ('received', 'queued', 'submitting', 'submitted', 'uncertain', 'blocked', 'accepted', 'accepted_with_warnings', 'rejected')),
	CONSTRAINT "invoices_operation" CHECK ("gateway"."invoices"."operation" in ('insert', 'update', 'refund', 'cancel')),
	CONSTRAINT "invoices_patient_hash" CHECK ("gateway"."invoices"."patient_hash" is null or octet_length("gateway"."invoices"."patient_hash") = 32)
);
--> statement-breakpoint
CREATE TABLE "gateway"."outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"payload" jsonb NOT NULL,
	"documents" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "gateway"."idempotency_keys" ADD CONSTRAINT "idempotency_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "gateway"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gateway"."invoice_history" ADD CONSTRAINT "invoice_history_invoice_id_invoices_id_fk" FOREIGN KEY ("invoice_id") REFERENCES "gateway"."invoices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "gateway"."invoices" ADD CONSTRAINT "invoices_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "gateway"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "invoice_history_invoice" ON "gateway"."invoice_history" USING btree ("invoice_id","sequence");--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_identity" ON "gateway"."invoices" USING btree ("tenant_id","document_key","operation","variant");--> statement-breakpoint
CREATE UNIQUE INDEX "invoices_chain" ON "gateway"."invoices" USING btree ("tenant_id","chain_key","chain_sequence");--> statement-breakpoint
CREATE INDEX "invoices_tenant_received" ON "gateway"."invoices" USING btree ("tenant_id","received_at","id");--> statement-breakpoint
CREATE INDEX "invoices_tenant_status" ON "gateway"."invoices" USING btree ("tenant_id","status","received_at");--> statement-breakpoint
CREATE INDEX "invoices_tenant_patient" ON "gateway"."invoices" USING btree ("tenant_id","patient_hash") WHERE "gateway"."invoices"."patient_hash" is not null;--> statement-breakpoint
CREATE INDEX "outbox_created" ON "gateway"."outbox" USING btree ("created_at","id");