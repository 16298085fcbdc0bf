CREATE TABLE "credentials"."leases" (
	"id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"credential_id" uuid NOT NULL,
	"secrets_version" integer NOT NULL,
	"purpose" text NOT NULL,
	"actor" text NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "leases_credential" ON "credentials"."leases" USING btree ("credential_id","issued_at");