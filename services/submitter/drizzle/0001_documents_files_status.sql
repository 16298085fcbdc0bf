CREATE TABLE "submitter"."documents" (
	"invoice_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"credential_id" uuid NOT NULL,
	"chain_key" text NOT NULL,
	"chain_sequence" integer NOT NULL,
	"operation" text NOT NULL,
	"document" jsonb NOT NULL,
	"state" text NOT NULL,
	"state_sequence" integer NOT NULL,
	"cause" text,
	"file_id" uuid,
	"submission_id" uuid,
	"protocol" text,
	"messages" jsonb,
	"submitting_since" timestamp with time zone,
	"received_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "documents_state" CHECK ("submitter"."documents"."state" in ('queued', 'assigned', 'submitting', 'submitted', 'uncertain', 'blocked', 'accepted', 'accepted_with_warnings', 'rejected'))
);
--> statement-breakpoint
CREATE TABLE "submitter"."files" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"credential_id" uuid NOT NULL,
	"state" text NOT NULL,
	"file_name" text NOT NULL,
	"document_count" integer NOT NULL,
	"zip_bytes" integer NOT NULL,
	"zip_proof_id" uuid,
	"protocol" text,
	"sts_received_at" text,
	"poll_round" integer DEFAULT 0 NOT NULL,
	"outcome" jsonb,
	"submitting_since" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "files_state" CHECK ("submitter"."files"."state" in ('ready', 'submitting', 'uncertain', 'received', 'completed', 'rejected', 'blocked'))
);
--> statement-breakpoint
CREATE TABLE "submitter"."status_outbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "documents_credential_state" ON "submitter"."documents" USING btree ("credential_id","state","received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "documents_chain" ON "submitter"."documents" USING btree ("tenant_id","chain_key","chain_sequence");--> statement-breakpoint
CREATE INDEX "documents_file" ON "submitter"."documents" USING btree ("file_id");--> statement-breakpoint
CREATE INDEX "documents_submitting" ON "submitter"."documents" USING btree ("state","submitting_since");--> statement-breakpoint
CREATE INDEX "files_credential_state" ON "submitter"."files" USING btree ("credential_id","state");--> statement-breakpoint
CREATE INDEX "files_protocol" ON "submitter"."files" USING btree ("tenant_id","protocol");--> statement-breakpoint
CREATE INDEX "status_outbox_created" ON "submitter"."status_outbox" USING btree ("created_at","id");