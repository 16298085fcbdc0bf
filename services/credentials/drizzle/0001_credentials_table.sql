CREATE TABLE "credentials"."credentials" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"label" text NOT NULL,
	"environment" text NOT NULL,
	"kind" text NOT NULL,
	"sts_user" text,
	"owner_kind" text NOT NULL,
	"owner_tax_code" text,
	"region_code" text,
	"asl_code" text,
	"ssa_code" text,
	"entratel_site_code" text,
	"vat_numbers" text[] NOT NULL,
	"sending_mode" text NOT NULL,
	"max_in_flight" integer NOT NULL,
	"requests_per_minute" integer NOT NULL,
	"status" text NOT NULL,
	"status_reason" text,
	"status_changed_at" timestamp with time zone NOT NULL,
	"secrets_version" integer DEFAULT 1 NOT NULL,
	"secret_hints" jsonb NOT NULL,
	"password_changed_at" timestamp with time zone,
	"password_validity_days" integer,
	"password_expires_at" timestamp with time zone,
	"password_warned_days" integer,
	"client_certificate" jsonb,
	"certificate_warned_days" integer,
	"last_test" jsonb,
	"last_auth_failure_at" timestamp with time zone,
	"tests_paused_until" timestamp with time zone,
	"tests_paused" text,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "credentials_environment" CHECK ("credentials"."credentials"."environment" in ('test', 'production')),
	CONSTRAINT "credentials_kind" CHECK ("credentials"."credentials"."kind" in ('basic', 'entratel', 'client-certificate')),
	CONSTRAINT "credentials_status" CHECK ("credentials"."credentials"."status" in ('untested', 'valid', 'invalid', 'password_expiring', 'expired')),
	CONSTRAINT "credentials_sending_mode" CHECK ("credentials"."credentials"."sending_mode" in ('batch', 'realtime', 'auto'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "credentials_tenant_label" ON "credentials"."credentials" USING btree ("tenant_id","label");--> statement-breakpoint
CREATE INDEX "credentials_tenant_status" ON "credentials"."credentials" USING btree ("tenant_id","status");--> statement-breakpoint
CREATE INDEX "credentials_sts_user" ON "credentials"."credentials" USING btree ("sts_user");--> statement-breakpoint
CREATE INDEX "credentials_owner_tax_code" ON "credentials"."credentials" USING btree ("owner_tax_code");