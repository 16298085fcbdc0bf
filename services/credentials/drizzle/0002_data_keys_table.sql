CREATE TABLE "credentials"."data_keys" (
	"credential_id" uuid PRIMARY KEY NOT NULL,
	"master_key_version" text NOT NULL,
	"wrapped_key" "bytea" NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"wrapped_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "credentials"."data_keys" ADD CONSTRAINT "data_keys_credential_id_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "credentials"."credentials"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "data_keys_master_key_version" ON "credentials"."data_keys" USING btree ("master_key_version");