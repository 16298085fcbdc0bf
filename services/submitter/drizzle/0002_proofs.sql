CREATE TABLE "submitter"."proofs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"kind" text NOT NULL,
	"protocol" text,
	"file_id" uuid,
	"invoice_id" uuid,
	"content_type" text NOT NULL,
	"bytes" "bytea" NOT NULL,
	"sha256" text NOT NULL,
	"size" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "proofs_kind" CHECK ("submitter"."proofs"."kind" in ('sent-zip', 'upload-answer', 'outcome-answer', 'error-detail-csv', 'receipt-pdf', 'single-document-answer', 'reconcile-answer')),
	CONSTRAINT "proofs_sha256" CHECK ("submitter"."proofs"."sha256" = encode(sha256("submitter"."proofs"."bytes"), 'hex')),
	CONSTRAINT "proofs_size" CHECK ("submitter"."proofs"."size" = octet_length("submitter"."proofs"."bytes"))
);
--> statement-breakpoint
CREATE INDEX "proofs_protocol" ON "submitter"."proofs" USING btree ("tenant_id","protocol","kind","created_at");--> statement-breakpoint
CREATE INDEX "proofs_file" ON "submitter"."proofs" USING btree ("file_id");--> statement-breakpoint
-- Proofs are kept unchanged for ten years: no UPDATE ever, no TRUNCATE, and a DELETE only of a row
-- older than ten years (the retention purge). Written by hand after the generated statements.
CREATE FUNCTION "submitter"."proofs_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' AND OLD.created_at < now() - interval '10 years' THEN
		RETURN OLD;
	END IF;
	RAISE EXCEPTION 'submitter.proofs is append-only: % refused (a proof is kept unchanged for ten years)', TG_OP
		USING ERRCODE = 'integrity_constraint_violation';
END;
$$;--> statement-breakpoint
CREATE TRIGGER "proofs_append_only" BEFORE UPDATE OR DELETE ON "submitter"."proofs"
	FOR EACH ROW EXECUTE FUNCTION "submitter"."proofs_append_only"();--> statement-breakpoint
CREATE TRIGGER "proofs_no_truncate" BEFORE TRUNCATE ON "submitter"."proofs"
	FOR EACH STATEMENT EXECUTE FUNCTION "submitter"."proofs_append_only"();
