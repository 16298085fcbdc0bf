CREATE TABLE "credentials"."audit_log" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "credentials"."audit_log_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone NOT NULL,
	"tenant_id" text,
	"credential_id" uuid,
	"action" text NOT NULL,
	"actor_kind" text NOT NULL,
	"actor" text NOT NULL,
	"reason" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"request_id" text
);
--> statement-breakpoint
CREATE INDEX "audit_log_credential" ON "credentials"."audit_log" USING btree ("credential_id","at");--> statement-breakpoint
CREATE INDEX "audit_log_tenant" ON "credentials"."audit_log" USING btree ("tenant_id","at");